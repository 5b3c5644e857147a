import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeTensor } from '../src/export/index.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';

const root = join(import.meta.dirname, 'golden');
const cases = readdirSync(root).sort();

/** Replays the golden cases (ONNX test-data layout) in onnxruntime-node, as any ONNX runtime could. */
describe('golden exporter cases', () => {
  test('there are golden cases to replay', () => {
    assert.ok(cases.length >= 3, cases.join(', '));
  });

  for (const name of cases) {
    test(name, async () => {
      const dir = join(root, name);
      const data = join(dir, 'test_data_set_0');
      const files = readdirSync(data).sort();
      const read = (prefix: string) =>
        files.filter((f) => f.startsWith(prefix)).map((f) => decodeTensor(readFileSync(join(data, f))));
      const inputs = read('input_');
      const outputs = read('output_');
      checkWithReferenceChecker(join(dir, 'model.onnx'));
      const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
      try {
        const feeds = Object.fromEntries(
          inputs.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)]),
        );
        const got = await session.run(feeds);
        for (const want of outputs) {
          const g = got[want.name]?.data as Float32Array;
          assert.equal(g.length, want.data.length, want.name);
          const worst = g.reduce((m, v, i) => Math.max(m, Math.abs(v - (want.data[i] as number))), 0);
          assert.ok(worst <= 1e-4, `${want.name}: max |Δ| ${worst}`);
        }
      } finally {
        await session.release();
      }
    });
  }
});
