import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/** Softmax layer: Softmax on its axis (opset 13 semantics: one axis, not flattened). */
export const convertSoftmax: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
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
