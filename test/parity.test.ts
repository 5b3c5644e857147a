import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { exportVae } from '../src/export/index.js';
import { chromiumRunner } from '../src/parity/chromium.js';
import { checkGolden, runParity, writeGolden } from '../src/parity/parity.js';
import { trainVae } from '../src/train/index.js';
import { tempDir, trainTiny } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const vae = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
const SHIPPED = join(import.meta.dirname, '..', 'models', 'mnist-mini');

/** The parity matrix: a change that breaks one runtime fails here. */
describe('vae parity', () => {
  let mlp: string;
  let conv: string;
  before(async () => {
    mlp = await trainTiny({ steps: 10 });
    await exportVae(mlp);
    conv = tempDir();
    await trainVae({
      out: conv,
      arch: 'conv',
      latentDim: 4,
      batchSize: 32,
      epochs: 1,
      maxSteps: 3,
      evalLimit: 20,
      evalIw: 0,
      trainLimit: 256,
      backend: 'wasm',
    });
    await exportVae(conv);
  });

  test('the shipped model: every runtime present agrees with the float64 reference within 1e-5, Chromium included', async () => {
    const chromium = await chromiumRunner('wasm');
    const chromiumWebgpu = await chromiumRunner('webgpu');
    const report = await runParity(SHIPPED, {
      batch: 4,
      seed: 3,
      ...(chromium ? { chromium } : {}),
      ...(chromiumWebgpu ? { chromiumWebgpu } : {}),
    });
    // WebGPU runs where the browser has an adapter (Debian's Chromium has SwiftShader's, on the CPU);
    // without Chromium its row says why it did not.
    const webgpu = report.rows.filter((r) => r.runtime === 'onnxruntime-web-webgpu-chromium');
    assert.ok(
      webgpu.length > 0 &&
        webgpu.every(
          (r) => r.ok === true || (!existsSync('/usr/bin/chromium') && /not installed/.test(r.note ?? '')),
        ),
      JSON.stringify(webgpu),
    );
    assert.equal(report.reference, 'float64');
    assert.equal(report.ok, true, JSON.stringify(report.rows.filter((r) => r.ok === false)));
    const ran = new Set(report.rows.filter((r) => r.ok !== null).map((r) => r.runtime));
    for (const r of ['tfjs-cpu', 'tfjs-wasm', 'onnxruntime-node-cpu', 'onnxruntime-web-wasm-node'])
      assert.ok(ran.has(r), r);
    if (existsSync('/usr/bin/chromium')) {
      assert.ok(ran.has('onnxruntime-web-wasm-chromium'));
      assert.ok(ran.has('onnxruntime-web-webgpu-chromium'));
    }
  });

  for (const precision of ['fp32', 'fp16', 'int8'] as const) {
    test(`freshly trained mlp and conv models at ${precision}`, async () => {
      for (const dir of [mlp, conv]) {
        await exportVae(dir, { precision });
        const report = await runParity(dir, {
          batch: 3,
          seed: 1,
          runtimes: ['tfjs-wasm', 'onnxruntime-node-cpu', 'onnxruntime-web-wasm-node'],
        });
        assert.equal(report.precision, precision);
        assert.equal(report.reference, dir === mlp ? 'float64' : 'tfjs-cpu');
        assert.equal(
          report.ok,
          true,
          `${dir} ${precision}: ${JSON.stringify(report.rows.filter((r) => r.ok === false))}`,
        );
      }
      await exportVae(mlp);
      await exportVae(conv);
    });
  }

  test('a model without a tfjs checkpoint is compared against onnxruntime-node cpu, and says so', async () => {
    const bare = tempDir();
    copyFileSync(join(mlp, 'decoder.onnx'), join(bare, 'decoder.onnx'));
    copyFileSync(join(mlp, 'encoder.onnx'), join(bare, 'encoder.onnx'));
    const report = await runParity(bare, {
      batch: 2,
      seed: 0,
      runtimes: ['tfjs-cpu', 'onnxruntime-node-cpu', 'onnxruntime-web-wasm-node'],
    });
    assert.equal(report.reference, 'onnxruntime-node-cpu');
    assert.match(report.referenceNote ?? '', /no tfjs checkpoint/);
    assert.ok(
      report.rows.some(
        (r) => r.runtime === 'tfjs-cpu' && r.ok === null && /no tfjs checkpoint/.test(r.note ?? ''),
      ),
    );
    assert.equal(report.ok, true);
  });

  test('--json, a failing tolerance, --require and golden files through the CLI', () => {
    const json = vae('parity', mlp, '--json', '--batch', '2', '--runtimes', 'tfjs-cpu,onnxruntime-node-cpu');
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(report.rows[0]).slice(0, 6), [
      'runtime',
      'tensor',
      'maxAbs',
      'maxRel',
      'meanAbs',
      'ok',
    ]);
    const strict = vae('parity', mlp, '--tolerance', '0', '--runtimes', 'onnxruntime-node-cpu');
    assert.equal(strict.status, 1);
    assert.match(strict.stdout, /parity: FAILED/);
    const required = vae(
      'parity',
      mlp,
      '--runtimes',
      'onnxruntime-node-cpu',
      '--require',
      'onnxruntime-node-cuda',
    );
    assert.equal(required.status, 1);
    assert.match(vae('parity', mlp, '--runtimes', 'tpu').stderr, /--runtimes names unknown runtimes tpu/);
  });

  test('golden data: written in the ONNX test-data layout and replayed; a corrupted output is caught', async () => {
    const files = await writeGolden(mlp, { batch: 3, seed: 2 });
    assert.deepEqual(files.map((f) => f.slice(mlp.length + 1)).sort(), [
      'golden/decoder/test_data_set_0/input_0.pb',
      'golden/decoder/test_data_set_0/output_0.pb',
      'golden/encoder/test_data_set_0/input_0.pb',
      'golden/encoder/test_data_set_0/output_0.pb',
      'golden/encoder/test_data_set_0/output_1.pb',
    ]);
    const rows = await checkGolden(mlp);
    assert.deepEqual(rows.map((r) => r.tensor).sort(), ['logvar', 'mu', 'x_hat']);
    assert.ok(rows.every((r) => r.ok));
    assert.equal(vae('parity', mlp, '--check-golden').status, 0);
    // Overwrite x_hat with zeros: the replay must fail.
    const { encodeTensor } = await import('../src/export/index.js');
    writeFileSync(
      join(mlp, 'golden/decoder/test_data_set_0/output_0.pb'),
      encodeTensor('x_hat', [3, 28, 28, 1], new Float32Array(3 * 784)),
    );
    assert.ok((await checkGolden(mlp)).some((r) => r.ok === false));
  });
});
