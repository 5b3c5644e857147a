import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { attr, DataType } from '../onnx-builder.js';
import { op } from '../ops.js';

/** Embedding: the float indices users feed tfjs are cast to int64, then Gather rows of the table. */
export const convertEmbedding: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [table] = layerWeights(info);
  const indices = op(
    g,
    'Cast',
    [x.name],
    `${info.name}/indices`,
    x.shape,
    { to: attr.int(DataType.INT64) },
    undefined,
    DataType.INT64,
  );
  const w = g.constant(`${info.name}/embeddings`, table?.shape ?? [], table?.data ?? new Float32Array(0));
  return [op(g, 'Gather', [w, indices.name], info.name, info.outputShapes[0] ?? [], { axis: attr.int(0) })];
};
