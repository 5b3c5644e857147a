import { emitActivation } from '../activations.js';
import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { elementwise } from '../layout.js';

/** Activation: the named built-in activation (element-wise ones stay channels-first inside conv stacks). */
export const convertActivation: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const activation = String(info.config.activation);
  // softmax works along the last axis, so it must see the layout the layer sees.
  if (activation === 'softmax') return [emitActivation(g, activation, x, info.name)];
  return [elementwise(g, x, info.name, (input, name) => emitActivation(g, activation, input, name))];
};
