import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../core/card.js';
import { normalArray } from '../core/random.js';
import type { Split } from './datasets.js';
import { negElboBernoulli, reparameterize } from './elbo.js';
import { splitMoments } from './model.js';

/** Mean figures over a split, in nats per example. */
export interface ElboReport {
  negElbo: number;
  recon: number;
  kl: number;
  examples: number;
}

/** Options of `evaluateElbo`. */
export interface EvaluateOptions {
  batchSize: number;
  /** Seeds the single z sample drawn per example. */
  seed: number;
  /** Evaluate only the first `limit` examples. */
  limit?: number;
}

/**
 * The single-sample negative ELBO of a split, averaged over its examples, computed with the
 * networks' own `predict` (the inference path, not the training one).
 */
export function evaluateElbo(
  encoder: tf.LayersModel,
  decoder: tf.LayersModel,
  split: Split,
  shape: number[],
  options: EvaluateOptions,
): ElboReport {
  const D = sizeOf(shape);
  const count = Math.min(split.count, options.limit ?? split.count);
  const latent = (encoder.outputs[0]?.shape[1] as number) / 2;
  const eps = normalArray(count * latent, options.seed);
  const sums = { negElbo: 0, recon: 0, kl: 0 };
  for (let start = 0; start < count; start += options.batchSize) {
    const n = Math.min(options.batchSize, count - start);
    const batch = tf.tidy(() => {
      const x = tf.tensor(split.images.subarray(start * D, (start + n) * D), [n, ...shape]);
      const { mu, logvar } = splitMoments(encoder.predict(x) as tf.Tensor);
      const z = reparameterize(
        mu,
        logvar,
        tf.tensor2d(eps.subarray(start * latent, (start + n) * latent), [n, latent]),
      );
      const terms = negElboBernoulli(x, decoder.predict(z) as tf.Tensor, mu, logvar);
      return [tf.sum(terms.negElbo), tf.sum(terms.recon), tf.sum(terms.kl)];
    });
    const [a, b, c] = batch.map((t) => t.dataSync()[0] as number);
    tf.dispose(batch);
    sums.negElbo += a as number;
    sums.recon += b as number;
    sums.kl += c as number;
  }
  return { negElbo: sums.negElbo / count, recon: sums.recon / count, kl: sums.kl / count, examples: count };
}
