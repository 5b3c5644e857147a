import { emitActivation } from '../activations.js';
import type { LayerConverter, LayerInfo } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { Value } from '../graph-builder.js';
import { HWIO_TO_OIHW, permuteArray, TO_NCHW, TO_NHWC, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';

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
 * Strides, dilations and explicit [top, left, bottom, right] pads of a channels-last 2-D convolution
 * (Conv2D, DepthwiseConv2D, SeparableConv2D), with TensorFlow's "same" padding made explicit.
 * @throws ExportError for channels-first layers, an unknown padding, or "same" on unknown sizes.
 */
export function convAttributes(info: LayerInfo, x: Value, kh: number, kw: number) {
  const c = info.config;
  requireChannelsLast(info);
  const strides = pair(c.strides ?? 1, 'strides', info.name);
  const dilations = pair(c.dilationRate ?? 1, 'dilationRate', info.name);
  let pads = [0, 0, 0, 0];
  if (c.padding === 'same') {
    const [, h, w] = x.shape;
    if (typeof h !== 'number' || typeof w !== 'number') {
      throw new ExportError(
        `cannot export layer "${info.name}": "same" padding needs a known height and width`,
      );
    }
    const [t, b] = samePadding(h, kh, strides[0], dilations[0]);
    const [l, r] = samePadding(w, kw, strides[1], dilations[1]);
    pads = [t, l, b, r];
  } else if (c.padding !== 'valid') {
    throw new ExportError(
      `cannot export layer "${info.name}": padding ${String(c.padding)} is not supported`,
    );
  }
  return { strides, dilations, pads };
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
  const { strides, dilations, pads } = convAttributes(info, x, kh, kw);
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
        pads: attr.ints(pads),
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
