import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { decodeModel, exportModel, supportedLayerClasses } from '../src/export/index.js';
import { selectBackend } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';
import { CASES, type Case, inputData } from './helpers/layer-cases.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';

describe('exportModel: one model per layer class, checked against tfjs predict', () => {
  const dir = tempDir();
  const written: string[] = [];
  before(async () => {
    await selectBackend('cpu');
  });

  for (const [index, c] of CASES.entries()) {
    test(c.name, async () => {
      const model = c.build();
      const bytes = await exportModel(model, c.options);
      const path = join(dir, `case-${index}.onnx`);
      writeFileSync(path, bytes);
      written.push(path);
      const batch = 3;
      const data = inputData(c, batch);
      const want = tf.tidy(() => {
        const xs = data.map((d, k) => tf.tensor(d, [batch, ...(c.inputs[k] as number[])]));
        const out = c.eager
          ? model.layers.slice(1).reduce((t, layer) => layer.apply(t) as tf.Tensor, xs[0] as tf.Tensor)
          : model.predict(xs);
        return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
      });
      const session = await ort.InferenceSession.create(bytes);
      try {
        const feeds = Object.fromEntries(
          session.inputNames.map((name, k) => [
            name,
            new ort.Tensor('float32', data[k] as Float32Array, [batch, ...(c.inputs[k] as number[])]),
          ]),
        );
        const got = await session.run(feeds);
        session.outputNames.forEach((name, k) => {
          const g = got[name]?.data as Float32Array;
          const w = want[k] as Float32Array;
          assert.equal(g.length, w.length, `${name}: ${g.length} values, tfjs gives ${w.length}`);
          const worst = g.reduce((m, v, i) => Math.max(m, Math.abs(v - (w[i] as number))), 0);
          assert.ok(worst <= (c.tolerance ?? 1e-5), `${name}: max |Δ| ${worst}`);
        });
      } finally {
        await session.release();
      }
    });
  }

  test('every file above passes the reference checker (onnx.checker, full_check)', () => {
    assert.equal(written.length, CASES.length);
    checkWithReferenceChecker(...written);
  });

  test('every registered layer class has a case above', () => {
    const covered = new Set<string>();
    for (const c of CASES) for (const layer of c.build().layers) covered.add(layer.getClassName());
    const missing = supportedLayerClasses().filter((cls) => !covered.has(cls));
    assert.deepEqual(missing, []);
  });

  test('a conv stack keeps NCHW inside: exactly two Transposes, at the input and the output', async () => {
    for (const prefix of ['deep conv stack', 'Conv2D, BatchNormalization, Conv2D']) {
      const c = CASES.find((k) => k.name.startsWith(prefix)) as Case;
      const graph = decodeModel(await exportModel(c.build())).graph;
      const transposes = graph?.node?.filter((n) => n.opType === 'Transpose') ?? [];
      assert.equal(transposes.length, 2, `${prefix}: ${transposes.map((n) => n.name).join(', ')}`);
    }
  });
});
