import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { HWIO_TO_OIHW, permuteArray } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';
import { emitChannelsLastActivation } from './conv2d.js';
import { depthwiseConv } from './depthwise-conv2d.js';

/** SeparableConv2D: the depthwise Conv (no bias), then a 1×1 pointwise Conv with the bias, then the activation. */
export const convertSeparableConv2D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [depthwise, pointwise, bias] = layerWeights(info);
  if (!depthwise || !pointwise)
    throw new ExportError(`cannot export SeparableConv2D layer "${info.name}": kernels are missing`);
  const spatial = depthwiseConv(g, info, x, depthwise, undefined, `${info.name}/depthwise`);
  const [, , ci, co] = pointwise.shape as [number, number, number, number];
  const inputs_ = [
    spatial.name,
    g.weight(
      `${info.name}/pointwise_kernel`,
      [co, ci, 1, 1],
      permuteArray(pointwise.data, pointwise.shape, HWIO_TO_OIHW),
      0,
    ),
  ];
  if (bias) inputs_.push(g.constant(`${info.name}/bias`, bias.shape, bias.data));
  const out = info.outputShapes[0] ?? [];
  const shape = out.length === 4 ? [out[0] ?? null, co, out[1] ?? null, out[2] ?? null] : [];
  const conv = op(g, 'Conv', inputs_, `${info.name}/pointwise`, shape, { kernel_shape: attr.ints([1, 1]) });
  return [emitChannelsLastActivation(g, conv, String(info.config.activation ?? 'linear'), info.name)];
};
