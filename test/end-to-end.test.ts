import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sizeOf } from '../src/core/model-dir.js';
import { normalArray } from '../src/core/random.js';
import { exportVae } from '../src/export/index.js';
import { compareOutputs, runOnnx, runTfjs } from '../src/parity/runtime-parity.js';
import { loadDataset, readCard } from '../src/train/index.js';
import { trainTiny } from './helpers/fixtures.js';

const TOLERANCE = 1e-5;

describe('train → export → run: tfjs, onnxruntime-node and onnxruntime-web agree', () => {
  let dir: string;
  before(async () => {
    dir = await trainTiny({ steps: 8 });
    await exportVae(dir);
  });

  for (const batch of [1, 7]) {
    test(`batch ${batch}: encoder (mu, logvar) and decoder (x_hat) within ${TOLERANCE}`, async () => {
      const card = await readCard(dir);
      const data = await loadDataset('mnist-mini');
      const D = sizeOf(card.inputShape);
      const x = {
        data: data.test.images.slice(100 * D, (100 + batch) * D),
        shape: [batch, ...card.inputShape],
      };
      const z = { data: normalArray(batch * card.latentDim, batch), shape: [batch, card.latentDim] };
      const tfjs = await runTfjs(dir, x, z);
      const node = await runOnnx(dir, 'cpu', x, z);
      const web = await runOnnx(dir, 'wasm', x, z);
      assert.equal(node.runtime, 'onnxruntime-node-cpu');
      assert.equal(web.runtime, 'onnxruntime-web-wasm-node');
      for (const out of [tfjs, node, web]) {
        assert.equal(out.mu.length, batch * card.latentDim);
        assert.equal(out.x_hat.length, batch * D);
      }
      const rows = [
        ...compareOutputs(node, tfjs),
        ...compareOutputs(web, tfjs),
        ...compareOutputs(web, node),
      ];
      for (const r of rows) {
        assert.ok(r.maxAbs <= TOLERANCE, `${r.runtime} vs ${r.reference} on ${r.tensor}: ${r.maxAbs}`);
      }
      // The comparison is not vacuous: the outputs vary across examples and lie in (0, 1).
      assert.ok(node.x_hat.every((v) => v > 0 && v < 1));
      assert.ok(new Set(node.mu).size > 1);
    });
  }
});
