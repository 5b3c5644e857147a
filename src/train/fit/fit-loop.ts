/**
 * The epoch loop of a run: each epoch a seeded order of the training rows, one step per batch, a
 * validation figure, then the epoch callbacks (checkpoint, training log, the caller's), and early
 * stopping. Steps go through a `Stepper`, so the loop does not know whether workers run them.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES } from '../../core/model-dir.js';
import { createRng, deriveSeed, permutation } from '../../core/random.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { saveCheckpoint, type TrainingState } from '../checkpoint.js';
import { DataError } from '../errors.js';
import { evaluateElbo } from '../evaluate.js';
import { betaAt } from '../objective.js';
import type { EpochReport, TrainOptions } from '../options.js';
import { adamWeightsFrom } from '../parallel/adam.js';
import type { SharedState } from '../parallel/coordinator.js';
import type { RunState } from './run-state.js';
import type { RunSplits } from './splits.js';
import type { Stepper } from './stepper.js';

/** The training log next to card.json: one JSON line per epoch. */
export const TRAINING_LOG = 'training-log.jsonl';

/** What an epoch callback is given once an epoch ends. */
export interface EpochEnd {
  report: EpochReport;
  run: RunState;
  /** The weights and Adam state the epoch reached (the main thread's variables hold the weights). */
  trained: SharedState;
}

/** Runs after every epoch, in order; checkpointing and logging are callbacks too. */
export type EpochCallback = (end: EpochEnd) => Promise<void> | void;

/**
 * Early stopping: true once `patience` epochs have passed since the best validation neg-ELBO
 * (the same noise is drawn for validation every epoch, so epochs compare fairly). Patience 0 never stops.
 */
export function shouldStopEarly(best: TrainingState['best'], epoch: number, patience: number): boolean {
  return patience > 0 && best !== null && epoch - best.epoch >= patience;
}

/** What the checkpoint records of the run besides the weights. */
export function checkpointState(run: RunState): Omit<TrainingState, 'optimizerSpecs'> {
  return {
    format: 'vae-onnx/training-state@1',
    epochsDone: run.epochsDone,
    globalStep: run.globalStep,
    config: run.identity,
    history: run.history as unknown as Record<string, number | null>[],
    best: run.best,
    ...(run.logVariance ? { logVariance: run.logVariance.dataSync()[0] as number } : {}),
  };
}

/** The callback that writes the checkpoint (weights, Adam state, run state) after every epoch. */
export function checkpointCallback(out: string): EpochCallback {
  return async ({ run, trained }) => {
    const optimizerWeights = adamWeightsFrom(run.variables, trained);
    try {
      await saveCheckpoint(out, run.nets, { state: checkpointState(run), optimizerWeights });
    } finally {
      tf.dispose(optimizerWeights.map((w) => w.tensor));
    }
  };
}

/** The callback that rewrites training-log.jsonl after every epoch. */
export function trainingLogCallback(out: string): EpochCallback {
  return ({ run }) =>
    writeFileAtomic(join(out, TRAINING_LOG), `${run.history.map((h) => JSON.stringify(h)).join('\n')}\n`);
}

/** The steps, timing and loss sums of one epoch. */
interface EpochSums {
  steps: number;
  negElbo: number;
  objective: number;
  beta: number;
}

/** Where the loop stands, shared by its epochs. */
interface LoopClock {
  stepsPerEpoch: number;
  warmupSteps: number;
  stopAt: number;
  runStart: number;
  runStartStep: number;
}

