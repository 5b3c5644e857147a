import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';

/** ReLU layer: plain Relu (tfjs's ReLU layer takes only maxValue; a capped one becomes Clip). */
export const convertReLU: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const maxValue = info.config.maxValue;
  const shape = info.outputShapes[0] ?? [];
  if (maxValue === null || maxValue === undefined) {
    return g.node('Relu', [x.name], [{ name: info.name, shape }], { name: `${info.name}/Relu` });
  }
  if (typeof maxValue !== 'number') {
    throw new ExportError(
      `cannot export layer "${info.name}": ReLU maxValue must be a number, got ${String(maxValue)}`,
    );
  }
  const lo = g.constant(`${info.name}/min`, [], new Float32Array([0]));
  const hi = g.constant(`${info.name}/max`, [], new Float32Array([maxValue]));
  return g.node('Clip', [x.name, lo, hi], [{ name: info.name, shape }], { name: `${info.name}/Clip` });
};
