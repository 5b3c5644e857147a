import { emitActivation } from '../activations.js';
import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';

/** Activation: the named built-in activation. */
export const convertActivation: LayerConverter = (g, info, inputs) => [
  emitActivation(g, String(info.config.activation), onlyInput(info, inputs), info.name),
];
