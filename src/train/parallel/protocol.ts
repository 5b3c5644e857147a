import type { Arch, Likelihood } from '../../core/model-dir.js';

/** Everything a training worker needs to build the same networks and share one batch. */
export interface WorkerSetup {
  index: number;
  workers: number;
  arch: Arch;
  inputShape: number[];
  hiddenDim: number;
  latentDim: number;
  seed: number;
  learningRate: number;
  likelihood: Likelihood;
  learnVariance: boolean;
  logVariance: number;
  freeBits: number;
  batchSize: number;
  /** Float32 training images, shared by every worker. */
  images: SharedArrayBuffer;
  /** Int32 [workers whose gradient is written, workers whose share of the update is done]. */
  control: SharedArrayBuffer;
  /** Uint32 row numbers of the current batch. */
  rows: SharedArrayBuffer;
  /** Float64 [step seed, β, Adam step t (1-based)]. */
  stepParams: SharedArrayBuffer;
  /** Float64 [objective, negElbo] per worker. */
  losses: SharedArrayBuffer;
  /** Float32 gradient slots, one per worker, each as long as all parameters together. */
  grads: SharedArrayBuffer;
  /** Float32 parameters, all variables end to end: the one copy every worker reads after each step. */
  weights: SharedArrayBuffer;
  /** Float32 Adam first and second moments, laid out like `weights`. */
  firstMoment: SharedArrayBuffer;
  secondMoment: SharedArrayBuffer;
}

/** Messages from the coordinator to a worker. */
export type ToWorker = { type: 'step' } | { type: 'load-weights' };

/** Messages from a worker to the coordinator. */
export type FromWorker =
  | { type: 'ready'; parameters: number }
  | { type: 'stepped' }
  | { type: 'weights-loaded' }
  | { type: 'error'; message: string };
