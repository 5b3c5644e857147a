/**
 * Writes the exporter's golden cases in the ONNX test-data layout, so any ONNX runtime in any
 * language can replay them: test/golden/<case>/model.onnx and test_data_set_0/{input_i.pb, output_i.pb},
 * the expected outputs computed by tfjs (cpu backend) on seeded inputs.
 *
 *   npm run golden   # rewrite them (after a deliberate change in what the exporter emits)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeModel, encodeTensor, exportModel } from '../src/export/index.js';
import { writeFileAtomic } from '../src/node/atomic-write.js';
import { selectBackend } from '../src/train/index.js';
import { CASES, inputData } from '../test/helpers/layer-cases.js';

/** Case name in the parity table → folder name. */
export const GOLDEN = Object.freeze({
  'Dense relu (Sequential)': 'dense-mlp',
  'two inputs, two outputs': 'two-inputs-two-outputs',
  'deep conv stack (Conv, pool, Conv, Conv2DTranspose, UpSampling, Conv)': 'conv-stack',
});

await selectBackend('cpu');
const root = join(import.meta.dirname, '..', 'test', 'golden');
for (const [caseName, folder] of Object.entries(GOLDEN)) {
  const c = CASES.find((k) => k.name === caseName);
  if (!c) throw new Error(`no parity case named "${caseName}"`);
  const model = c.build();
  const bytes = await exportModel(model, { opset: 13 });
  const graph = decodeModel(bytes).graph;
  const dir = join(root, folder);
  rmSync(dir, { recursive: true, force: true });
  await writeFileAtomic(join(dir, 'model.onnx'), bytes);
  const batch = 2;
  const inputs = inputData(c, batch);
  const outputs = tf.tidy(() => {
    const out = model.predict(inputs.map((d, k) => tf.tensor(d, [batch, ...(c.inputs[k] as number[])])));
    return (Array.isArray(out) ? out : [out]).map((t) => ({
      shape: t.shape,
      data: t.dataSync() as Float32Array,
    }));
  });
  for (const [k, data] of inputs.entries()) {
    const name = graph?.input?.[k]?.name as string;
    await writeFileAtomic(
      join(dir, 'test_data_set_0', `input_${k}.pb`),
      encodeTensor(name, [batch, ...(c.inputs[k] as number[])], data),
    );
  }
  for (const [k, out] of outputs.entries()) {
    const name = graph?.output?.[k]?.name as string;
    await writeFileAtomic(
      join(dir, 'test_data_set_0', `output_${k}.pb`),
      encodeTensor(name, out.shape, out.data),
    );
  }
  console.log(`wrote test/golden/${folder} (${inputs.length} input(s), ${outputs.length} output(s))`);
}
