/**
 * One training step, two ways: on the main thread (`LocalStepper`, here, for Node and browsers), or
 * spread over data-parallel worker threads that share the weights and Adam state (`PoolStepper`, in
 * pool-stepper.ts, Node only). Both run the same Adam in the project's own code, so either can
 * resume the other's checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { VaeNetworks } from '../model.js';
import type { ObjectiveSettings } from '../objective.js';
import type { TrainOptions } from '../options.js';
import { adamShare, assignFlat, type SharedState } from '../parallel/adam.js';
import { lossAndGrads, readStep, type StepLosses, type StepResult } from '../step.js';
import type { RunState } from './run-state.js';
import type { RunSplits } from './splits.js';

export type { StepLosses } from '../step.js';

/** Runs training steps and hands back the state they reached. */
export interface Stepper {
  /** One step on the training rows `rows`, with the noise of `seed` and KL weight `beta`. */
  step(rows: Uint32Array, seed: number, beta: number): Promise<StepLosses>;
  /** Brings the main thread's variables up to date and returns the weights and Adam state. */
  sync(): SharedState;
  close(): Promise<void>;
}

/** What both steppers need besides the run state. */
export interface StepperPlan {
  images: Float32Array;
  inputShape: number[];
  exampleSize: number;
  batchSize: number;
  latentDim: number;
  learningRate: number;
  freeBits: number;
}

/** The plan of a run: its fitted images (the usable training rows) and the step's settings. */
export function stepperPlan(o: TrainOptions, splits: RunSplits): StepperPlan {
  return {
    images: splits.data.train.images.subarray(0, splits.usable * splits.exampleSize),
    inputShape: splits.data.shape,
    exampleSize: splits.exampleSize,
    batchSize: o.batchSize,
    latentDim: o.latentDim,
    learningRate: o.learningRate,
    freeBits: o.freeBits,
  };
}

/** One step's inputs on the main thread. */
export interface LocalStepInput {
  nets: VaeNetworks;
  variables: tf.Variable[];
  adam: SharedState;
  /** Scratch space for the flat gradient, one float per parameter. */
  gradients: Float32Array;
  batch: Float32Array;
  inputShape: number[];
  latentDim: number;
  learningRate: number;
  seed: number;
  settings: ObjectiveSettings;
}

/** Forward, backward and one Adam update of every variable, on the main thread. */
export async function localStep(s: LocalStepInput): Promise<StepLosses> {
  // tidy disposes of x, eps and the forward pass, and keeps the returned tensors for readStep.
  const step = tf.tidy(() => {
    const n = s.batch.length / s.inputShape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(s.batch, [n, ...s.inputShape]);
    const eps = tf.randomNormal([n, s.latentDim], 0, 1, 'float32', s.seed) as tf.Tensor2D;
    const r = lossAndGrads(s.nets, s.variables, x, eps, s.settings);
    return { objective: r.objective, negElbo: r.negElbo, grads: r.grads };
  }) as StepResult;
  const result = await readStep(step, s.variables, s.gradients);
  const { adam, gradients } = s;
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
    s.learningRate,
    adam.t,
  );
  assignFlat(s.variables, adam.weights);
  return result;
}

/** Steps on the main thread: gathers the batch rows and runs `localStep`. */
export class LocalStepper implements Stepper {
  private readonly batch: Float32Array;
  private readonly gradients: Float32Array;

  constructor(
    private readonly run: RunState,
    private readonly plan: StepperPlan,
  ) {
    this.batch = new Float32Array(plan.batchSize * plan.exampleSize);
    this.gradients = new Float32Array(run.adam.weights.length);
  }

  async step(rows: Uint32Array, seed: number, beta: number): Promise<StepLosses> {
    const { images, exampleSize: D } = this.plan;
    rows.forEach((row, i) => {
      this.batch.set(images.subarray(row * D, (row + 1) * D), i * D);
    });
    return localStep({
      nets: this.run.nets,
      variables: this.run.variables,
      adam: this.run.adam,
      gradients: this.gradients,
      batch: this.batch,
      inputShape: this.plan.inputShape,
      latentDim: this.plan.latentDim,
      learningRate: this.plan.learningRate,
      seed,
      settings: { likelihood: this.run.likelihood, beta, freeBits: this.plan.freeBits },
    });
  }

  sync(): SharedState {
    return this.run.adam;
  }

  async close(): Promise<void> {}
}
