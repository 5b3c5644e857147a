import { emitActivation } from '../activations.js';
import type { LayerConverter, LayerInfo } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { Value } from '../graph-builder.js';
import { HWIO_TO_OIHW, permuteArray, TO_NCHW, TO_NHWC, transpose } from '../layout.js';
import { type AttributeValue, attr, type Dim } from '../onnx-builder.js';

/** The pair of numbers a tfjs config holds for strides or dilation (a number means both). */
export function pair(value: unknown, name: string, layer: string): [number, number] {
  const v = Array.isArray(value) ? value : [value, value];
  if (v.length !== 2 || !v.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ExportError(
      `cannot export layer "${layer}": ${name} must be one or two positive integers, got ${JSON.stringify(value)}`,
    );
  }
  return v as [number, number];
}

/**
 * TensorFlow's "same" padding for one spatial axis: total = max((ceil(in/s) − 1)·s + k_eff − in, 0),
 * with the odd pixel at the end. Returns [begin, end].
 */
export function samePadding(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Refuses layers configured channels-first: the exporter's layout handling assumes tfjs's default. */
export function requireChannelsLast(info: LayerInfo): void {
  const format = info.config.dataFormat;
  if (format !== undefined && format !== 'channelsLast') {
    throw new ExportError(
      `cannot export layer "${info.name}": dataFormat ${String(format)} is not supported (only channelsLast)`,
    );
  }
}

/**
 * The padding attributes of a convolution or pooling over `spatial` sizes: explicit pads (all begins,
 * then all ends) for "valid", and for "same" when every size is known; otherwise ONNX's
 * auto_pad SAME_UPPER, which pads as TensorFlow does (the odd pixel at the end) at run time.
 * @throws ExportError for a padding other than "same" and "valid".
 */
export function paddingAttributes(
  info: LayerInfo,
  spatial: readonly Dim[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): Record<string, AttributeValue> {
  const padding = info.config.padding ?? 'valid';
  if (padding === 'valid') return { pads: attr.ints(new Array(2 * spatial.length).fill(0)) };
  if (padding !== 'same') {
    throw new ExportError(`cannot export layer "${info.name}": padding ${String(padding)} is not supported`);
  }
  if (!spatial.every((d) => typeof d === 'number')) return { auto_pad: attr.string('SAME_UPPER') };
  const p = spatial.map((d, i) =>
    samePadding(d as number, kernel[i] as number, strides[i] as number, dilations[i] as number),
  );
  return { pads: attr.ints([...p.map((q) => q[0]), ...p.map((q) => q[1])]) };
}

/**
 * Strides, dilations and padding attributes of a channels-last 2-D convolution (Conv2D,
 * DepthwiseConv2D, SeparableConv2D), with TensorFlow's "same" padding made explicit where the sizes
 * are known.
 * @throws ExportError for channels-first layers or an unknown padding.
 */
export function convAttributes(info: LayerInfo, x: Value, kh: number, kw: number) {
  requireChannelsLast(info);
  const strides = pair(info.config.strides ?? 1, 'strides', info.name);
  const dilations = pair(info.config.dilationRate ?? 1, 'dilationRate', info.name);
  const padding = paddingAttributes(info, x.shape.slice(1, 3), [kh, kw], strides, dilations);
  return { strides, dilations, padding };
}

/**
 * Conv2D (channels-last): Transpose to NCHW, Conv with the kernel as OIHW and explicit pads, then back
 * to NHWC (a following NCHW layer cancels that pair), then the activation.
 */
export const convertConv2D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const c = info.config;
  const [kernel, bias] = layerWeights(info);
  if (!kernel) throw new ExportError(`cannot export Conv2D layer "${info.name}": it has no kernel`);
  const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
  const { strides, dilations, padding } = convAttributes(info, x, kh, kw);
  const out = info.outputShapes[0] ?? [];
  const nchw = transpose(g, x, TO_NCHW, `${info.name}/input_nchw`);
  const wName = g.weight(
    `${info.name}/kernel`,
    [co, ci, kh, kw],
    permuteArray(kernel.data, kernel.shape, HWIO_TO_OIHW),
    0,
  );
  const bName = bias ? g.constant(`${info.name}/bias`, bias.shape, bias.data) : undefined;
  const conv = g.node(
    'Conv',
    bName ? [nchw.name, wName, bName] : [nchw.name, wName],
    [{ name: `${info.name}/conv`, shape: out.length === 4 ? TO_NCHW.map((p) => out[p] ?? null) : [] }],
    {
      name: `${info.name}/Conv`,
      attributes: {
        dilations: attr.ints(dilations),
        group: attr.int(1),
        kernel_shape: attr.ints([kh, kw]),
        ...padding,
        strides: attr.ints(strides),
      },
    },
  )[0] as Value;
  return [emitChannelsLastActivation(g, conv, String(c.activation ?? 'linear'), info.name)];
};

/**
 * Applies an activation in NCHW (element-wise, so the layout does not matter) and returns to NHWC.
 * Doing it before the Transpose keeps the back-to-back Transposes of a conv stack adjacent, so they cancel.
 */
export function emitChannelsLastActivation(
  g: Parameters<LayerConverter>[0],
  nchw: Value,
  activation: string,
  name: string,
): Value {
  const activated = emitActivation(g, activation, nchw, `${name}/activation`);
  return transpose(g, activated, TO_NHWC, name);
}
