import { mkdir } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { CARD_FORMAT, type ModelCard, sizeOf } from '../core/card.js';
import { createRng, permutation } from '../core/random.js';
import { PACKAGE_VERSION } from '../core/version.js';
import { type BackendName, selectBackend } from './backend.js';
import { saveCheckpoint, writeCard } from './checkpoint.js';
import { type Dataset, loadDataset } from './datasets.js';
import { negElboBernoulli, reparameterize } from './elbo.js';
import { DataError } from './errors.js';
import { evaluateElbo } from './evaluate.js';
import { applyForTraining, buildMlpVae, splitMoments, type VaeNetworks } from './model.js';

/** Progress reported after every training step. */
export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  /** Mean negative ELBO of this step's batch. */
  loss: number;
  examplesPerSec: number;
  elapsedSec: number;
  etaSec: number;
}

/** Figures reported after every epoch. */
export interface EpochReport {
  epoch: number;
  trainLoss: number;
  testNegElbo: number;
  examplesPerSec: number;
  seconds: number;
}

/** Options of `trainVae`; every field but `out` has a default in `DEFAULT_TRAIN_OPTIONS`. */
export interface TrainOptions {
  /** A dataset name for `loadDataset`, or a dataset already in memory. */
  dataset: string | Dataset;
  /** The model directory to write. */
  out: string;
  latentDim: number;
  hiddenDim: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  backend: BackendName | 'auto';
  /** Train on the first `trainLimit` examples only. */
  trainLimit?: number;
  /** Stop after this many steps in all (for smoke tests). */
  maxSteps?: number;
  /** Evaluate on the first `evalLimit` test examples only. */
  evalLimit?: number;
  /** Recorded in card.json: the command that made the model. */
  command?: string;
  onStep?: (progress: StepProgress) => void;
  onEpoch?: (report: EpochReport) => void;
}

/** Defaults: the seed's MLP (784-400-20), batch 128, Adam 1e-3, on the embedded mnist-mini. */
export const DEFAULT_TRAIN_OPTIONS = Object.freeze({
  dataset: 'mnist-mini',
  latentDim: 20,
  hiddenDim: 400,
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  seed: 0,
  backend: 'auto' as BackendName | 'auto',
});

/** What `trainVae` produced. */
export interface TrainResult {
  card: ModelCard;
  networks: VaeNetworks;
  backend: BackendName;
}

function checkOptions(o: TrainOptions): void {
  const positiveInts = ['latentDim', 'hiddenDim', 'epochs', 'batchSize'] as const;
  for (const key of positiveInts) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) {
      throw new RangeError(`trainVae: "${key}" must be a positive integer, got ${o[key]}`);
    }
  }
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate)) {
    throw new RangeError(`trainVae: "learningRate" must be a positive number, got ${o.learningRate}`);
  }
  if (!Number.isSafeInteger(o.seed))
    throw new RangeError(`trainVae: "seed" must be an integer, got ${o.seed}`);
}

/**
 * Trains the MLP VAE and writes the model directory of the contract: `card.json` and the `tfjs/`
 * checkpoint. ONNX files are written by `exportVae` from `vae-onnx/export`.
 *
 * Loss per example: Bernoulli negative log-likelihood from logits plus analytic KL to N(0, I)
 * (the negative ELBO), averaged over the batch and minimized with Adam.
 */
