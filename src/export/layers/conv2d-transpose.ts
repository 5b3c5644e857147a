import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { Value } from '../graph-builder.js';
import { HWIO_TO_OIHW, permuteArray, TO_NCHW, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { emitChannelsLastActivation, pair, requireChannelsLast } from './conv2d.js';

/**
 * Padding of one axis for tfjs's transposed convolution: "same" gives out = in·stride, "valid" gives
 * out = (in − 1)·stride + k. Returns [begin, end, output_padding] for ONNX ConvTranspose, whose output is
 * stride·(in − 1) + output_padding + k − begin − end.
 */
export function transposePadding(
  size: number,
  kernel: number,
  stride: number,
  padding: string,
): [number, number, number] {
  if (padding === 'valid') return [0, 0, 0];
  const wanted = size * stride;
  const natural = stride * (size - 1) + kernel;
  const total = natural - wanted;
  if (total >= 0) return [Math.floor(total / 2), total - Math.floor(total / 2), 0];
  return [0, 0, -total];
}

/** Conv2DTranspose (channels-last): NCHW ConvTranspose with explicit pads, back to NHWC, then the activation. */
export const convertConv2DTranspose: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const c = info.config;
  requireChannelsLast(info);
  const [kernel, bias] = layerWeights(info);
  if (!kernel) throw new ExportError(`cannot export Conv2DTranspose layer "${info.name}": it has no kernel`);
  const [kh, kw, co, ci] = kernel.shape as [number, number, number, number];
  const strides = pair(c.strides, 'strides', info.name);
  const dilations = pair(c.dilationRate ?? 1, 'dilationRate', info.name);
  if (dilations[0] !== 1 || dilations[1] !== 1) {
    throw new ExportError(`cannot export layer "${info.name}": dilated Conv2DTranspose is not supported`);
  }
  const [, h, w] = x.shape;
  if (typeof h !== 'number' || typeof w !== 'number') {
    throw new ExportError(
      `cannot export layer "${info.name}": Conv2DTranspose needs a known height and width`,
    );
  }
  const padding = String(c.padding);
  if (padding !== 'same' && padding !== 'valid') {
    throw new ExportError(`cannot export layer "${info.name}": padding ${padding} is not supported`);
  }
  const [t, b, oph] = transposePadding(h, kh, strides[0], padding);
  const [l, r, opw] = transposePadding(w, kw, strides[1], padding);
  const out = info.outputShapes[0] ?? [];
  const nchw = transpose(g, x, TO_NCHW, `${info.name}/input_nchw`);
  const wName = g.weight(
    `${info.name}/kernel`,
    [ci, co, kh, kw],
    permuteArray(kernel.data, kernel.shape, HWIO_TO_OIHW),
    1,
  );
  const bName = bias ? g.constant(`${info.name}/bias`, bias.shape, bias.data) : undefined;
  const conv = g.node(
    'ConvTranspose',
    bName ? [nchw.name, wName, bName] : [nchw.name, wName],
    [{ name: `${info.name}/conv`, shape: out.length === 4 ? TO_NCHW.map((p) => out[p] ?? null) : [] }],
    {
      name: `${info.name}/ConvTranspose`,
      attributes: {
        dilations: attr.ints([1, 1]),
        group: attr.int(1),
        kernel_shape: attr.ints([kh, kw]),
        output_padding: attr.ints([oph, opw]),
        pads: attr.ints([t, l, b, r]),
        strides: attr.ints(strides),
      },
    },
  )[0] as Value;
  return [emitChannelsLastActivation(g, conv, String(c.activation ?? 'linear'), info.name)];
};
