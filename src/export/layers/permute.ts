import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { transpose } from '../layout.js';

/** Permute: Transpose with the batch axis kept first (tfjs's dims count from 1). */
export const convertPermute: LayerConverter = (g, info, inputs) => {
  const dims = (info.config.dims as number[]).map(Number);
  return [transpose(g, onlyInput(info, inputs), [0, ...dims], info.name)];
};
