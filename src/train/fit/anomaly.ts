/**
 * The end of a run measures the anomaly scores on the model's own data, for card.json: the `dose`
 * reference on training rows it fitted, every score's calibration on rows it did not (the validation
 * split, else the test split). Through the tfjs networks, with the runtime's own arithmetic, so that
 * onnxruntime gives the same percentiles later.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnomalyCalibration } from '../../core/anomaly-card.js';
import { deriveSeed } from '../../core/random.js';
import {
  calibrateAnomaly,
  DEFAULT_SCORE_SAMPLES,
  type ScoringNetworks,
} from '../../runtime/anomaly/compute.js';
import type { LikelihoodSpec } from '../../runtime/likelihood.js';
import type { Split } from '../dataset.js';
import type { VaeNetworks } from '../model.js';
import { latentWidth, splitMoments } from '../model.js';
import { calibrationExamplesWithin } from './budget.js';

/**
 * The most examples each of the reference and the calibration uses (5,000: ±0.14 points at a 1 %
 * rate); fewer for networks whose decoder is costly (see budget.ts), at least 500.
 */
export const CALIBRATION_EXAMPLES = 5000;

/** The tfjs networks as the anomaly scores use them (the decoder gives logits for a Bernoulli model). */
export function tfjsScoringNetworks(
  nets: VaeNetworks,
  inputShape: readonly number[],
  likelihood: LikelihoodSpec,
  nllShift: number,
): ScoringNetworks {
  const latentDim = latentWidth(nets.decoder);
  return {
    inputShape,
    latentDim,
    likelihood,
    nllShift,
    encode: async (x, n) => {
      const [mu, logvar] = tf.tidy(() => {
        const m = splitMoments(
          nets.encoder.predict(tf.tensor(x, [n, ...inputShape])) as tf.Tensor | tf.Tensor[],
        );
        return [m.mu, m.logvar];
      }) as [tf.Tensor, tf.Tensor];
      try {
        return { mu: (await mu.data()) as Float32Array, logvar: (await logvar.data()) as Float32Array };
      } finally {
        tf.dispose([mu, logvar]);
      }
    },
    decode: async (z, n) => {
      const out = tf.tidy(() => nets.decoder.predict(tf.tensor2d(z, [n, latentDim])) as tf.Tensor);
      try {
        return { data: (await out.data()) as Float32Array, isLogits: likelihood.kind === 'bernoulli' };
      } finally {
        out.dispose();
      }
    },
  };
}

/** The first `limit` rows of `rows` (a seeded order) of `split`, contiguous. */
function gather(split: Split, rows: ArrayLike<number>, size: number, limit: number): Float32Array {
  const n = Math.min(limit, rows.length);
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    out.set(split.images.subarray(r * size, (r + 1) * size), i * size);
  }
  return out;
}

/**
 * The anomaly section of the run's card: reference on up to 5,000 of the fitted rows (`fitRows`, in
 * their seeded order), calibration on up to 5,000 held-out rows.
 */
export async function calibrateRun(
  nets: VaeNetworks,
  inputShape: readonly number[],
  likelihood: LikelihoodSpec,
  nllShift: number,
  data: { train: Split; fitRows: ArrayLike<number>; heldOut: Split; heldOutName: string },
  seed: number,
  onStage?: (stage: string, done: number, total: number) => void,
): Promise<AnomalyCalibration> {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const most = Math.min(CALIBRATION_EXAMPLES, calibrationExamplesWithin(nets.decoder, DEFAULT_SCORE_SAMPLES));
  const heldOutRows = Array.from({ length: Math.min(most, data.heldOut.count) }, (_, i) => i);
  return calibrateAnomaly(
    tfjsScoringNetworks(nets, inputShape, likelihood, nllShift),
    { x: gather(data.train, data.fitRows, size, most), split: 'train' },
    { x: gather(data.heldOut, heldOutRows, size, most), split: data.heldOutName },
    { seed: deriveSeed(seed, 0xa0a1) % 1_000_000, ...(onStage ? { onStage } : {}) },
  );
}
