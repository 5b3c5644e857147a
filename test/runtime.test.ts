import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { exportVae, vaeToOnnx } from '../src/export/index.js';
import { missingCudaFiles, VaeModel } from '../src/runtime/node.js';
import { toArrays } from '../src/runtime/tensor-input.js';
import { buildMlpVae, readCard, selectBackend } from '../src/train/index.js';
import { TINY, tempDir, trainTiny } from './helpers/fixtures.js';

describe('VaeModel (Node door)', () => {
  let dir: string;
  before(async () => {
    dir = await trainTiny();
    await exportVae(dir);
  });

  test('reads names and shapes from the ONNX files', async () => {
    const model = await VaeModel.load(dir);
    try {
      assert.equal(model.backend, 'onnxruntime-node-cpu');
      assert.equal(model.latentDim, TINY.latentDim);
      assert.deepEqual(model.inputShape, [28, 28, 1]);
      assert.ok(model.hasEncoder);
    } finally {
      await model.dispose();
    }
  });

  test('inputs in shared memory are accepted (onnxruntime alone refuses them)', async () => {
    const model = await VaeModel.load(dir);
    try {
      const shared = new Float32Array(new SharedArrayBuffer(8 * TINY.latentDim * 4)).fill(0.25);
      const plain = new Float32Array(8 * TINY.latentDim).fill(0.25);
      const a = await model.decode({
        data: shared.subarray(0, 2 * TINY.latentDim),
        shape: [2, TINY.latentDim],
      });
      const b = await model.decode({
        data: plain.subarray(0, 2 * TINY.latentDim),
        shape: [2, TINY.latentDim],
      });
      assert.deepEqual(Array.from(a.data), Array.from(b.data));
    } finally {
      await model.dispose();
    }
  });

  test('runs without card.json: a decoder-only directory (as another tool would export)', async () => {
    const bare = tempDir();
    copyFileSync(join(dir, 'decoder.onnx'), join(bare, 'decoder.onnx'));
    const model = await VaeModel.load(bare);
    try {
      assert.equal(model.card, undefined);
      assert.equal(model.hasEncoder, false);
      const x = await model.decode([[0, 0, 0, 0]]);
      assert.deepEqual(x.shape, [1, 28, 28, 1]);
      await assert.rejects(model.encode([new Array(784).fill(0)]), /encode: this model has no encoder\.onnx/);
    } finally {
      await model.dispose();
    }
  });

  test('sample is reproducible: the same seed gives the same z and x, another seed does not', async () => {
    const model = await VaeModel.load(dir);
    try {
      const a = await model.sample(5, { seed: 42 });
      const b = await model.sample(5, { seed: 42 });
      const c = await model.sample(5, { seed: 43 });
      assert.deepEqual(a.z.data, b.z.data);
      assert.deepEqual(a.x.data, b.x.data);
      assert.notDeepEqual(a.z.data, c.z.data);
      assert.deepEqual(a.x.shape, [5, 28, 28, 1]);
    } finally {
      await model.dispose();
    }
  });

  test('nested arrays and { data, shape } give the same answers; large inputs are split into batches', async () => {
    const small = await VaeModel.load(dir, { maxBatch: 3 });
    const whole = await VaeModel.load(dir);
    try {
      const z = Array.from({ length: 8 }, (_, i) => [i / 8, -i / 8, 0.5, -0.25]);
      const viaArrays = await small.decode(z);
      const viaBatch = await whole.decode({ data: Float32Array.from(z.flat()), shape: [8, 4] });
      assert.deepEqual(viaArrays.data, viaBatch.data);
      const images = toArrays(viaBatch) as number[][][][];
      assert.equal(images.length, 8);
      assert.equal(images[0]?.length, 28);
      const { mu } = await whole.encode(images);
      const recon = await whole.reconstruct(images);
      assert.deepEqual(mu.shape, [8, 4]);
      assert.deepEqual(recon.shape, [8, 28, 28, 1]);
    } finally {
      await small.dispose();
      await whole.dispose();
    }
  });

  test('bad inputs name the argument, the expected and the received value', async () => {
    const model = await VaeModel.load(dir);
    try {
      await assert.rejects(
        model.decode([[1, 2, 3]]),
        /decode: each row of "z" must have 4 values, got 3 values in row 0/,
      );
      await assert.rejects(
        model.decode([
          [1, 2, 3, 4],
          [1, 2],
        ]),
        /decode: each row of "z" must have 4 values, got 2 values in row 1/,
      );
      await assert.rejects(model.decode([[1, 2, Number.NaN, 4]]), /decode: "z" holds NaN at row 0, index 2/);
      await assert.rejects(
        model.decode([[1, 2, 'a', 4]]),
        /decode: "z\[0\]\[2\]" must be a number, got string/,
      );
      await assert.rejects(model.decode([]), /decode: "z" must hold at least one example/);
      await assert.rejects(
        model.decode({ data: new Float32Array(6), shape: [2, 3] }),
        /each row of "z" must have 4 values, got shape \[2, 3\]/,
      );
      await assert.rejects(
        model.encode([new Array(783).fill(0)]),
        /encode: each row of "x" must have shape \[28, 28, 1\], got 783 values/,
      );
      await assert.rejects(model.sample(0), /sample: "n" must be a positive integer, got 0/);
    } finally {
      await model.dispose();
    }
  });

  test('a directory without decoder.onnx names the file', async () => {
    const bare = tempDir();
    await assert.rejects(
      VaeModel.load(bare),
      /cannot load .*\/decoder\.onnx: it does not exist; re-export it with: vae export /,
    );
  });

  test('a non-ONNX file and a truncated one are clear errors', async () => {
    const bad = tempDir();
    writeFileSync(join(bad, 'decoder.onnx'), 'this is not a model');
    await assert.rejects(
      VaeModel.load(bad),
      /cannot load .*\/decoder\.onnx on onnxruntime-node-cpu: .*protobuf parsing failed.*re-export it with: vae export /,
    );
    const bytes = readFileSync(join(dir, 'decoder.onnx'));
    writeFileSync(join(bad, 'decoder.onnx'), bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(VaeModel.load(bad), /cannot load .*\/decoder\.onnx on onnxruntime-node-cpu: /);
  });

  test('an encoder and a decoder whose latent sizes disagree are refused', async () => {
    await selectBackend('wasm');
    const card = await readCard(dir);
    const wide = buildMlpVae({ inputShape: [28, 28, 1], hiddenDim: 8, latentDim: 5 }, 1);
    const onnx = vaeToOnnx(wide, { ...card, latentDim: 5, hiddenDim: 8 });
    const decoder = readFileSync(join(dir, 'decoder.onnx'));
    await assert.rejects(
      VaeModel.load({ encoder: onnx.encoder, decoder }),
      /cannot load encoder\.onnx: its "mu" has 5 latent values but decoder\.onnx takes 4; the two files come from different models/,
    );
  });

  test('cuda without onnxruntime-node CUDA binaries: a clear error, or cpu with a warning when fallback is asked', async (t) => {
    if (missingCudaFiles().length === 0) {
      t.skip('onnxruntime-node has its CUDA provider files here');
      return;
    }
    await assert.rejects(
      VaeModel.load(dir, { backend: 'cuda' }),
      /cannot use backend "cuda": onnxruntime-node's CUDA provider is not installed \(missing libonnxruntime_providers_cuda\.so.*ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
    const warnings: string[] = [];
    const model = await VaeModel.load(dir, {
      backend: 'cuda',
      fallback: true,
      onWarning: (m) => warnings.push(m),
    });
    try {
      assert.equal(model.backend, 'onnxruntime-node-cpu');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] as string, /Falling back to cpu/);
    } finally {
      await model.dispose();
    }
  });

  test('an unknown backend is a TypeError naming the choices', async () => {
    await assert.rejects(
      VaeModel.load(dir, { backend: 'tpu' as 'cpu' }),
      /"backend" must be "auto", "cpu", "cuda" or "wasm" in Node, got "tpu"/,
    );
  });

  test('the wasm backend (onnxruntime-web in Node) loads and decodes', async () => {
    const model = await VaeModel.load(dir, { backend: 'wasm' });
    try {
      assert.equal(model.backend, 'onnxruntime-web-wasm-node');
      const x = await model.decode([[0.1, 0.2, 0.3, 0.4]]);
      assert.equal(x.data.length, 784);
    } finally {
      await model.dispose();
    }
  });

  test('a missing directory says so', async () => {
    const gone = join(tempDir(), 'nope');
    mkdirSync(gone);
    rmSync(gone, { recursive: true });
    await assert.rejects(VaeModel.load(gone), /cannot load .*nope: no such directory/);
  });
});

