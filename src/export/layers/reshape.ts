import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';

/** Reshape: ONNX Reshape to [0, ...targetShape], where 0 keeps the (possibly symbolic) batch size. */
export const convertReshape: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const target = info.config.targetShape as number[];
  const shape = g.int64s(`${info.name}/shape`, [0, ...target]);
  return g.node('Reshape', [x.name, shape], [{ name: info.name, shape: info.outputShapes[0] ?? [] }], {
    name: `${info.name}/Reshape`,
  });
};
