import type { Likelihood } from '../../core/model-dir.js';
import type { BuiltinArchitecture } from '../architecture.js';

/** Everything a training worker needs to build the same networks and share one batch. */
export interface WorkerSetup {
  index: number;
  workers: number;
  /** The built-in network every worker builds (networks of the caller's own train on one thread). */
  architecture: BuiltinArchitecture;
  inputShape: number[];
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
  /** Int32 counters, indexed by `CONTROL`; each only grows. */
  control: SharedArrayBuffer;
  /** Uint32 row numbers of a batch, `STEP_SLOTS` batches: step k uses slot (k − 1) mod STEP_SLOTS. */
  rows: SharedArrayBuffer;
  /** Float64 [step seed, β, Adam step t (1-based)] per slot. */
  stepParams: SharedArrayBuffer;
  /** Float64 [objective, negElbo] per worker, per slot. */
  losses: SharedArrayBuffer;
  /**
   * Shared WebAssembly memory (adam-wasm.ts): one float32 gradient slot per worker, then the
   * parameters (the one copy every worker reads after each step) and Adam's two moments.
   */
  adam: WebAssembly.Memory;
}

/**
 * The shared counters. The coordinator posts steps (POSTED = the number posted, or −1 to stop);
 * every worker adds 1 to GRADIENTS once its gradient of a step is written, to UPDATED once its share
 * of Adam is done, and to DONE once it has loaded the new weights. Step k is complete when DONE
 * reaches W·k. Steps go through shared memory, not messages, so a worker starts the next step as
 * soon as it is posted, and the coordinator posts it while the current one runs.
 */
export const CONTROL = Object.freeze({ POSTED: 0, GRADIENTS: 1, UPDATED: 2, DONE: 3, length: 4 });

/** Steps that can be posted at once: the one running and the next. */
export const STEP_SLOTS = 2;

/** Messages from a worker to the coordinator. */
export type FromWorker = { type: 'ready'; parameters: number } | { type: 'error'; message: string };
