import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SharedState } from './adam.js';
import { type AdamMemory, adamViews, createAdamMemory } from './adam-wasm.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';

export type { SharedState } from './adam.js';

/** What `startWorkers` needs besides the shared buffers, which it makes. */
export type WorkerPlan = Pick<
  WorkerSetup,
  | 'workers'
  | 'arch'
  | 'inputShape'
  | 'hiddenDim'
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
  private readonly control: Int32Array;
  private readonly rows: Uint32Array;
  private readonly params: Float64Array;
  private readonly losses: Float64Array;
  private readonly shared: SharedState;
  private readonly waiting = new Map<Worker, { type: string; resolve: (m: FromWorker) => void }>();
  private failure: Error | undefined;
  private readonly rejecters = new Set<(e: Error) => void>();

  private constructor(workers: Worker[], setup: Omit<WorkerSetup, 'index'>, memory: AdamMemory) {
    this.workers = workers;
    this.size = workers.length;
    this.control = new Int32Array(setup.control);
    this.rows = new Uint32Array(setup.rows);
    this.params = new Float64Array(setup.stepParams);
    this.losses = new Float64Array(setup.losses);
    this.shared = { ...adamViews(memory), t: 0 };
    for (const w of workers) {
      w.on('message', (m: FromWorker) => this.receive(w, m));
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
      control: new SharedArrayBuffer(8),
      rows: new SharedArrayBuffer(4 * plan.batchSize),
      stepParams: new SharedArrayBuffer(24),
      losses: new SharedArrayBuffer(16 * W),
      adam: memory.memory,
    };
    const workers = Array.from({ length: W }, (_, index) => spawnWorker({ ...setup, index }));
    const pool = new WorkerPool(workers, setup, memory);
    pool.shared.t = initial.t;
    try {
      const ready = await pool.all('ready');
      for (const m of ready) {
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

  /** Runs one step on the batch `rows` (indices into the shared images); returns the batch means. */
  async step(rows: Uint32Array, seed: number, beta: number): Promise<{ objective: number; negElbo: number }> {
    this.rows.set(rows);
    this.shared.t += 1;
    this.params[0] = seed;
    this.params[1] = beta;
    this.params[2] = this.shared.t;
    Atomics.store(this.control, 0, 0);
    Atomics.store(this.control, 1, 0);
    this.broadcast({ type: 'step' });
    await this.all('stepped');
    let objective = 0;
    let negElbo = 0;
    for (let w = 0; w < this.size; w++) {
      objective += this.losses[2 * w] as number;
      negElbo += this.losses[2 * w + 1] as number;
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
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private broadcast(message: ToWorker): void {
    for (const w of this.workers) w.postMessage(message);
  }

  private all(type: FromWorker['type']): Promise<FromWorker[]> {
    return Promise.all(this.workers.map((w) => this.expect(w, type)));
  }

  private expect(worker: Worker, type: FromWorker['type']): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const rejecter = (e: Error) => reject(e);
      this.rejecters.add(rejecter);
      this.waiting.set(worker, {
        type,
        resolve: (m) => {
          this.rejecters.delete(rejecter);
          resolve(m);
        },
      });
    });
  }

  private receive(worker: Worker, message: FromWorker): void {
    if (message.type === 'error') {
      this.fail(new Error(`training worker failed: ${message.message}`));
      return;
    }
    const waiter = this.waiting.get(worker);
    if (waiter && waiter.type === message.type) {
      this.waiting.delete(worker);
      waiter.resolve(message);
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const reject of this.rejecters) reject(error);
    this.rejecters.clear();
    for (const w of this.workers) void w.terminate();
  }
}
