import { emitActivation } from '../activations.js';
import type { LayerConverter, LayerInfo } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { Value } from '../graph-builder.js';
import { permuteArray, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';
import { paddingAttributes, requireChannelsLast } from './conv2d.js';
import { transposePadding } from './conv2d-transpose.js';
import { channelsFirst } from './pooling.js';

const { toFirst: TO_NCDHW, toLast: TO_NDHWC } = channelsFirst(3);
/** tfjs 3-D kernels [kd, kh, kw, a, b] to ONNX's [b, a, kd, kh, kw]. */
const DHWIO_TO_OIDHW = Object.freeze([4, 3, 0, 1, 2]);

/** Three positive integers from a tfjs config value (a number means all three). */
function triple(value: unknown, name: string, info: LayerInfo): [number, number, number] {
  const v = Array.isArray(value) ? value : [value, value, value];
  if (v.length !== 3 || !v.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ExportError(
      `cannot export layer "${info.name}": ${name} must be one or three positive integers, got ${JSON.stringify(value)}`,
    );
  }
  return v as [number, number, number];
}

/** The output of a channels-first op, turned back to channels-last after its activation. */
function finish(g: Parameters<LayerConverter>[0], info: LayerInfo, y: Value): Value {
  const activated = emitActivation(
    g,
    String(info.config.activation ?? 'linear'),
    y,
    `${info.name}/activation`,
  );
  return transpose(g, activated, TO_NDHWC, info.name);
}

/** Conv3D (channels-last [N, D, H, W, C]): NCDHW Conv with the kernel as [out, in, kd, kh, kw]. */
export const convertConv3D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  requireChannelsLast(info);
  const [kernel, bias] = layerWeights(info);
  if (!kernel) throw new ExportError(`cannot export Conv3D layer "${info.name}": it has no kernel`);
  const [kd, kh, kw, ci, co] = kernel.shape as [number, number, number, number, number];
  const strides = triple(info.config.strides ?? 1, 'strides', info);
  const dilations = triple(info.config.dilationRate ?? 1, 'dilationRate', info);
  const padding = paddingAttributes(info, x.shape.slice(1, 4), [kd, kh, kw], strides, dilations);
  const out = info.outputShapes[0] ?? [];
  const first = transpose(g, x, TO_NCDHW, `${info.name}/input_ncdhw`);
  const w = g.weight(
    `${info.name}/kernel`,
    [co, ci, kd, kh, kw],
    permuteArray(kernel.data, kernel.shape, DHWIO_TO_OIDHW),
    0,
  );
  const ins = [first.name, w];
  if (bias) ins.push(g.constant(`${info.name}/bias`, bias.shape, bias.data));
  const conv = op(
    g,
    'Conv',
    ins,
    `${info.name}/conv`,
    out.length === 5 ? TO_NCDHW.map((p) => out[p] ?? null) : [],
    {
      dilations: attr.ints(dilations),
      group: attr.int(1),
      kernel_shape: attr.ints([kd, kh, kw]),
      ...padding,
      strides: attr.ints(strides),
    },
  );
  return [finish(g, info, conv)];
};

/**
 * Conv3DTranspose (channels-last): NCDHW ConvTranspose; "same" gives out = in·stride and "valid"
 * out = (in − 1)·stride + k on each axis, as tfjs computes them.
 */
export const convertConv3DTranspose: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  requireChannelsLast(info);
  const [kernel, bias] = layerWeights(info);
  if (!kernel) throw new ExportError(`cannot export Conv3DTranspose layer "${info.name}": it has no kernel`);
  const [kd, kh, kw, co, ci] = kernel.shape as [number, number, number, number, number];
  const strides = triple(info.config.strides ?? 1, 'strides', info);
  const padding = String(info.config.padding ?? 'valid');
  if (padding !== 'same' && padding !== 'valid') {
    throw new ExportError(`cannot export layer "${info.name}": padding ${padding} is not supported`);
  }
  const spatial = x.shape.slice(1, 4);
  if (!spatial.every((d) => typeof d === 'number')) {
    throw new ExportError(
      `cannot export layer "${info.name}": Conv3DTranspose needs known depth, height and width`,
    );
  }
  const per = spatial.map((d, i) =>
    transposePadding(d as number, [kd, kh, kw][i] as number, strides[i] as number, padding),
  );
  const out = info.outputShapes[0] ?? [];
  const first = transpose(g, x, TO_NCDHW, `${info.name}/input_ncdhw`);
  const w = g.weight(
    `${info.name}/kernel`,
    [ci, co, kd, kh, kw],
    permuteArray(kernel.data, kernel.shape, DHWIO_TO_OIDHW),
    1,
  );
  const ins = [first.name, w];
  if (bias) ins.push(g.constant(`${info.name}/bias`, bias.shape, bias.data));
  const conv = op(
    g,
    'ConvTranspose',
    ins,
    `${info.name}/conv`,
    out.length === 5 ? TO_NCDHW.map((p) => out[p] ?? null) : [],
    {
      dilations: attr.ints([1, 1, 1]),
      group: attr.int(1),
      kernel_shape: attr.ints([kd, kh, kw]),
      output_padding: attr.ints(per.map((p) => p[2])),
      pads: attr.ints([...per.map((p) => p[0]), ...per.map((p) => p[1])]),
      strides: attr.ints(strides),
    },
  );
  return [finish(g, info, conv)];
};