describe('VaeModel: score, interpolate, traverse', () => {
  let dir: string;
  before(async () => {
    dir = await trainTiny({ steps: 30 });
    await exportVae(dir);
  });

  test('score with K samples equals the trainer’s IWAE bound computed in tfjs with the same noise', async () => {
    const { evaluate, loadCheckpoint, loadDataset } = await import('../src/train/index.js');
    const data = await loadDataset('mnist-mini');
    const n = 20;
    const K = 16;
    const split = { images: data.test.images.slice(0, n * 784), count: n };
    const nets = await loadCheckpoint(dir);
    const report = await evaluate(nets.encoder, nets.decoder, split, [28, 28, 1], {
      batchSize: 500,
      seed: 5,
      iw: K,
    });
    const model = await VaeModel.load(dir);
    try {
      const scores = (
        await model.score(
          { data: split.images, shape: [n, 28, 28, 1] },
          { score: 'nll', samples: K, seed: 5 },
        )
      ).values;
      const mean = scores.reduce((a, b) => a + b, 0) / n;
      assert.ok(
        Math.abs(mean - (report.iwaeNll as number)) < 0.01,
        `runtime ${mean} vs tfjs ${report.iwaeNll}`,
      );
      // An anomaly scores higher than the data the model was trained on.
      const noise = Array.from({ length: 3 }, (_, i) =>
        Array.from({ length: 784 }, (_, j) => ((i * 7919 + j * 104729) % 997) / 997),
      );
      const noiseScores = (await model.score(noise, { score: 'nll', samples: 4 })).values;
      assert.ok(
        Math.min(...noiseScores) > Math.max(...scores),
        `noise ${Math.min(...noiseScores)} vs digits ${Math.max(...scores)}`,
      );
      await assert.rejects(
        model.score(noise, { samples: 0 }),
        /score: "samples" must be a positive integer, got 0/,
      );
    } finally {
      await model.dispose();
      nets.encoder.dispose();
      nets.decoder.dispose();
    }
  });

  test('interpolate: linear and spherical paths between codes, and between examples', async () => {
    const model = await VaeModel.load(dir);
    try {
      const a = [1, 0, 0, 0];
      const b = [0, 2, 0, 0];
      const lin = await model.interpolate(a, b, { steps: 3 });
      assert.deepEqual(Array.from(lin.z.data.subarray(4, 8)), [0.5, 1, 0, 0]);
      const sph = await model.interpolate(a, b, { steps: 3, method: 'spherical' });
      const mid = Array.from(sph.z.data.subarray(4, 8));
      assert.ok(Math.abs(Math.hypot(...mid) - 1.5) < 1e-6, `radius ${Math.hypot(...mid)}`);
      assert.ok(Math.abs((mid[0] as number) - (mid[1] as number)) < 1e-6, 'halfway along the arc');
      const ends = await model.decode([a, b]);
      assert.deepEqual(sph.x.data.subarray(0, 784), ends.data.subarray(0, 784));
      assert.deepEqual(sph.x.data.subarray(2 * 784), ends.data.subarray(784));
      const images = (await model.sample(2, { seed: 3 })).x.data;
      const fromExamples = await model.interpolate(images.subarray(0, 784), images.subarray(784), {
        steps: 4,
        from: 'examples',
      });
      assert.deepEqual(fromExamples.x.shape, [4, 28, 28, 1]);
      await assert.rejects(
        model.interpolate(a, [1, 2], {}),
        /interpolate: each row of "b" must have 4 values, got 2 values/,
      );
    } finally {
      await model.dispose();
    }
  });

  test('traverse sets one dimension to each value and decodes', async () => {
    const model = await VaeModel.load(dir);
    try {
      const t = await model.traverse([0.1, 0.2, 0.3, 0.4], 2, [-1, 0, 1]);
      assert.deepEqual(
        Array.from(t.z.data).map((v) => Math.round(v * 10) / 10),
        [0.1, 0.2, -1, 0.4, 0.1, 0.2, 0, 0.4, 0.1, 0.2, 1, 0.4],
      );
      assert.deepEqual(t.x.shape, [3, 28, 28, 1]);
      await assert.rejects(
        model.traverse([0, 0, 0, 0], 4),
        /traverse: "dim" must be an integer from 0 to 3, got 4/,
      );
      // The README's lines: the codes `sample` gives, traversed one after the other (9 values each).
      const { z } = await model.sample(16, { seed: 1 });
      const sweep = await model.traverse(z, 3);
      assert.deepEqual(sweep.z.shape, [16 * 9, 4]);
      assert.deepEqual(sweep.x.shape, [16 * 9, 28, 28, 1]);
      const row = (b: Float32Array, r: number) => Array.from(b.subarray(r * 4, r * 4 + 4));
      assert.deepEqual(row(sweep.z.data, 9 * 5 + 8).slice(0, 3), row(z.data, 5).slice(0, 3));
      assert.equal(row(sweep.z.data, 9 * 5 + 8)[3], 3);
      const nested = await model.traverse([row(z.data, 0), row(z.data, 1)], 0, [0]);
      assert.deepEqual(nested.z.shape, [2, 4]);
    } finally {
      await model.dispose();
    }
  });
});
