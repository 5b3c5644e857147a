import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SharedState } from './adam.js';
import { type AdamMemory, adamViews, createAdamMemory } from './adam-wasm.js';
import { CONTROL, type FromWorker, STEP_SLOTS, type WorkerSetup } from './protocol.js';

export type { SharedState } from './adam.js';

/** What `startWorkers` needs besides the shared buffers, which it makes. */
export type WorkerPlan = Pick<
  WorkerSetup,
  | 'workers'
  | 'architecture'
  | 'inputShape'
  | 'latentDim'
  | 'seed'
  | 'learningRate'
  | 'likelihood'
  | 'learnVariance'
  | 'logVariance'
  | 'freeBits'
  | 'batchSize'
> & { images: Float32Array };

/**
 * How many data-parallel workers pay off: on the single-threaded wasm backend, one per core (at
 * most 4) as long as the batch splits evenly into shares of at least 16 examples; otherwise 1.
 */
export function autoWorkers(backend: string, batchSize: number, cores = availableParallelism()): number {
  if (backend !== 'wasm') return 1;
  for (let w = Math.min(4, cores); w > 1; w--) if (batchSize % w === 0 && batchSize / w >= 16) return w;
  return 1;
}

/** Starts one worker thread. From dist/ the worker is plain .js; from src/ (under tsx) it is .ts and needs tsx's loader. */
function spawnWorker(workerData: WorkerSetup): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/** Data-parallel training threads that move in lockstep, one step at a time. */
export class WorkerPool {
  readonly size: number;
  private readonly workers: Worker[];
  private readonly batchSize: number;
  private readonly control: Int32Array;
  private readonly rows: Uint32Array;
  private readonly params: Float64Array;
  private readonly losses: Float64Array;
  private readonly shared: SharedState;
  /** Steps posted, and the highest step whose result was handed back. */
  private posted = 0;
  private completed = 0;
  private readonly ready: FromWorker[] = [];
  /** Settles once every worker is ready, or one fails. */
  private readonly readyAll: Promise<void>;
  private settleReady: { resolve: () => void; reject: (error: Error) => void } = {
    resolve: () => {},
    reject: () => {},
  };
  private failure: Error | undefined;

  private constructor(workers: Worker[], setup: Omit<WorkerSetup, 'index'>, memory: AdamMemory) {
    this.workers = workers;
    this.size = workers.length;
    this.batchSize = setup.batchSize;
    this.readyAll = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.readyAll.catch(() => {});
    this.control = new Int32Array(setup.control);
    this.rows = new Uint32Array(setup.rows);
    this.params = new Float64Array(setup.stepParams);
    this.losses = new Float64Array(setup.losses);
    this.shared = { ...adamViews(memory), t: 0 };
    for (const w of workers) {
      w.on('message', (m: FromWorker) => this.receive(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`training worker exited with code ${code}`));
      });
    }
  }

  /**
   * Starts `plan.workers` threads and waits until all are ready, with `initial` weights and Adam
   * state in shared memory. The training images are copied once into shared memory.
   */
  static async start(plan: WorkerPlan, initial: SharedState): Promise<WorkerPool> {
    const parameters = initial.weights.length;
    // Datasets loaded by loadDataset already live in shared memory; anything else is copied once.
    let images: SharedArrayBuffer;
    if (plan.images.buffer instanceof SharedArrayBuffer && plan.images.byteOffset === 0) {
      images = plan.images.buffer;
    } else {
      images = new SharedArrayBuffer(plan.images.byteLength);
      new Float32Array(images).set(plan.images);
    }
    const W = plan.workers;
    const memory = createAdamMemory(parameters, W, true, initial);
    const setup: Omit<WorkerSetup, 'index'> = {
      ...plan,
      images,
      control: new SharedArrayBuffer(4 * CONTROL.length),
      rows: new SharedArrayBuffer(4 * plan.batchSize * STEP_SLOTS),
      stepParams: new SharedArrayBuffer(8 * 3 * STEP_SLOTS),
      losses: new SharedArrayBuffer(8 * 2 * W * STEP_SLOTS),
      adam: memory.memory,
    };
    const workers = Array.from({ length: W }, (_, index) => spawnWorker({ ...setup, index }));
    const pool = new WorkerPool(workers, setup, memory);
    pool.shared.t = initial.t;
    try {
      await pool.readyAll;
      for (const m of pool.ready) {
        if (m.type === 'ready' && m.parameters !== parameters) {
          throw new Error(`a training worker built ${m.parameters} parameters, expected ${parameters}`);
        }
      }
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /**
   * Posts one step on the batch `rows` (indices into the shared images) and resolves to its batch
   * means once it is done. A second step may be posted before the first resolves: the workers start
   * it as soon as the first ends, without waiting for this thread. More than two at once is refused.
   */
  async step(rows: Uint32Array, seed: number, beta: number): Promise<{ objective: number; negElbo: number }> {
    if (this.failure) throw this.failure;
    const k = this.posted + 1;
    if (k - this.completed > STEP_SLOTS) {
      throw new RangeError(
        `step: ${STEP_SLOTS} steps are already running, wait for one before posting another`,
      );
    }
    const slot = (k - 1) % STEP_SLOTS;
    this.rows.set(rows, slot * this.batchSize);
    this.shared.t += 1;
    this.params.set([seed, beta, this.shared.t], 3 * slot);
    this.posted = k;
    Atomics.store(this.control, CONTROL.POSTED, k);
    Atomics.notify(this.control, CONTROL.POSTED);
    await this.until(CONTROL.DONE, this.size * k);
    this.completed = Math.max(this.completed, k);
    let objective = 0;
    let negElbo = 0;
    for (let w = 0; w < this.size; w++) {
      objective += this.losses[2 * (slot * this.size + w)] as number;
      negElbo += this.losses[2 * (slot * this.size + w) + 1] as number;
    }
    return { objective: objective / this.size, negElbo: negElbo / this.size };
  }

  /** A copy of the current weights and Adam state (the workers are idle between steps). */
  state(): SharedState {
    return {
      weights: this.shared.weights.slice(),
      firstMoment: this.shared.firstMoment.slice(),
      secondMoment: this.shared.secondMoment.slice(),
      t: this.shared.t,
    };
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    Atomics.store(this.control, CONTROL.POSTED, -1);
    Atomics.notify(this.control, CONTROL.POSTED);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /**
   * Waits, without blocking this thread, until `control[index]` reaches `target`, or throws once a
   * worker fails (`fail` wakes the wait).
   */
  private async until(index: number, target: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const value = Atomics.load(this.control, index);
      if (value >= target) return;
      const wait = Atomics.waitAsync(this.control, index, value);
      if (wait.async) await wait.value;
    }
  }

  private receive(message: FromWorker): void {
    if (message.type === 'error') this.fail(new Error(`training worker failed: ${message.message}`));
    else if (this.ready.push(message) === this.size) this.settleReady.resolve();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.settleReady.reject(error);
    Atomics.notify(this.control, CONTROL.DONE);
    for (const w of this.workers) void w.terminate();
  }
}
