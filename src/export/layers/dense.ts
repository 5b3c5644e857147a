import { emitActivation } from '../activations.js';
import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import type { Value } from '../graph-builder.js';

/**
 * Dense: Gemm for rank-2 inputs (one fused node), MatMul + Add for higher ranks (Dense acts on the
 * last axis), then the activation.
 */
export const convertDense: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [kernel, bias] = layerWeights(info);
  if (kernel === undefined)
    throw new ExportError(`cannot export Dense layer "${info.name}": it has no kernel`);
  const shape = info.outputShapes[0] ?? [];
  const activation = String(info.config.activation ?? 'linear');
  const pre = activation === 'linear' ? info.name : `${info.name}/pre_activation`;
  const w = g.weight(`${info.name}/kernel`, kernel.shape, kernel.data, 1);
  const b = bias === undefined ? undefined : g.constant(`${info.name}/bias`, bias.shape, bias.data);
  let y: Value;
  if (x.shape.length === 2) {
    y = g.node('Gemm', b === undefined ? [x.name, w] : [x.name, w, b], [{ name: pre, shape }], {
      name: `${info.name}/Gemm`,
    })[0] as Value;
  } else {
    const mm = `${info.name}/matmul`;
    y = g.node('MatMul', [x.name, w], [{ name: b === undefined ? pre : mm, shape }], {
      name: `${info.name}/MatMul`,
    })[0] as Value;
    if (b !== undefined)
      y = g.node('Add', [y.name, b], [{ name: pre, shape }], { name: `${info.name}/Add` })[0] as Value;
  }
  return [emitActivation(g, activation, y, info.name)];
};
