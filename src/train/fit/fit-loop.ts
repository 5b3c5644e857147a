/**
 * The epoch loop of a run: each epoch a seeded order of the training rows, one step per batch, a
 * validation figure, then the epoch callbacks (checkpoint, training log, the caller's), and early
 * stopping. Steps go through a `Stepper`, so the loop does not know whether workers run them. An
 * AbortSignal stops it between two steps; a run resumed from that point (its global step is in the
 * checkpoint) continues inside the epoch, with the same order and noise. No Node module: browsers
 * run this loop too (the disk callbacks are in disk-callbacks.ts).
 */

import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, modelFilePath } from '../../core/model-dir.js';
import { createRng, deriveSeed, permutation } from '../../core/random.js';
import type { OptimizerWeights, TrainingState } from '../../tfjs/checkpoint.js';
import { DataError } from '../errors.js';
import { evaluateElbo } from '../evaluate.js';
import { betaAt } from '../objective.js';
import type { EpochReport, TrainOptions } from '../options.js';
import { adamWeightsFrom, type SharedState } from '../parallel/adam.js';
import type { RunState } from './run-state.js';
import type { RunSplits } from './splits.js';
import type { StepLosses, Stepper } from './stepper.js';

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

/** The run's log σ² (Gaussian likelihood), read from the backend; undefined for Bernoulli. */
export async function readLogVariance(run: RunState): Promise<number | undefined> {
  return run.logVariance ? ((await run.logVariance.data())[0] as number) : undefined;
}

/** What the checkpoint records of the run besides the weights (`logVariance`: see readLogVariance). */
export function checkpointState(
  run: RunState,
  logVariance: number | undefined,
): Omit<TrainingState, 'optimizerSpecs'> {
  return {
    format: 'vae-onnx/training-state@1',
    epochsDone: run.epochsDone,
    globalStep: run.globalStep,
    config: run.identity,
    history: run.history as unknown as Record<string, number | null>[],
    best: run.best,
    ...(logVariance === undefined ? {} : { logVariance }),
  };
}

/**
 * Gives `save` what a checkpoint of the run holds besides the networks (the run state and Adam's
 * variables as tf.train.adam names them), and disposes of the variables' tensors afterwards.
 */
export async function withCheckpointContents<T>(
  run: RunState,
  trained: SharedState,
  save: (training: {
    state: Omit<TrainingState, 'optimizerSpecs'>;
    optimizerWeights: OptimizerWeights;
  }) => Promise<T>,
): Promise<T> {
  const state = checkpointState(run, await readLogVariance(run));
  const optimizerWeights = adamWeightsFrom(run.variables, trained);
  try {
    return await save({ state, optimizerWeights });
  } finally {
    tf.dispose(optimizerWeights.map((w) => w.tensor));
  }
}

/** The steps, timing and loss sums of one epoch. */
interface EpochSums {
  steps: number;
  negElbo: number;
  objective: number;
  beta: number;
  /** The signal stopped the epoch before its end. */
  aborted: boolean;
}

/** Where the loop stands, shared by its epochs. */
interface LoopClock {
  stepsPerEpoch: number;
  warmupSteps: number;
  stopAt: number;
  runStart: number;
  runStartStep: number;
}

/** The error of a run whose loss stopped being finite (`when`: the value and where it happened). */
function divergedError(o: TrainOptions, run: RunState, when: string): DataError {
  const where = o.out ? ` in ${modelFilePath(o.out, MODEL_FILES.tfjs)}` : '';
  const kept =
    run.epochsDone > 0
      ? `the checkpoint of epoch ${run.epochsDone} is kept${where}`
      : 'no checkpoint was written yet';
  return new DataError(`cannot train: the loss became ${when}; ${kept}. Try a lower learning rate.`);
}

/** A posted step: its number within the epoch, its KL weight and its result to come. */
interface Posted {
  s: number;
  beta: number;
  result: Promise<StepLosses>;
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
    aborted: false,
  };
  // A run stopped inside this epoch resumes at its next step.
  const first = Math.max(0, run.globalStep - (epoch - 1) * clock.stepsPerEpoch);
  const end = Math.min(clock.stepsPerEpoch, first + clock.stopAt - run.globalStep);
  // Steps are posted ahead of the one awaited when the stepper allows it; each takes the global step
  // number (its noise and β) it will have once the ones before it are counted.
  const posted: Posted[] = [];
  let next = first;
  const post = () => {
    for (let i = 0; i < o.batchSize; i++)
      rows[i] = fitRows[order[next * o.batchSize + i] as number] as number;
    const global = run.globalStep + posted.length;
    const beta = betaAt(global, o.beta, clock.warmupSteps);
    const result = stepper.step(rows, deriveSeed(o.seed, 0x5e9, global), beta);
    // Awaited in turn below; a step still posted when an earlier one throws is abandoned with the
    // run, and its own failure must not surface as an unhandled rejection meanwhile.
    result.catch(() => {});
    posted.push({ s: next, beta, result });
    next++;
  };
  const canPost = () => next < end && !o.signal?.aborted;
  const ahead = stepper.lookahead ?? 0;
  while (posted.length > 0 || canPost()) {
    while (posted.length <= ahead && canPost()) post();
    const { s, beta, result: pending } = posted.shift() as Posted;
    const result = await pending;
    if (!Number.isFinite(result.objective) || !Number.isFinite(result.negElbo)) {
      throw divergedError(o, run, `${result.objective} at epoch ${epoch}, step ${s + 1}`);
    }
    sums.beta = beta;
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
  // The signal stopped the epoch before its end: every step posted was counted, so a resume continues here.
  sums.aborted = next < end;
  return sums;
}

/**
 * Runs epochs from the run's state until `o.epochs` (or `o.maxSteps`, early stopping, or `o.signal`)
 * and calls `callbacks` after each complete epoch. Returns whether early stopping or the signal
 * ended the run; an epoch the signal cut short is not reported, and the run state stands at its last step.
 */
export async function fitLoop(
  o: TrainOptions,
  splits: RunSplits,
  run: RunState,
  stepper: Stepper,
  callbacks: readonly EpochCallback[],
): Promise<{ stoppedEarly: boolean; aborted: boolean }> {
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
    if (sums.aborted) return { stoppedEarly: false, aborted: true };
    const seconds = (performance.now() - epochStart) / 1000;
    const trained = stepper.sync();
    const valNegElbo = splits.val
      ? (
          await evaluateElbo(run.nets.encoder, run.nets.decoder, splits.val, splits.data.shape, {
            batchSize: 500,
            likelihood: run.likelihood,
            ...evalLimit,
            seed: deriveSeed(o.seed, 0xa1),
          })
        ).negElbo
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
    if (shouldStopEarly(run.best, epoch, o.patience)) return { stoppedEarly: true, aborted: false };
  }
  return { stoppedEarly: false, aborted: false };
}
