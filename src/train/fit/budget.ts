/**
 * How much of the end-of-run evaluation a network can afford. The figures are sized for the 28×28
 * networks (the IWAE bound on 1,000 test examples, the anomaly calibration on 5,000 rows); a 64×64
 * decoder costs about twelve times the default conv's per example, and at those sizes its evaluation
 * would take most of an hour. The card says how many examples each figure used.
 */
import type * as tf from '@tensorflow/tfjs';

/** Multiply-adds the IWAE bound may spend on decoding: the default conv on 28×28 at 1,000 examples, k = 100. */
const IWAE_BUDGET_MACS = 5e11;

/** Multiply-adds each calibration set may spend on decoding: the default conv on 28×28 at 5,000 rows, K = 16. */
const CALIBRATION_BUDGET_MACS = 4e11;

/**
 * The multiply-adds of one example through a network, estimated from its layers: a kernel's size
 * times the positions it is applied at (the output's for convolutions and dense layers, the input's
 * for transposed convolutions).
 */
export function forwardMacs(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const kernel = layer.weights[0];
    if (!kernel || kernel.shape.length < 2) continue;
    const transposed = layer.getClassName().endsWith('Transpose');
    const shape = transposed
      ? (layer.input as tf.SymbolicTensor).shape
      : (layer.outputShape as (number | null)[]);
    const positions = shape.slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
    total += (kernel.shape as number[]).reduce((a, b) => a * b, 1) * positions;
  }
  return Math.max(1, total);
}

/** How many test examples the IWAE bound with `k` samples can take within its budget (at least 32). */
export function iwaeExamplesWithin(decoder: tf.LayersModel, k: number): number {
  if (k <= 1) return Number.MAX_SAFE_INTEGER;
  return Math.max(32, Math.floor(IWAE_BUDGET_MACS / (k * forwardMacs(decoder))));
}

/** How many rows each anomaly calibration set with `samples` draws can take within its budget (at least 500). */
export function calibrationExamplesWithin(decoder: tf.LayersModel, samples: number): number {
  return Math.max(500, Math.floor(CALIBRATION_BUDGET_MACS / (samples * forwardMacs(decoder))));
}
