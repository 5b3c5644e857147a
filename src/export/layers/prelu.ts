import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { op } from '../ops.js';

/** PReLU: PRelu with the learned slopes, shaped [*input shape without batch] so they broadcast. */
export const convertPReLU: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [alpha] = layerWeights(info);
  const slope = g.constant(`${info.name}/alpha`, alpha?.shape ?? [], alpha?.data ?? new Float32Array([0]));
  return [op(g, 'PRelu', [x.name, slope], info.name, x.shape)];
};
