import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { exportVae } from '../src/export/export-dir.js';
import { VaeModel } from '../src/runtime/node.js';
import { iwaeNll, loadCheckpoint, loadDataset, selectBackend } from '../src/train/index.js';
import { iwaeNllWithModel } from '../src/train/iwae-onnx.js';
import { trainTiny } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

describe('vae eval', () => {
  let dir: string;
  before(async () => {
    dir = await trainTiny({ steps: 30 });
    await exportVae(dir);
  });

  test('the IWAE bound through onnxruntime equals the tfjs one on the same noise, within 0.05 nats', async () => {
    await selectBackend('wasm');
    const data = await loadDataset('mnist-mini');
    const options = { batchSize: 500, seed: 9, limit: 40 };
    const k = 300; // 13 examples per chunk: four chunks, each with its own seed
    const nets = await loadCheckpoint(dir);
    let tfjs: number;
    try {
      tfjs = await iwaeNll(nets.encoder, nets.decoder, data.test, data.shape, k, options);
    } finally {
      nets.encoder.dispose();
      nets.decoder.dispose();
    }
    const model = await VaeModel.load(dir);
    try {
      const onnx = await iwaeNllWithModel(model, data.test, k, options);
      assert.ok(Math.abs(onnx - tfjs) < 0.05, `onnxruntime ${onnx} vs tfjs ${tfjs}`);
      // Other noise gives another estimate: the agreement is not by construction.
      const other = await iwaeNllWithModel(model, data.test, k, { ...options, seed: 10 });
      assert.notEqual(other, onnx);
    } finally {
      await model.dispose();
    }
  });

  test('defaults a user can wait for: the ELBO over the whole split, the IWAE bound on the first N', async () => {
    const testCount = (await loadDataset('mnist-mini')).test.count;
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'eval', dir, '--iw', '20', '--iw-limit', '30', '--json'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(report.examples, testCount, 'the whole test split of mnist-mini');
    assert.equal(report.iwExamples, 30);
    assert.equal(report.iwRuntime, 'onnxruntime-node-cpu');
    assert.ok(Number.isFinite(report.iwaeNll) && (report.iwaeNll as number) > 0, String(report.iwaeNll));
    assert.equal(r.stderr.trim(), '', 'no progress lines when stderr is not a terminal and --json is given');
  });
});
