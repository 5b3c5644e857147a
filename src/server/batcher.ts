/**
 * Dynamic batching: concurrent requests to one model merge into one `session.run`, up to a maximum
 * number of rows and a maximum wait, and the outputs are split back to each caller.
 */
import type { Batch } from '../runtime/tensor-input.js';

/** How requests are merged. */
export interface BatcherOptions {
  /** Most rows in one run. */
  maxBatch: number;
  /**
   * Longest time, in milliseconds, the first queued request waits for others to join it. 0 waits
   * only for the requests that have already arrived: the queue is flushed once the event loop has
   * read the pending I/O (setImmediate).
   */
  maxWaitMs: number;
  /** Called once per run with the rows and the number of requests merged into it (for metrics). */
  onRun?: (rows: number, requests: number) => void;
}

/** Runs a batch of rows through a model part: one output Batch per model output, rows in order. */
export type RunBatch = (batch: Batch) => Promise<Batch[]>;

/** Submits batches; see `createBatcher`. */
export interface Batcher {
  /** Queues `batch` and resolves with its rows of every output, once the merged run has finished. */
  submit(batch: Batch): Promise<Batch[]>;
}

interface Pending {
  batch: Batch;
  rows: number;
  resolve: (outputs: Batch[]) => void;
  reject: (error: unknown) => void;
}

/** The rows [start, start + count) of a batch, without copying. */
function sliceRows(batch: Batch, start: number, count: number): Batch {
  const [, ...rest] = batch.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return { data: batch.data.subarray(start * size, (start + count) * size), shape: [count, ...rest] };
}

/** One Batch holding the rows of every pending request, in order. */
function concatRows(items: readonly Pending[]): Batch {
  const first = items[0] as Pending;
  if (items.length === 1) return first.batch;
  const [, ...rest] = first.batch.shape;
  const rows = items.reduce((n, p) => n + p.rows, 0);
  const data = new Float32Array(items.reduce((n, p) => n + p.batch.data.length, 0));
  let offset = 0;
  for (const p of items) {
    data.set(p.batch.data, offset);
    offset += p.batch.data.length;
  }
  return { data, shape: [rows, ...rest] };
}

/**
 * Wraps `run` so that batches submitted close together in time share one call. A queue is flushed
 * when it holds `maxBatch` rows or when its oldest request has waited `maxWaitMs`; a request that
 * would overflow the queue flushes it first. Every request of a failed run gets the run's error.
 */
export function createBatcher(run: RunBatch, options: BatcherOptions): Batcher {
  const { maxBatch, maxWaitMs, onRun } = options;
  let queue: Pending[] = [];
  let queuedRows = 0;
  let timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  const schedule =
    maxWaitMs === 0 ? (f: () => void) => setImmediate(f) : (f: () => void) => setTimeout(f, maxWaitMs);
  const cancel = (t: NonNullable<typeof timer>) => {
    if (maxWaitMs === 0) clearImmediate(t as ReturnType<typeof setImmediate>);
    else clearTimeout(t as ReturnType<typeof setTimeout>);
  };

  const flush = (): void => {
    if (timer !== undefined) cancel(timer);
    timer = undefined;
    const items = queue;
    queue = [];
    queuedRows = 0;
    if (items.length === 0) return;
    let merged: Batch;
    try {
      merged = concatRows(items);
    } catch (error) {
      for (const p of items) p.reject(error);
      return;
    }
    onRun?.(merged.shape[0] as number, items.length);
    run(merged).then(
      (outputs) => {
        let start = 0;
        for (const p of items) {
          p.resolve(outputs.map((o) => sliceRows(o, start, p.rows)));
          start += p.rows;
        }
      },
      (error: unknown) => {
        for (const p of items) p.reject(error);
      },
    );
  };

  return {
    submit(batch) {
      const rows = batch.shape[0] ?? 0;
      return new Promise<Batch[]>((resolve, reject) => {
        if (queuedRows + rows > maxBatch) flush();
        queue.push({ batch, rows, resolve, reject });
        queuedRows += rows;
        if (queuedRows >= maxBatch) flush();
        else if (timer === undefined) timer = schedule(flush);
      });
    },
  };
}
