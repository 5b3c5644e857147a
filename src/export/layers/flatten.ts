import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import type { Value } from '../graph-builder.js';
import { attr } from '../onnx-builder.js';

/** Flatten: ONNX Flatten at axis 1 keeps the batch and flattens the rest in row-major (NHWC) order. */
export const convertFlatten: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const out = g.node('Flatten', [x.name], [{ name: info.name, shape: info.outputShapes[0] ?? [] }], {
    name: `${info.name}/Flatten`,
    attributes: { axis: attr.int(1) },
  });
  return out as Value[];
};