export async function trainVae(
  options: Partial<TrainOptions> & Pick<TrainOptions, 'out'>,
): Promise<TrainResult> {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  checkOptions(o);
  const backend = (await selectBackend(o.backend)).name;
  const data = typeof o.dataset === 'string' ? await loadDataset(o.dataset) : o.dataset;
  const D = sizeOf(data.shape);
  const trainCount = Math.min(data.train.count, o.trainLimit ?? data.train.count);
  if (trainCount < o.batchSize) {
    throw new DataError(
      `cannot train on "${data.name}": ${trainCount} training examples is fewer than one batch of ${o.batchSize}`,
    );
  }
  await mkdir(o.out, { recursive: true });

  tf.engine().startScope();
  const nets = buildMlpVae(
    { inputShape: data.shape, hiddenDim: o.hiddenDim, latentDim: o.latentDim },
    o.seed,
  );
  const optimizer = tf.train.adam(o.learningRate);
  const variables = [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights].map(
    (w) => w.read() as tf.Variable,
  );
  const rng = createRng(o.seed);
  // Drop the last partial batch, as most reference trainers do: every step sees batchSize examples.
  const stepsPerEpoch = Math.floor(trainCount / o.batchSize);
  const totalSteps = Math.min(stepsPerEpoch * o.epochs, o.maxSteps ?? Number.POSITIVE_INFINITY);
  const batch = new Float32Array(o.batchSize * D);
  const started = performance.now();
  let step = 0;
  let epochsRun = 0;
  let lastLoss = Number.NaN;
  try {
    for (let epoch = 1; epoch <= o.epochs && step < totalSteps; epoch++) {
      const epochStart = performance.now();
      const order = permutation(trainCount, rng);
      let lossSum = 0;
      let stepsThisEpoch = 0;
      for (let s = 0; s < stepsPerEpoch && step < totalSteps; s++) {
        for (let i = 0; i < o.batchSize; i++) {
          const row = order[s * o.batchSize + i] as number;
          batch.set(data.train.images.subarray(row * D, (row + 1) * D), i * D);
        }
        lastLoss = trainStep(nets, optimizer, variables, batch, data.shape, o, rng.uint32());
        if (!Number.isFinite(lastLoss)) {
          throw new DataError(`cannot train: the loss became ${lastLoss} at epoch ${epoch}, step ${s + 1}`);
        }
        lossSum += lastLoss;
        step++;
        stepsThisEpoch++;
        const elapsedSec = (performance.now() - started) / 1000;
        const examplesPerSec = (step * o.batchSize) / elapsedSec;
        o.onStep?.({
          epoch,
          epochs: o.epochs,
          step: s + 1,
          stepsPerEpoch,
          loss: lastLoss,
          examplesPerSec,
          elapsedSec,
          etaSec: ((totalSteps - step) * o.batchSize) / examplesPerSec,
        });
      }
      epochsRun = epoch;
      const seconds = (performance.now() - epochStart) / 1000;
      const test = evaluateElbo(nets.encoder, nets.decoder, data.test, data.shape, {
        batchSize: 500,
        seed: o.seed + 1,
        ...(o.evalLimit === undefined ? {} : { limit: o.evalLimit }),
      });
      o.onEpoch?.({
        epoch,
        trainLoss: lossSum / stepsThisEpoch,
        testNegElbo: test.negElbo,
        examplesPerSec: (stepsThisEpoch * o.batchSize) / seconds,
        seconds,
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const metrics = evaluateElbo(nets.encoder, nets.decoder, data.test, data.shape, {
      batchSize: 500,
      seed: o.seed + 1,
      ...(o.evalLimit === undefined ? {} : { limit: o.evalLimit }),
    });
    const card: ModelCard = {
      format: CARD_FORMAT,
      arch: 'mlp',
      inputShape: data.shape,
      latentDim: o.latentDim,
      hiddenDim: o.hiddenDim,
      likelihood: 'bernoulli',
      dataset: data.name,
      training: {
        epochs: epochsRun,
        batchSize: o.batchSize,
        learningRate: o.learningRate,
        seed: o.seed,
        steps: step,
        backend,
        seconds: round(seconds, 3),
        examplesPerSec: round((step * o.batchSize) / seconds, 1),
        trainExamples: trainCount,
      },
      metrics: {
        split: 'test',
        examples: metrics.examples,
        negElbo: round(metrics.negElbo, 4),
        recon: round(metrics.recon, 4),
        kl: round(metrics.kl, 4),
      },
      ...(o.command === undefined ? {} : { command: o.command }),
      packageVersion: PACKAGE_VERSION,
    };
    await saveCheckpoint(o.out, nets);
    await writeCard(o.out, card);
    return { card, networks: nets, backend };
  } finally {
    optimizer.dispose();
    // Keep the networks' weights alive for the caller; free every other tensor made during training.
    tf.engine().endScope(nets.encoder.weights.concat(nets.decoder.weights).map((w) => w.read()));
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function trainStep(
  nets: VaeNetworks,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  batch: Float32Array,
  shape: number[],
  o: TrainOptions,
  stepSeed: number,
): number {
  return tf.tidy(() => {
    const x = tf.tensor(batch, [o.batchSize, ...shape]);
    const eps = tf.randomNormal([o.batchSize, o.latentDim], 0, 1, 'float32', stepSeed) as tf.Tensor2D;
    const cost = optimizer.minimize(
      () => {
        const { mu, logvar } = splitMoments(applyForTraining(nets.encoder, x, true));
        const logits = applyForTraining(nets.decoder, reparameterize(mu, logvar, eps), false);
        return tf.mean(negElboBernoulli(x, logits, mu, logvar).negElbo) as tf.Scalar;
      },
      true,
      variables,
    );
    return (cost as tf.Scalar).dataSync()[0] as number;
  });
}
