import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { elementwise } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/** ELU layer: Elu with its alpha (default 1). */
export const convertELU: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  return [
    elementwise(g, x, info.name, (input, name) =>
      op(g, 'Elu', [input.name], name, input.shape, { alpha: attr.float(Number(info.config.alpha ?? 1)) }),
    ),
  ];
};
