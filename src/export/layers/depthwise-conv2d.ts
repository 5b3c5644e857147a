import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { GraphBuilder, Value } from '../graph-builder.js';
import { permuteArray, TO_NCHW, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';
import { convAttributes, emitChannelsLastActivation } from './conv2d.js';

/** tfjs's depthwise kernel [kh, kw, c, m] as a grouped Conv's [c, m, kh, kw] = [c·m, 1, kh, kw]: output channel c·m + j. */
const DEPTHWISE_TO_GROUPED = Object.freeze([2, 3, 0, 1]);

/** The grouped Conv of a depthwise convolution, in channels-first layout. */
export function depthwiseConv(
  g: GraphBuilder,
  info: Parameters<LayerConverter>[1],
  x: Value,
  kernel: { data: Float32Array; shape: number[] },
  bias: { data: Float32Array; shape: number[] } | undefined,
  name: string,
): Value {
  const [kh, kw, c, m] = kernel.shape as [number, number, number, number];
  const { strides, dilations, padding } = convAttributes(info, x, kh, kw);
  const first = transpose(g, x, TO_NCHW, `${info.name}/input_nchw`);
  const inputs = [
    first.name,
    g.weight(
      `${name}/kernel`,
      [c * m, 1, kh, kw],
      permuteArray(kernel.data, kernel.shape, DEPTHWISE_TO_GROUPED),
      0,
    ),
  ];
  if (bias) inputs.push(g.constant(`${name}/bias`, bias.shape, bias.data));
  const out = info.outputShapes[0] ?? [];
  const shape = out.length === 4 ? [out[0] ?? null, c * m, out[1] ?? null, out[2] ?? null] : [];
  return op(g, 'Conv', inputs, name, shape, {
    dilations: attr.ints(dilations),
    group: attr.int(c),
    kernel_shape: attr.ints([kh, kw]),
    ...padding,
    strides: attr.ints(strides),
  });
}

/** DepthwiseConv2D: a Conv with one group per input channel, then the activation. */
export const convertDepthwiseConv2D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [kernel, bias] = layerWeights(info);
  if (!kernel) throw new ExportError(`cannot export DepthwiseConv2D layer "${info.name}": it has no kernel`);
  const conv = depthwiseConv(g, info, x, kernel, bias, `${info.name}/depthwise`);
  return [emitChannelsLastActivation(g, conv, String(info.config.activation ?? 'linear'), info.name)];
};
