import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { attr } from '../onnx-builder.js';
import { op, scalar } from '../ops.js';

/**
 * Softmax layer: Softmax on its axis (opset 13 semantics: one axis, not flattened). Given a mask (tfjs
 * passes one after Masking or Embedding with maskZero), masked positions get −1e9 added first, with
 * tfjs's broadcasting.
 */
export const convertSoftmax: LayerConverter = (g, info, inputs) => {
  let x = onlyInput(info, inputs);
  if (info.mask) {
    const off = op(
      g,
      'Sub',
      [scalar(g, `${info.name}/one`, 1), info.mask.name],
      `${info.name}/masked_out`,
      info.mask.shape,
    );
    const adder = op(
      g,
      'Mul',
      [off.name, scalar(g, `${info.name}/minus_1e9`, -1e9)],
      `${info.name}/mask_adder`,
      off.shape,
    );
    x = op(g, 'Add', [x.name, adder.name], `${info.name}/masked`, x.shape);
  }
  const axis = info.config.axis ?? -1;
  if (Array.isArray(axis) && axis.length !== 1) {
    throw new ExportError(
      `cannot export Softmax layer "${info.name}": softmax over several axes ${JSON.stringify(axis)} is not supported`,
    );
  }
  return [
    op(g, 'Softmax', [x.name], info.name, x.shape, {
      axis: attr.int(Number(Array.isArray(axis) ? axis[0] : axis)),
    }),
  ];
};
