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
    await assert.rejects(VaeModel.load(bare), /cannot load model from .*: cannot read decoder\.onnx: ENOENT/);
  });

  test('a non-ONNX file and a truncated one are clear errors', async () => {
    const bad = tempDir();
    writeFileSync(join(bad, 'decoder.onnx'), 'this is not a model');
    await assert.rejects(
      VaeModel.load(bad),
      /cannot load model from .* on onnxruntime-node-cpu: .*protobuf parsing failed/,
    );
    const bytes = readFileSync(join(dir, 'decoder.onnx'));
    writeFileSync(join(bad, 'decoder.onnx'), bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(VaeModel.load(bad), /cannot load model from/);
  });

  test('an encoder and a decoder whose latent sizes disagree are refused', async () => {
    await selectBackend('wasm');
    const card = await readCard(dir);
    const wide = buildMlpVae({ inputShape: [28, 28, 1], hiddenDim: 8, latentDim: 5 }, 1);
    const onnx = vaeToOnnx(wide, { ...card, latentDim: 5, hiddenDim: 8 });
    const decoder = readFileSync(join(dir, 'decoder.onnx'));
    await assert.rejects(
      VaeModel.load({ encoder: onnx.encoder, decoder }),
      /the encoder's "mu" has 5 latent values but the decoder's "z" takes 4/,
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
      /"backend" must be "cpu", "cuda" or "wasm" in Node, got "tpu"/,
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
    await assert.rejects(VaeModel.load(gone), /cannot read decoder\.onnx: ENOENT/);
  });
});
