import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/** ThresholdedReLU: ThresholdedRelu with theta (default 1): x where x > theta, else 0. */
export const convertThresholdedReLU: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  return [
    op(g, 'ThresholdedRelu', [x.name], info.name, x.shape, {
      alpha: attr.float(Number(info.config.theta ?? 1)),
    }),
  ];
};
