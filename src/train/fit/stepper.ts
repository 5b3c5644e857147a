/**
 * One training step, two ways: on the main thread (`LocalStepper`, here, for Node and browsers), or
 * spread over data-parallel worker threads that share the weights and Adam state (`PoolStepper`, in
 * pool-stepper.ts, Node only). Both run the same Adam (adam-wasm.ts), so either can resume the
 * other's checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { VaeNetworks } from '../model.js';
import type { ObjectiveSettings } from '../objective.js';
import type { TrainOptions } from '../options.js';
import { assignFlat, type SharedState } from '../parallel/adam.js';
import {
  type AdamMemory,
  adamKernel,
  adamViews,
  createAdamMemory,
  gradientSlot,
} from '../parallel/adam-wasm.js';
import { lossAndGrads, readStep, type StepLosses, type StepResult } from '../step.js';
import type { RunState } from './run-state.js';
import type { RunSplits } from './splits.js';

export type { StepLosses } from '../step.js';

/** Runs training steps and hands back the state they reached. */
export interface Stepper {
  /**
   * One step on the training rows `rows`, with the noise of `seed` and KL weight `beta`. `rows` is
   * read before the call returns, so the caller may reuse it.
   */
  step(rows: Uint32Array, seed: number, beta: number): Promise<StepLosses>;
  /**
   * How many more steps may be posted while one is awaited (each runs after the one before);
   * 0 or absent: await each step before posting the next.
   */
  readonly lookahead?: number;
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
  /** Weights and Adam state, views into the memory `adam` updates. */
  state: SharedState;
  /** The gradient slot of that memory, one float per parameter. */
  gradients: Float32Array;
  adam: (lo: number, hi: number, lr: number, t: number) => void;
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
  s.state.t += 1;
  s.adam(0, s.gradients.length, s.learningRate, s.state.t);
  assignFlat(s.variables, s.state.weights);
  return result;
}

/**
 * Steps on the main thread: gathers the batch rows and runs `localStep`. The weights and Adam state
 * move into a private WebAssembly memory for the Adam kernel; `sync` hands back views of it.
 */
export class LocalStepper implements Stepper {
  private readonly batch: Float32Array;
  private readonly memory: AdamMemory;
  private readonly state: SharedState;
  private readonly adam: LocalStepInput['adam'];

  constructor(
    private readonly run: RunState,
    private readonly plan: StepperPlan,
  ) {
    this.batch = new Float32Array(plan.batchSize * plan.exampleSize);
    this.memory = createAdamMemory(run.adam.weights.length, 1, false, run.adam);
    this.state = { ...adamViews(this.memory), t: run.adam.t };
    this.adam = adamKernel(this.memory);
  }

  async step(rows: Uint32Array, seed: number, beta: number): Promise<StepLosses> {
    const { images, exampleSize: D } = this.plan;
    rows.forEach((row, i) => {
      this.batch.set(images.subarray(row * D, (row + 1) * D), i * D);
    });
    return localStep({
      nets: this.run.nets,
      variables: this.run.variables,
      state: this.state,
      gradients: gradientSlot(this.memory, 0),
      adam: this.adam,
      batch: this.batch,
      inputShape: this.plan.inputShape,
      latentDim: this.plan.latentDim,
      learningRate: this.plan.learningRate,
      seed,
      settings: { likelihood: this.run.likelihood, beta, freeBits: this.plan.freeBits, randomSeed: seed },
    });
  }

  sync(): SharedState {
    return this.state;
  }

  async close(): Promise<void> {}
}
