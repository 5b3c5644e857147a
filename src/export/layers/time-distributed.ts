import * as tf from '@tensorflow/tfjs';
import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { convertLayer, convertLayersModel } from '../export-model.js';
import type { Value } from '../graph-builder.js';
import { attr, DataType } from '../onnx-builder.js';
import { op } from '../ops.js';

/**
 * TimeDistributed: the wrapped layer applied to every step. The steps are folded into the batch
 * ([N, T, …] → [N·T, …]), the wrapped layer converted as usual (any convertible layer or model), and
 * the result unfolded to [N, T, …]; N and T may be unknown.
 */
export const convertTimeDistributed: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const inner = (info.layer as tf.layers.Layer & { layer?: tf.layers.Layer }).layer;
  if (!inner) throw new ExportError(`cannot export TimeDistributed layer "${info.name}": it wraps no layer`);
  const rest = x.shape.slice(2);
  if (!rest.every((d) => typeof d === 'number')) {
    throw new ExportError(
      `cannot export TimeDistributed layer "${info.name}": the step shape [${rest.join(', ')}] must be known`,
    );
  }
  const outShape = info.outputShapes[0] ?? [];
  const outRest = outShape.slice(2);
  if (!outRest.every((d) => typeof d === 'number')) {
    throw new ExportError(
      `cannot export TimeDistributed layer "${info.name}": the output step shape [${outRest.join(', ')}] must be known`,
    );
  }
  const [n, t] = x.shape;
  const folded = op(
    g,
    'Reshape',
    [x.name, g.int64s(`${info.name}/fold_shape`, [-1, ...(rest as number[])])],
    `${info.name}/folded`,
    [null, ...rest],
  );
  let y: Value;
  if (inner instanceof tf.LayersModel) {
    [y] = convertLayersModel(g, inner, [folded], 'dynamic') as [Value];
  } else {
    [y] = convertLayer(
      g,
      {
        layer: inner,
        name: inner.name,
        className: inner.getClassName(),
        config: inner.getConfig() as Record<string, unknown>,
        outputShapes: [[null, ...outRest]],
      },
      [folded],
    ) as [Value];
  }
  const shape = op(
    g,
    'Shape',
    [x.name],
    `${info.name}/input_shape`,
    [x.shape.length],
    {},
    undefined,
    DataType.INT64,
  );
  const lead = op(
    g,
    'Slice',
    [shape.name, g.int64s(`${info.name}/zero`, [0]), g.int64s(`${info.name}/two`, [2])],
    `${info.name}/batch_and_steps`,
    [2],
    {},
    undefined,
    DataType.INT64,
  );
  const target = op(
    g,
    'Concat',
    [lead.name, g.int64s(`${info.name}/step_shape`, outRest as number[])],
    `${info.name}/unfold_shape`,
    [2 + outRest.length],
    { axis: attr.int(0) },
    undefined,
    DataType.INT64,
  );
  return [op(g, 'Reshape', [y.name, target.name], info.name, [n ?? null, t ?? null, ...outRest])];
};
