/**
 * The data of one training run: the dataset, the seeded split of its training part into the rows
 * that are fitted and a validation split, checked against the likelihood and the batch size.
 */
import { sizeOf } from '../../core/model-dir.js';
import { createRng, deriveSeed, permutation } from '../../core/random.js';
import { type Dataset, loadDataset, type Split } from '../datasets.js';
import { DataError } from '../errors.js';
import type { TrainOptions } from '../options.js';

/** The dataset and how the run splits it. */
export interface RunSplits {
  data: Dataset;
  /** Values per example. */
  exampleSize: number;
  /** Training examples in use (after `trainLimit`). */
  usable: number;
  /** Indices into the training images of the rows that are fitted, in seeded order. */
  fitRows: Uint32Array;
  /** The held-out validation split, or undefined when `valFraction` is 0. */
  val: Split | undefined;
}

/** Copies the rows `indices` of `source` into a new contiguous split. */
function gatherSplit(source: Split, indices: Uint32Array, size: number): Split {
  const images = new Float32Array(indices.length * size);
  indices.forEach((row, i) => {
    images.set(source.images.subarray(row * size, (row + 1) * size), i * size);
  });
  return { images, count: indices.length };
}

/**
 * Loads the dataset (unless it is given in memory) and splits its training part.
 * @throws DataError for Bernoulli data outside [0, 1], or fewer training rows than one batch.
 */
export async function prepareSplits(o: TrainOptions): Promise<RunSplits> {
  const data = typeof o.dataset === 'string' ? await loadDataset(o.dataset, o.datasetOptions) : o.dataset;
  const exampleSize = sizeOf(data.shape);
  if (o.likelihood === 'bernoulli') {
    const bad = data.train.images.findIndex((v) => v < 0 || v > 1);
    if (bad >= 0) {
      throw new DataError(
        `cannot train a Bernoulli VAE on "${data.name}": value ${data.train.images[bad]} at index ${bad} is outside [0, 1]; use --likelihood gaussian`,
      );
    }
  }
  const usable = Math.min(data.train.count, o.trainLimit ?? data.train.count);
  const valCount = Math.floor(usable * o.valFraction);
  const split = permutation(usable, createRng(deriveSeed(o.seed, 0x7a1)));
  const fitRows = split.subarray(valCount);
  if (fitRows.length < o.batchSize) {
    throw new DataError(
      `cannot train on "${data.name}": ${fitRows.length} training examples is fewer than one batch of ${o.batchSize}`,
    );
  }
  const val = valCount > 0 ? gatherSplit(data.train, split.subarray(0, valCount), exampleSize) : undefined;
  return { data, exampleSize, usable, fitRows, val };
}
