import { emitActivation } from '../activations.js';
import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { permuteArray, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';
import { paddingAttributes } from './conv2d.js';

const SWAP = Object.freeze([0, 2, 1]);

/**
 * Conv1D (channels-last [N, L, C]): Transpose to [N, C, L], Conv with the kernel [k, in, out] as
 * [out, in, k]; "same" (also over an unknown length), "valid" and "causal" (all padding at the start) padding; back to [N, L, C].
 */
export const convertConv1D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const c = info.config;
  const [kernel, bias] = layerWeights(info);
  if (!kernel) throw new ExportError(`cannot export Conv1D layer "${info.name}": it has no kernel`);
  const [k, ci, co] = kernel.shape as [number, number, number];
  const stride = Number(Array.isArray(c.strides) ? c.strides[0] : (c.strides ?? 1));
  const dilation = Number(Array.isArray(c.dilationRate) ? c.dilationRate[0] : (c.dilationRate ?? 1));
  const padding =
    c.padding === 'causal'
      ? { pads: attr.ints([(k - 1) * dilation, 0]) }
      : paddingAttributes(info, [x.shape[1] ?? null], [k], [stride], [dilation]);
  // tfjs's [k, in, out] as ONNX's [out, in, k].
  const w = permuteArray(kernel.data, kernel.shape, [2, 1, 0]);
  const out = info.outputShapes[0] ?? [];
  const first = transpose(g, x, SWAP, `${info.name}/input_ncl`);
  const inputs_ = [first.name, g.weight(`${info.name}/kernel`, [co, ci, k], w, 0)];
  if (bias) inputs_.push(g.constant(`${info.name}/bias`, bias.shape, bias.data));
  const conv = op(
    g,
    'Conv',
    inputs_,
    `${info.name}/conv`,
    out.length === 3 ? SWAP.map((p) => out[p] ?? null) : [],
    {
      dilations: attr.ints([dilation]),
      group: attr.int(1),
      kernel_shape: attr.ints([k]),
      ...padding,
      strides: attr.ints([stride]),
    },
  );
  const activated = emitActivation(g, String(c.activation ?? 'linear'), conv, `${info.name}/activation`);
  return [transpose(g, activated, SWAP, info.name)];
};
