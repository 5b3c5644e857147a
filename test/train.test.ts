import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../src/core/model-dir.js';
import { normalArray } from '../src/core/random.js';
import { exportVae } from '../src/export/index.js';
import { compareOutputs, runOnnx, runTfjs } from '../src/parity/runtime-parity.js';
import {
  checkpointFolder,
  type Dataset,
  loadDataset,
  readCard,
  shouldStopEarly,
  TRAINING_LOG,
  trainVae,
} from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

/** A small slice of mnist-mini, so that a few epochs take a second or two. */
async function smallDigits(count = 640): Promise<Dataset> {
  const full = await loadDataset('mnist-mini');
  const D = 784;
  return {
    name: 'mnist-mini',
    shape: full.shape,
    train: { images: full.train.images.slice(0, count * D), count },
    test: { images: full.test.images.slice(0, 200 * D), count: 200 },
  };
}

const tiny = { hiddenDim: 32, latentDim: 4, batchSize: 32, evalIw: 0, backend: 'wasm' as const };

async function weightsOf(dir: string): Promise<Buffer[]> {
  const folder = await checkpointFolder(dir);
  return ['encoder', 'decoder'].map((part) => readFileSync(join(folder, part, 'weights.bin')));
}

describe('trainVae', () => {
  for (const workers of [1, 2]) {
    test(`resume after an interruption gives the same weights as an uninterrupted run (workers ${workers})`, async () => {
      const data = await smallDigits();
      const straight = tempDir();
      await trainVae({ ...tiny, dataset: data, out: straight, epochs: 3, workers });
      const resumed = tempDir();
      await trainVae({ ...tiny, dataset: data, out: resumed, epochs: 1, workers });
      await trainVae({ ...tiny, dataset: data, out: resumed, epochs: 3, workers, resume: true });
      assert.deepEqual(await weightsOf(resumed), await weightsOf(straight));
      const log = readFileSync(join(resumed, TRAINING_LOG), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        log.map((e) => e.epoch),
        [1, 2, 3],
      );
      const card = await readCard(resumed);
      assert.equal(card.training.epochs, 3);
      assert.equal(card.training.workers, workers);
    });
  }

  test('resume refuses a run with other settings, naming the setting', async () => {
    const data = await smallDigits();
    const dir = tempDir();
    await trainVae({ ...tiny, dataset: data, out: dir, epochs: 1, workers: 1 });
    await assert.rejects(
      trainVae({ ...tiny, dataset: data, out: dir, epochs: 2, workers: 1, learningRate: 0.01, resume: true }),
      /cannot resume .*: it was trained with learningRate 0\.001, this run asks for 0\.01/,
    );
  });

  test('tfjs tensors do not leak: numTensors is the same after every epoch', async () => {
    const data = await smallDigits();
    const counts: number[] = [];
    await trainVae({
      ...tiny,
      dataset: data,
      out: tempDir(),
      epochs: 4,
      workers: 1,
      onEpoch: () => counts.push(tf.memory().numTensors),
    });
    assert.equal(counts.length, 4);
    // Adam makes its slots in the first step; from then on nothing may accumulate.
    assert.ok(
      counts.every((c) => c === counts[0]),
      `numTensors per epoch: ${counts.join(', ')}`,
    );
  });

  test('one JSON-able report per epoch with the documented fields, and a validation split', async () => {
    const data = await smallDigits();
    const reports: Record<string, unknown>[] = [];
    const result = await trainVae({
      ...tiny,
      dataset: data,
      out: tempDir(),
      epochs: 2,
      workers: 1,
      onEpoch: (e) => reports.push({ ...e }),
    });
    for (const r of reports) {
      for (const key of ['epoch', 'trainLoss', 'valNegElbo', 'examplesPerSec', 'seconds'])
        assert.equal(typeof r[key], 'number', key);
    }
    assert.equal(result.card.training.valExamples, 64);
    assert.equal(result.card.training.trainExamples, 576);
  });

  test('early stopping counts epochs since the best validation figure', () => {
    assert.equal(shouldStopEarly({ epoch: 3, valNegElbo: 100 }, 5, 2), true);
    assert.equal(shouldStopEarly({ epoch: 4, valNegElbo: 100 }, 5, 2), false);
    assert.equal(shouldStopEarly({ epoch: 1, valNegElbo: 100 }, 9, 0), false);
    assert.equal(shouldStopEarly(null, 9, 1), false);
  });

  test('KL warm-up ramps β, free bits hold KL up, and card.json records the objective', async () => {
    const data = await smallDigits();
    const betas: number[] = [];
    const result = await trainVae({
      ...tiny,
      dataset: data,
      out: tempDir(),
      epochs: 2,
      workers: 1,
      beta: 2,
      warmupEpochs: 2,
      freeBits: 0.5,
      onEpoch: (e) => betas.push(e.beta),
    });
    assert.ok(
      (betas[0] as number) > 0.9 && (betas[0] as number) < 1.1,
      `β after epoch 1 of 2 warm-up epochs: ${betas[0]}`,
    );
    assert.equal(betas[1], 2);
    assert.deepEqual(result.card.objective, { beta: 2, warmupEpochs: 2, freeBits: 0.5 });
    const reports = result.history;
    // With free bits the objective's KL term is at least latentDim · λ = 2 nats, so objective ≥ recon + 2β.
    assert.ok(reports.every((r) => r.trainObjective >= 0));
  });

  test('a Gaussian VAE with learned variance trains, exports x_hat as the mean, and runtimes agree', async () => {
    const data = await smallDigits();
    const dir = tempDir();
    const result = await trainVae({
      ...tiny,
      dataset: data,
      out: dir,
      epochs: 2,
      workers: 2,
      likelihood: 'gaussian',
      variance: 'learned',
      sigma: 0.5,
    });
    const logVariance = result.card.likelihoodParams?.logVariance as number;
    assert.equal(result.card.likelihood, 'gaussian');
    assert.ok(
      Number.isFinite(logVariance) && Math.abs(logVariance - 2 * Math.log(0.5)) > 1e-4,
      `log σ² moved: ${logVariance}`,
    );
    await exportVae(dir);
    const x = { data: data.test.images.slice(0, 3 * 784), shape: [3, 28, 28, 1] };
    const z = { data: normalArray(3 * 4, 1), shape: [3, 4] };
    const rows = compareOutputs(await runOnnx(dir, 'cpu', x, z), await runTfjs(dir, x, z));
    for (const r of rows) assert.ok(r.maxAbs <= 1e-5, `${r.tensor}: ${r.maxAbs}`);
  });

  test('the conv architecture trains and its ONNX files match tfjs', async () => {
    const data = await smallDigits(64);
    const dir = tempDir();
    const result = await trainVae({
      ...tiny,
      backend: 'auto',
      dataset: data,
      out: dir,
      epochs: 1,
      arch: 'conv',
      workers: 1,
      evalLimit: 20,
    });
    assert.equal(result.card.arch, 'conv');
    // tfjs-backend-wasm lacks Conv2DBackpropFilter; the trainer registers its own, so conv trains on wasm.
    assert.equal(result.card.training.backend, 'wasm');
    await exportVae(dir);
    const D = sizeOf(result.card.inputShape);
    const x = { data: data.test.images.slice(0, 5 * D), shape: [5, 28, 28, 1] };
    const z = { data: normalArray(5 * 4, 2), shape: [5, 4] };
    const rows = compareOutputs(await runOnnx(dir, 'cpu', x, z), await runTfjs(dir, x, z));
    for (const r of rows) assert.ok(r.maxAbs <= 1e-4, `${r.tensor}: ${r.maxAbs}`);
  });

  // Workers 2 posts the next step before the first one's loss is read: the run must still stop there.
  for (const workers of [1, 2]) {
    test(`a loss that turns non-finite stops with a message and leaves the earlier model intact (workers ${workers})`, async () => {
      const data = await smallDigits();
      const dir = tempDir();
      await trainVae({ ...tiny, dataset: data, out: dir, epochs: 1, workers: 1 });
      const card = readFileSync(join(dir, 'card.json'));
      const weights = await weightsOf(dir);
      // Values of 3e38 (finite in float32) make the squared error overflow: the first step's loss is Infinity.
      const huge = { ...data, train: { ...data.train, images: data.train.images.map(() => 3e38) } };
      await assert.rejects(
        trainVae({
          ...tiny,
          dataset: huge,
          out: dir,
          epochs: 1,
          workers,
          likelihood: 'gaussian',
          standardize: false,
          force: true,
        }),
        /cannot train: the loss became (Infinity|NaN) at epoch 1, step 1; no checkpoint was written yet/,
      );
      assert.deepEqual(readFileSync(join(dir, 'card.json')), card);
      assert.deepEqual(await weightsOf(dir), weights);
    });
  }

  test('Bernoulli training refuses data outside [0, 1], naming the value', async () => {
    const data = await smallDigits(64);
    data.train.images[5] = 3;
    await assert.rejects(
      trainVae({ ...tiny, dataset: data, out: tempDir(), epochs: 1 }),
      /value 3 at index 5 is outside \[0, 1\]/,
    );
    writeFileSync(join(tempDir(), 'x'), '');
  });
});
