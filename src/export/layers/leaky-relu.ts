import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/** LeakyReLU: LeakyRelu with tfjs's alpha (default 0.3). */
export const convertLeakyReLU: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  return [
    op(g, 'LeakyRelu', [x.name], info.name, x.shape, { alpha: attr.float(Number(info.config.alpha ?? 0.3)) }),
  ];
};
