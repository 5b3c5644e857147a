/**
 * The data of one training run: the dataset, the seeded split of its training part into the rows
 * that are fitted and a validation split, checked against the likelihood and the batch size.
 */
import { sizeOf } from '../../core/model-dir.js';
import { fitNormalization, type Normalization, standardize } from '../../core/normalization.js';
import { createRng, deriveSeed, permutation } from '../../core/random.js';
import { type Dataset, type Split, sharedFloat32 } from '../dataset.js';
import { DataError } from '../errors.js';
import type { TrainOptions } from '../options.js';

/** The dataset and how the run splits it. */
export interface RunSplits {
  /** The dataset as the networks see it (standardized when `normalization` is set). */
  data: Dataset;
  /** The per-feature standardisation applied to `data`, when the run standardizes. */
  normalization: Normalization | undefined;
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
 * Splits the training part of `loaded` (the dataset, loaded by the caller), standardized when asked.
 * @throws DataError for Bernoulli data outside [0, 1], or fewer training rows than one batch.
 */
export function prepareSplits(o: TrainOptions, loaded: Dataset): RunSplits {
  const exampleSize = sizeOf(loaded.shape);
  const { data, normalization } = standardizeIfAsked(loaded, o);
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
  return { data, normalization, exampleSize, usable, fitRows, val };
}

/**
 * The dataset standardized per feature with its training split's mean and std, when the options ask
 * for it (`auto`: `csv:` data with the Gaussian likelihood); else as it is.
 * @throws DataError for standardized data with the Bernoulli likelihood (which needs values in [0, 1]).
 */
function standardizeIfAsked(
  data: Dataset,
  o: TrainOptions,
): { data: Dataset; normalization: Normalization | undefined } {
  const wanted =
    o.standardize === 'auto' ? data.name.startsWith('csv:') && o.likelihood === 'gaussian' : o.standardize;
  if (!wanted) return { data, normalization: undefined };
  if (o.likelihood === 'bernoulli') {
    throw new DataError(
      `cannot standardize "${data.name}" for a Bernoulli VAE: standardized values leave [0, 1]; use --likelihood gaussian`,
    );
  }
  const D = sizeOf(data.shape);
  const usable = Math.min(data.train.count, o.trainLimit ?? data.train.count);
  const normalization = fitNormalization(data.train.images, usable, D);
  // Shared memory, as loadDataset's own arrays, so that worker threads read it without a copy.
  const shared = (values: Float32Array) => {
    const out = sharedFloat32(values.length);
    out.set(standardize(values, normalization));
    return out;
  };
  return {
    data: {
      ...data,
      train: { ...data.train, images: shared(data.train.images) },
      test: { ...data.test, images: shared(data.test.images) },
    },
    normalization,
  };
}