async function runEpoch(
  epoch: number,
  o: TrainOptions,
  splits: RunSplits,
  run: RunState,
  stepper: Stepper,
  clock: LoopClock,
): Promise<EpochSums> {
  const { fitRows } = splits;
  const order = permutation(fitRows.length, createRng(deriveSeed(o.seed, 0xe90c, epoch)));
  const rows = new Uint32Array(o.batchSize);
  const sums: EpochSums = {
    steps: 0,
    negElbo: 0,
    objective: 0,
    beta: betaAt(run.globalStep, o.beta, clock.warmupSteps),
  };
  for (let s = 0; s < clock.stepsPerEpoch && run.globalStep < clock.stopAt; s++) {
    for (let i = 0; i < o.batchSize; i++) rows[i] = fitRows[order[s * o.batchSize + i] as number] as number;
    sums.beta = betaAt(run.globalStep, o.beta, clock.warmupSteps);
    const result = await stepper.step(rows, deriveSeed(o.seed, 0x5e9, run.globalStep), sums.beta);
    if (!Number.isFinite(result.objective) || !Number.isFinite(result.negElbo)) {
      const kept =
        run.epochsDone > 0
          ? `the checkpoint of epoch ${run.epochsDone} is kept in ${join(o.out, MODEL_FILES.tfjs)}`
          : 'no checkpoint was written yet';
      throw new DataError(
        `cannot train: the loss became ${result.objective} at epoch ${epoch}, step ${s + 1}; ${kept}. Try a lower learning rate.`,
      );
    }
    sums.negElbo += result.negElbo;
    sums.objective += result.objective;
    sums.steps++;
    run.globalStep++;
    const elapsedSec = (performance.now() - clock.runStart) / 1000;
    const examplesPerSec = ((run.globalStep - clock.runStartStep) * o.batchSize) / elapsedSec;
    o.onStep?.({
      epoch,
      epochs: o.epochs,
      step: s + 1,
      stepsPerEpoch: clock.stepsPerEpoch,
      loss: result.negElbo,
      examplesPerSec,
      elapsedSec,
      etaSec: ((clock.stopAt - run.globalStep) * o.batchSize) / examplesPerSec,
    });
  }
  return sums;
}

/**
 * Runs epochs from the run's state until `o.epochs` (or `o.maxSteps`, or early stopping) and calls
 * `callbacks` after each. Returns whether early stopping ended the run.
 */
export async function fitLoop(
  o: TrainOptions,
  splits: RunSplits,
  run: RunState,
  stepper: Stepper,
  callbacks: readonly EpochCallback[],
): Promise<{ stoppedEarly: boolean }> {
  const stepsPerEpoch = Math.floor(splits.fitRows.length / o.batchSize);
  const clock: LoopClock = {
    stepsPerEpoch,
    warmupSteps: Math.round(o.warmupEpochs * stepsPerEpoch),
    stopAt: Math.min(stepsPerEpoch * o.epochs, o.maxSteps ?? Number.POSITIVE_INFINITY),
    runStart: performance.now(),
    runStartStep: run.globalStep,
  };
  const evalLimit = o.evalLimit === undefined ? {} : { limit: o.evalLimit };
  for (let epoch = run.epochsDone + 1; epoch <= o.epochs && run.globalStep < clock.stopAt; epoch++) {
    const epochStart = performance.now();
    const sums = await runEpoch(epoch, o, splits, run, stepper, clock);
    const seconds = (performance.now() - epochStart) / 1000;
    const trained = stepper.sync();
    const valNegElbo = splits.val
      ? evaluateElbo(run.nets.encoder, run.nets.decoder, splits.val, splits.data.shape, {
          batchSize: 500,
          likelihood: run.likelihood,
          ...evalLimit,
          seed: deriveSeed(o.seed, 0xa1),
        }).negElbo
      : null;
    const report: EpochReport = {
      epoch,
      trainLoss: sums.negElbo / sums.steps,
      trainObjective: sums.objective / sums.steps,
      valNegElbo,
      beta: sums.beta,
      examplesPerSec: (sums.steps * o.batchSize) / seconds,
      seconds,
    };
    run.history.push(report);
    run.epochsDone = epoch;
    if (valNegElbo !== null && (run.best === null || valNegElbo < run.best.valNegElbo))
      run.best = { epoch, valNegElbo };
    for (const callback of callbacks) await callback({ report, run, trained });
    if (shouldStopEarly(run.best, epoch, o.patience)) return { stoppedEarly: true };
  }
  return { stoppedEarly: false };
}
