import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CARD_FORMAT, type ModelCard, sizeOf } from '../core/card.js';
import { createRng, deriveSeed, permutation } from '../core/random.js';
import { PACKAGE_VERSION } from '../core/version.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { type BackendName, kernelsFor, selectBackend } from './backend.js';
import {
  loadCheckpoint,
  loadTrainingState,
  saveCheckpoint,
  type TrainingState,
  writeCard,
} from './checkpoint.js';
import { loadDataset, type Split } from './datasets.js';
import type { LikelihoodSpec } from './elbo.js';
import { DataError } from './errors.js';
import { evaluate, evaluateElbo } from './evaluate.js';
import { buildVae, type VaeNetworks } from './model.js';
import { betaAt, type ObjectiveSettings } from './objective.js';
import {
  checkTrainOptions,
  DEFAULT_TRAIN_OPTIONS,
  type EpochReport,
  runIdentity,
  type TrainOptions,
} from './options.js';
import { adamShare, adamWeightsFrom, assignFlat, sharedStateFrom } from './parallel/adam.js';
import { autoWorkers, type SharedState, WorkerPool } from './parallel/coordinator.js';
import { flattenGradients, lossAndGrads, trainableVariables } from './step.js';

/** What `trainVae` produced. */
export interface TrainResult {
  card: ModelCard;
  networks: VaeNetworks;
  backend: BackendName;
  history: EpochReport[];
}

/** The training log next to card.json: one JSON line per epoch. */
export const TRAINING_LOG = 'training-log.jsonl';

/** Copies the rows `indices` of `source` into a new contiguous split. */
function gatherSplit(source: Split, indices: Uint32Array, size: number): Split {
  const images = new Float32Array(indices.length * size);
  indices.forEach((row, i) => {
    images.set(source.images.subarray(row * size, (row + 1) * size), i * size);
  });
  return { images, count: indices.length };
}

/**
 * Early stopping: true once `patience` epochs have passed since the best validation neg-ELBO
 * (the same noise is drawn for validation every epoch, so epochs compare fairly). Patience 0 never stops.
 */
export function shouldStopEarly(best: TrainingState['best'], epoch: number, patience: number): boolean {
  return patience > 0 && best !== null && epoch - best.epoch >= patience;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function checkResumable(saved: Record<string, unknown>, wanted: Record<string, unknown>, out: string): void {
  for (const [key, value] of Object.entries(wanted)) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(value)) {
      throw new DataError(
        `cannot resume ${out}: it was trained with ${key} ${JSON.stringify(saved[key])}, this run asks for ${JSON.stringify(value)}`,
      );
    }
  }
}

/**
 * Trains a VAE and writes the model directory of the contract: `card.json`, the `tfjs/` checkpoint
 * (after every epoch, with the optimizer state, so `resume` continues exactly) and
 * `training-log.jsonl`. ONNX files are written by `exportVae` from `vae-onnx/export`.
 *
 * Per example the loss is the negative ELBO: −log p(x|z) for one reparameterized z ~ q(z|x) plus the
 * analytic KL(q(z|x) || N(0, I)); β, KL warm-up and free bits reshape the KL term. Adam minimizes its
 * batch mean. Epoch orders and noise are derived from the seed and the epoch or step number, so a
 * resumed run computes what an uninterrupted one would.
 * @throws DataError for unusable data, a checkpoint that does not match, or a loss that turns NaN
 *   (the last good checkpoint stays in place).
 */
