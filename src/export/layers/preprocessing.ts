/**
 * The preprocessing layers tfjs-layers 4.22 deserializes: Rescaling, Resizing, CenterCrop,
 * CategoryEncoding and RandomWidth, each computing what tfjs's `predict` computes (facts from
 * tfjs-layers' preprocessing/*.js), with two exceptions said where they apply.
 */
import type { LayerConverter, LayerInfo } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { GraphBuilder, Value } from '../graph-builder.js';
import { attr, DataType } from '../onnx-builder.js';
import { op, reduce, scalar } from '../ops.js';
import {
  bilinear,
  bilinearAxis,
  cropNearestAxis,
  gatherAxis,
  knownImageSize,
  nearestAxis,
} from './resample.js';

/** Rescaling: x · scale + offset. */
export const convertRescaling: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const scaled = op(
    g,
    'Mul',
    [x.name, scalar(g, `${info.name}/scale`, Number(info.config.scale))],
    `${info.name}/scaled`,
    x.shape,
  );
  return [
    op(
      g,
      'Add',
      [scaled.name, scalar(g, `${info.name}/offset`, Number(info.config.offset ?? 0))],
      info.name,
      x.shape,
    ),
  ];
};

function resize(
  g: GraphBuilder,
  info: LayerInfo,
  x: Value,
  [h, w]: [number, number],
  [outH, outW]: [number, number],
  mode: string,
  alignCorners: boolean,
): Value {
  if (mode === 'nearest') {
    const rows = gatherAxis(g, x, 1, nearestAxis(h, outH, alignCorners), `${info.name}/rows`);
    return gatherAxis(g, rows, 2, nearestAxis(w, outW, alignCorners), info.name);
  }
  if (mode !== 'bilinear') {
    throw new ExportError(`cannot export layer "${info.name}": interpolation ${mode} is not supported`);
  }
  return bilinear(
    g,
    x,
    bilinearAxis(h, outH, alignCorners),
    bilinearAxis(w, outW, alignCorners),
    [1, 2],
    info.name,
  );
}

/**
 * Resizing to [height, width], bilinear or nearest. tfjs 4.22 passes `!cropToAspectRatio` as
 * alignCorners, so by default it resizes with corners aligned (and never crops); the export does
 * the same.
 */
export const convertResizing: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const size = knownImageSize(info, x);
  const c = info.config;
  return [
    resize(
      g,
      info,
      x,
      size,
      [Number(c.height), Number(c.width)],
      String(c.interpolation ?? 'bilinear'),
      c.cropToAspectRatio !== true,
    ),
  ];
};

/**
 * CenterCrop to [height, width]: a larger image is cut with tfjs's cropAndResize ("nearest") box
 * (tfjs starts one column in when the width differs by one); a smaller one in either axis is
 * resized bilinearly instead, as tfjs does.
 */
export const convertCenterCrop: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [h, w] = knownImageSize(info, x);
  const height = Number(info.config.height);
  const width = Number(info.config.width);
  const hBuffer = h !== height ? Math.floor((h - height) / 2) : 0;
  let wBuffer = w !== width ? Math.floor((w - width) / 2) : 0;
  if (w !== width && wBuffer === 0) wBuffer = 1;
  if (hBuffer < 0 || wBuffer < 0) return [resize(g, info, x, [h, w], [height, width], 'bilinear', false)];
  const rows = cropNearestAxis(h, height, hBuffer / h, (height + hBuffer) / h);
  const cols = cropNearestAxis(w, width, wBuffer / w, (width + wBuffer) / w);
  return [gatherAxis(g, gatherAxis(g, x, 1, rows, `${info.name}/rows`), 2, cols, info.name)];
};

/**
 * CategoryEncoding: token ids (cast to integers as tfjs does) counted per example over numTokens
 * bins: "count" gives counts, "multiHot" and "oneHot" cap them at 1. One-hot takes one id per
 * example ([N] or [N, 1]); the others take [N, k]. Ids outside [0, numTokens) count nowhere.
 */
export const convertCategoryEncoding: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const mode = String(info.config.outputMode ?? 'multiHot');
  const depth = Number(info.config.numTokens);
  if (!['oneHot', 'multiHot', 'count'].includes(mode)) {
    throw new ExportError(
      `cannot export CategoryEncoding layer "${info.name}": outputMode ${mode} is not supported (oneHot, multiHot, count)`,
    );
  }
  let ids = x;
  if (mode === 'oneHot' && x.shape.length === 1) {
    ids = op(g, 'Unsqueeze', [x.name, g.int64s(`${info.name}/axes`, [1])], `${info.name}/column`, [
      x.shape[0] ?? null,
      1,
    ]);
  }
  if (ids.shape.length !== 2 || (mode === 'oneHot' && ids.shape[1] !== 1)) {
    throw new ExportError(
      `cannot export CategoryEncoding layer "${info.name}": outputMode ${mode} needs ids of shape ${mode === 'oneHot' ? '[N] or [N, 1]' : '[N, k]'}, got [${x.shape.join(', ')}]`,
    );
  }
  const n = ids.shape[0] ?? null;
  const k = ids.shape[1] ?? null;
  const int = op(
    g,
    'Cast',
    [ids.name],
    `${info.name}/ids`,
    ids.shape,
    { to: attr.int(DataType.INT64) },
    undefined,
    DataType.INT64,
  );
  const column = op(
    g,
    'Unsqueeze',
    [int.name, g.int64s(`${info.name}/last`, [2])],
    `${info.name}/ids_column`,
    [n, k, 1],
    {},
    undefined,
    DataType.INT64,
  );
  const bins = g.constant(
    `${info.name}/bins`,
    [depth],
    BigInt64Array.from({ length: depth }, (_, i) => BigInt(i)),
  );
  const hit = op(
    g,
    'Equal',
    [column.name, bins],
    `${info.name}/hit`,
    [n, k, depth],
    {},
    undefined,
    DataType.BOOL,
  );
  const hits = op(g, 'Cast', [hit.name], `${info.name}/hits`, [n, k, depth], {
    to: attr.int(DataType.FLOAT),
  });
  const counts = reduce(g, mode === 'count' ? 'ReduceSum' : 'ReduceMax', hits, [1], false, info.name, [
    n,
    depth,
  ]);
  return [counts];
};

/**
 * RandomWidth: the identity. It is a training-time augmentation (Keras applies it only in
 * training); tfjs 4.22 resizes by a random factor in `predict` too, which no fixed graph can
 * reproduce. With factor [0, 0] tfjs's output equals its input, which is what the parity case checks.
 */
export const convertRandomWidth: LayerConverter = (_g, info, inputs) => [onlyInput(info, inputs)];
