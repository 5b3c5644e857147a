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
  /**
   * Shared WebAssembly memory (adam-wasm.ts): one float32 gradient slot per worker, then the
   * parameters (the one copy every worker reads after each step) and Adam's two moments.
   */
  adam: WebAssembly.Memory;
}

/** Messages from the coordinator to a worker. */
export type ToWorker = { type: 'step' } | { type: 'load-weights' };

/** Messages from a worker to the coordinator. */
export type FromWorker =
  | { type: 'ready'; parameters: number }
  | { type: 'stepped' }
  | { type: 'weights-loaded' }
  | { type: 'error'; message: string };