export async function trainVae(
  options: Partial<TrainOptions> & Pick<TrainOptions, 'out'>,
): Promise<TrainResult> {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  checkTrainOptions(o);
  const backend = (await selectBackend(o.backend, { kernels: kernelsFor(o.arch) })).name;
  const data = typeof o.dataset === 'string' ? await loadDataset(o.dataset, o.datasetOptions) : o.dataset;
  const D = sizeOf(data.shape);
  if (o.likelihood === 'bernoulli') {
    const bad = data.train.images.findIndex((v) => v < 0 || v > 1);
    if (bad >= 0) {
      throw new DataError(
        `cannot train a Bernoulli VAE on "${data.name}": value ${data.train.images[bad]} at index ${bad} is outside [0, 1]; use --likelihood gaussian`,
      );
    }
  }
  const usable = Math.min(data.train.count, o.trainLimit ?? data.train.count);
  const valCount = Math.floor(usable * o.valFraction);
  const split = permutation(usable, createRng(deriveSeed(o.seed, 0x7a1)));
  const fitRows = split.subarray(valCount);
  const val = valCount > 0 ? gatherSplit(data.train, split.subarray(0, valCount), D) : undefined;
  if (fitRows.length < o.batchSize) {
    throw new DataError(
      `cannot train on "${data.name}": ${fitRows.length} training examples is fewer than one batch of ${o.batchSize}`,
    );
  }
  const workers = o.workers === 'auto' ? autoWorkers(backend, o.batchSize) : o.workers;
  if (o.batchSize % workers !== 0) {
    throw new RangeError(`trainVae: "batchSize" ${o.batchSize} must split evenly across ${workers} workers`);
  }
  const identity = { ...runIdentity(o, data.name), workers };
  await mkdir(o.out, { recursive: true });

  let nets: VaeNetworks;
  let history: EpochReport[] = [];
  let best: TrainingState['best'] = null;
  let epochsDone = 0;
  let globalStep = 0;
  let savedLogVariance: number | undefined;
  let optimizerWeights: { name: string; tensor: tf.Tensor }[] | undefined;
  if (o.resume) {
    const saved = await loadTrainingState(o.out);
    checkResumable(saved.state.config, identity, o.out);
    nets = await loadCheckpoint(o.out);
    history = saved.state.history as unknown as EpochReport[];
    best = saved.state.best;
    epochsDone = saved.state.epochsDone;
    globalStep = saved.state.globalStep;
    savedLogVariance = saved.state.logVariance;
    optimizerWeights = saved.optimizerWeights;
  } else {
    nets = buildVae(
      o.arch,
      { inputShape: data.shape, hiddenDim: o.hiddenDim, latentDim: o.latentDim },
      o.seed,
    );
  }
  const learnVariance = o.likelihood === 'gaussian' && o.variance === 'learned';
  const logVariance =
    o.likelihood === 'gaussian'
      ? tf.variable(
          tf.scalar(savedLogVariance ?? 2 * Math.log(o.sigma)),
          learnVariance,
          `likelihood_log_variance_${o.seed}`,
        )
      : undefined;
  const likelihood: LikelihoodSpec =
    logVariance === undefined
      ? { kind: 'bernoulli' }
      : { kind: 'gaussian', logVariance: logVariance as tf.Variable<tf.Rank.R0> };
  const variables = trainableVariables(nets, learnVariance && logVariance ? [logVariance] : []);
  let pool: WorkerPool | undefined;
  if (workers > 1) {
    pool = await WorkerPool.start(
      {
        workers,
        arch: o.arch,
        inputShape: data.shape,
        hiddenDim: o.hiddenDim,
        latentDim: o.latentDim,
        seed: o.seed,
        learningRate: o.learningRate,
        likelihood: o.likelihood,
        learnVariance,
        logVariance: logVariance ? (logVariance.dataSync()[0] as number) : 0,
        freeBits: o.freeBits,
        batchSize: o.batchSize,
        images: data.train.images.subarray(0, usable * D),
      },
      sharedStateFrom(variables, optimizerWeights),
    );
  }
  // Without workers, the main thread runs the same Adam on ordinary arrays. (tf.train.adam is not used:
  // after a restore it recomputes β^t with pow() where a running product was used, so a resumed
  // run would drift from an uninterrupted one in the last bits.)
  const adam = pool ? undefined : sharedStateFrom(variables, optimizerWeights);
  const gradients = new Float32Array(pool ? 0 : variables.reduce((n, v) => n + v.size, 0));
  if (optimizerWeights) tf.dispose(optimizerWeights.map((w) => w.tensor));

  const stepsPerEpoch = Math.floor(fitRows.length / o.batchSize);
  const warmupSteps = Math.round(o.warmupEpochs * stepsPerEpoch);
  const plannedSteps = stepsPerEpoch * o.epochs;
  const stopAt = Math.min(plannedSteps, o.maxSteps ?? Number.POSITIVE_INFINITY);
  const batch = new Float32Array(o.batchSize * D);
  const batchRows = new Uint32Array(o.batchSize);
  const evalBase = {
    batchSize: 500,
    likelihood,
    ...(o.evalLimit === undefined ? {} : { limit: o.evalLimit }),
  };
  const runStart = performance.now();
  const runStartStep = globalStep;
  let stoppedEarly = false;
  const checkpointState = (): Omit<TrainingState, 'optimizerSpecs'> => ({
    format: 'vae-onnx/training-state@1',
    epochsDone,
    globalStep,
    config: identity,
    history: history as unknown as Record<string, number | null>[],
    best,
    ...(logVariance ? { logVariance: logVariance.dataSync()[0] as number } : {}),
  });

  try {
    for (let epoch = epochsDone + 1; epoch <= o.epochs && globalStep < stopAt; epoch++) {
      const epochStart = performance.now();
      const order = permutation(fitRows.length, createRng(deriveSeed(o.seed, 0xe90c, epoch)));
      let negElboSum = 0;
      let objectiveSum = 0;
      let steps = 0;
      let beta = betaAt(globalStep, o.beta, warmupSteps);
      for (let s = 0; s < stepsPerEpoch && globalStep < stopAt; s++) {
        for (let i = 0; i < o.batchSize; i++)
          batchRows[i] = fitRows[order[s * o.batchSize + i] as number] as number;
        beta = betaAt(globalStep, o.beta, warmupSteps);
        const stepSeed = deriveSeed(o.seed, 0x5e9, globalStep);
        let result: { objective: number; negElbo: number };
        if (pool) {
          result = await pool.step(batchRows, stepSeed, beta);
        } else {
          batchRows.forEach((row, i) => {
            batch.set(data.train.images.subarray(row * D, (row + 1) * D), i * D);
          });
          result = trainStep(
            nets,
            adam as SharedState,
            gradients,
            variables,
            batch,
            data.shape,
            o.learningRate,
            o.latentDim,
            stepSeed,
            {
              likelihood,
              beta,
              freeBits: o.freeBits,
            },
          );
        }
        if (!Number.isFinite(result.objective) || !Number.isFinite(result.negElbo)) {
          const kept =
            epochsDone > 0
              ? `the checkpoint of epoch ${epochsDone} is kept in ${join(o.out, 'tfjs')}`
              : 'no checkpoint was written yet';
          throw new DataError(
            `cannot train: the loss became ${result.objective} at epoch ${epoch}, step ${s + 1}; ${kept}. Try a lower learning rate.`,
          );
        }
        negElboSum += result.negElbo;
        objectiveSum += result.objective;
        steps++;
        globalStep++;
        const elapsedSec = (performance.now() - runStart) / 1000;
        const examplesPerSec = ((globalStep - runStartStep) * o.batchSize) / elapsedSec;
        o.onStep?.({
          epoch,
          epochs: o.epochs,
          step: s + 1,
          stepsPerEpoch,
          loss: result.negElbo,
          examplesPerSec,
          elapsedSec,
          etaSec: ((stopAt - globalStep) * o.batchSize) / examplesPerSec,
        });
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const trained = pool ? pool.state() : (adam as SharedState);
      // The workers hold the weights; bring the main thread's copy up to date for evaluation and the checkpoint.
      if (pool) assignFlat(variables, trained.weights);
      const optimizerState = adamWeightsFrom(variables, trained);
      const valNegElbo = val
        ? evaluateElbo(nets.encoder, nets.decoder, val, data.shape, {
            ...evalBase,
            seed: deriveSeed(o.seed, 0xa1),
          }).negElbo
        : null;
      const report: EpochReport = {
        epoch,
        trainLoss: negElboSum / steps,
        trainObjective: objectiveSum / steps,
        valNegElbo,
        beta,
        examplesPerSec: (steps * o.batchSize) / seconds,
        seconds,
      };
      history.push(report);
      epochsDone = epoch;
      if (valNegElbo !== null && (best === null || valNegElbo < best.valNegElbo))
        best = { epoch, valNegElbo };
      await saveCheckpoint(o.out, nets, { state: checkpointState(), optimizerWeights: optimizerState });
      tf.dispose(optimizerState.map((w) => w.tensor));
      await writeFileAtomic(
        join(o.out, TRAINING_LOG),
        `${history.map((h) => JSON.stringify(h)).join('\n')}\n`,
      );
      o.onEpoch?.(report);
      if (shouldStopEarly(best, epoch, o.patience)) {
        stoppedEarly = true;
        break;
      }
    }
    const test = evaluate(nets.encoder, nets.decoder, data.test, data.shape, {
      ...evalBase,
      seed: deriveSeed(o.seed, 0x7e57),
      iw: o.evalIw,
      iwLimit: o.evalIwLimit,
    });
    const seconds = history.reduce((t, h) => t + h.seconds, 0);
    const card: ModelCard = {
      format: CARD_FORMAT,
      arch: o.arch,
      inputShape: data.shape,
      latentDim: o.latentDim,
      hiddenDim: o.hiddenDim,
      likelihood: o.likelihood,
      ...(logVariance
        ? {
            likelihoodParams: {
              variance: o.variance,
              logVariance: round(logVariance.dataSync()[0] as number, 6),
            },
          }
        : {}),
      objective: { beta: o.beta, warmupEpochs: o.warmupEpochs, freeBits: o.freeBits },
      dataset: data.name,
      training: {
        epochs: epochsDone,
        batchSize: o.batchSize,
        learningRate: o.learningRate,
        seed: o.seed,
        steps: globalStep,
        backend,
        seconds: round(seconds, 3),
        examplesPerSec: seconds > 0 ? round((globalStep * o.batchSize) / seconds, 1) : 0,
        trainExamples: fitRows.length,
        valExamples: valCount,
        workers,
        stoppedEarly,
      },
      metrics: {
        split: 'test',
        examples: test.examples,
        negElbo: round(test.negElbo, 4),
        recon: round(test.recon, 4),
        kl: round(test.kl, 4),
        iwaeNll: test.iwaeNll === null ? null : round(test.iwaeNll, 4),
        iw: test.iw,
        iwExamples: test.iwExamples,
        activeUnits: test.activeUnits,
      },
      ...(o.command === undefined ? {} : { command: o.command }),
      packageVersion: PACKAGE_VERSION,
    };
    await writeCard(o.out, card);
    return { card, networks: nets, backend, history };
  } finally {
    await pool?.close();
    logVariance?.dispose();
  }
}

function trainStep(
  nets: VaeNetworks,
  adam: SharedState,
  gradients: Float32Array,
  variables: tf.Variable[],
  batch: Float32Array,
  shape: number[],
  learningRate: number,
  latentDim: number,
  seed: number,
  settings: ObjectiveSettings,
): { objective: number; negElbo: number } {
  const result = tf.tidy(() => {
    const n = batch.length / sizeOf(shape);
    const x = tf.tensor(batch, [n, ...shape]);
    const eps = tf.randomNormal([n, latentDim], 0, 1, 'float32', seed) as tf.Tensor2D;
    const r = lossAndGrads(nets, variables, x, eps, settings);
    flattenGradients(r.grads, variables, gradients);
    return { objective: r.objective.dataSync()[0] as number, negElbo: r.negElbo };
  });
  adam.t += 1;
  adamShare(
    gradients,
    1,
    gradients.length,
    0,
    gradients.length,
    adam.firstMoment,
    adam.secondMoment,
    adam.weights,
    learningRate,
    adam.t,
  );
  assignFlat(variables, adam.weights);
  return result;
}
