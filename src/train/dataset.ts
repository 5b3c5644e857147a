/**
 * A dataset in memory, as the trainer sees it (train and test splits of one example shape), and
 * the helpers that build one. No Node module: the browser door trains from these too.
 */
import { createRng, permutation } from '../core/random.js';
import { DataError } from './errors.js';

/** Examples of one split, stored once, row-major, values in [0, 1] for images. */
export interface Split {
  /** count × size(shape) values. */
  images: Float32Array;
  labels?: Uint8Array;
  count: number;
  /** What names each example where the source has names (a PNG folder's file names), in order. */
  ids?: string[];
}

/** A dataset: the shape of one example and its train and test splits. */
export interface Dataset {
  name: string;
  /** Shape of one example: [H, W, C] for images. */
  shape: number[];
  train: Split;
  test: Split;
}

/**
 * A Float32Array in shared memory, so that training worker threads read the dataset without a copy
 * (ordinary memory where there is no SharedArrayBuffer).
 */
export function sharedFloat32(length: number): Float32Array {
  // A browser page that is not cross-origin isolated has no SharedArrayBuffer; nothing shares it there.
  const Shared = (globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer }).SharedArrayBuffer;
  return new Float32Array(Shared ? new Shared(4 * length) : new ArrayBuffer(4 * length));
}

/** Throws a DataError naming the first NaN or infinite value. */
export function checkFinite(values: Float32Array, source: string): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new DataError(`cannot use ${source}: value ${values[bad]} at index ${bad} is not finite`);
}

/** Examples in memory, as a page or a program has them: what `trainInMemory` takes. */
export interface MemoryData {
  /** count × size(shape) values, row-major (images: [0, 1] for the Bernoulli likelihood). */
  images: Float32Array;
  /** The shape of one example: [H, W, C] for images, [features] for rows of a table. */
  shape: number[];
  /** One label per example (kept for pictures; training does not use them). */
  labels?: Uint8Array;
  /** Examples held out for the card's test figures; without them, the validation split serves. */
  test?: { images: Float32Array; labels?: Uint8Array };
  /** The dataset's name in card.json. Default `memory`. */
  name?: string;
}

function memorySplit(images: unknown, labels: unknown, size: number, what: string): Split {
  if (!(images instanceof Float32Array)) {
    throw new TypeError(`trainInMemory: "${what}.images" must be a Float32Array, got ${describe(images)}`);
  }
  if (images.length === 0 || images.length % size !== 0) {
    throw new RangeError(
      `trainInMemory: "${what}.images" must hold a whole number of examples of ${size} values, got ${images.length} values`,
    );
  }
  checkFinite(images, `${what}.images`);
  const count = images.length / size;
  if (labels !== undefined && !(labels instanceof Uint8Array && labels.length === count)) {
    throw new RangeError(
      `trainInMemory: "${what}.labels" must be a Uint8Array of ${count} labels (one per example), got ${describe(labels)}`,
    );
  }
  return { images, count, ...(labels === undefined ? {} : { labels }) };
}

function describe(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Uint8Array).length})`;
  return value === null ? 'null' : Array.isArray(value) ? `an array of ${value.length}` : typeof value;
}

/**
 * A `Dataset` from examples in memory (checked). Without a test split, the training examples stand
 * in for it here; `trainInMemory` then evaluates on its validation split.
 * @throws TypeError or RangeError naming the field that does not fit; DataError for non-finite values.
 */
export function datasetFromMemory(data: MemoryData): Dataset {
  const shape = data?.shape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(
      `trainInMemory: "data.shape" must be the shape of one example, positive integers such as [28, 28, 1], got ${JSON.stringify(shape)}`,
    );
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const train = memorySplit(data.images, data.labels, size, 'data');
  const test = data.test ? memorySplit(data.test.images, data.test.labels, size, 'data.test') : train;
  return { name: data.name ?? 'memory', shape: [...shape], train, test };
}

/**
 * `limit` examples of a split chosen at random (seeded), kept in the split's order, with their
 * indices in it; the whole split when `limit` is undefined or not below its count. Datasets are
 * often ordered by class (mnist-mini's first 2,000 are 0s and 1s): the first N are not a sample.
 */
export function randomSubset(
  split: Split,
  size: number,
  limit: number | undefined,
  seed: number,
): Split & { indices: Uint32Array } {
  if (limit === undefined || limit >= split.count) {
    return { ...split, indices: Uint32Array.from({ length: split.count }, (_, i) => i) };
  }
  const indices = permutation(split.count, createRng(seed)).slice(0, limit).sort();
  const images = new Float32Array(limit * size);
  indices.forEach((from, to) => {
    images.set(split.images.subarray(from * size, (from + 1) * size), to * size);
  });
  return {
    images,
    count: limit,
    indices,
    ...(split.labels ? { labels: Uint8Array.from(indices, (i) => split.labels?.[i] as number) } : {}),
    ...(split.ids ? { ids: Array.from(indices, (i) => split.ids?.[i] as string) } : {}),
  };
}
