import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../core/model-dir.js';
import { normalArray } from '../core/random.js';
import type { Split } from './dataset.js';
import { klStandardNormal, type LikelihoodSpec, reconstructionNll, reparameterize } from './elbo.js';
import { latentWidth, splitMoments } from './model.js';

/** Mean figures over a split, in nats per example. */
export interface ElboReport {
  /** Single-sample negative ELBO. */
  negElbo: number;
  recon: number;
  kl: number;
  examples: number;
}

/** `ElboReport` plus the importance-weighted bound and the active latent units. */
export interface EvaluationReport extends ElboReport {
  /** −log p(x) estimated with `iw` importance samples (the IWAE bound), or null when iw = 0. */
  iwaeNll: number | null;
  iw: number;
  /** Examples the IWAE figure averages over (the first ones of the split). */
  iwExamples: number;
  /** Latent dimensions whose posterior mean varies across examples: Var_x(E_q[z_d]) > 0.01. */
  activeUnits: number;
}

/** Options of `evaluateElbo` and `evaluate`. */
export interface EvaluateOptions {
  batchSize: number;
  /** Seeds the z samples. */
  seed: number;
  /** Evaluate only the first `limit` examples. */
  limit?: number;
  likelihood?: LikelihoodSpec;
  /** Called after each batch: examples done, and the total. */
  onProgress?: (done: number, total: number) => void;
}

const BERNOULLI: LikelihoodSpec = { kind: 'bernoulli' };
const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The single-sample negative ELBO of a split, averaged over its examples, computed with the
 * networks' own `predict` (the inference path, not the training one).
 */
export async function evaluateElbo(
  encoder: tf.LayersModel,
  decoder: tf.LayersModel,
  split: Split,
  shape: number[],
  options: EvaluateOptions,
): Promise<ElboReport & { muVariance: Float64Array }> {
  const D = sizeOf(shape);
  const count = Math.min(split.count, options.limit ?? split.count);
  const latent = latentWidth(decoder);
  const eps = normalArray(count * latent, options.seed);
  const likelihood = options.likelihood ?? BERNOULLI;
  const sums = { negElbo: 0, recon: 0, kl: 0 };
  const muSum = new Float64Array(latent);
  const muSq = new Float64Array(latent);
  for (let start = 0; start < count; start += options.batchSize) {
    const n = Math.min(options.batchSize, count - start);
    const parts = tf.tidy(() => {
      const x = tf.tensor(split.images.subarray(start * D, (start + n) * D), [n, ...shape]);
      const { mu, logvar } = splitMoments(encoder.predict(x) as tf.Tensor | tf.Tensor[]);
      const z = reparameterize(
        mu,
        logvar,
        tf.tensor2d(eps.subarray(start * latent, (start + n) * latent), [n, latent]),
      );
      const recon = reconstructionNll(likelihood, decoder.predict(z) as tf.Tensor, x);
      const kl = klStandardNormal(mu, logvar);
      return [tf.sum(recon), tf.sum(kl), mu];
    });
    const [r, k, mu] = (await Promise.all(parts.map((t) => t.data()))) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    tf.dispose(parts);
    options.onProgress?.(start + n, count);
    sums.recon += r[0] as number;
    sums.kl += k[0] as number;
    for (let i = 0; i < mu.length; i++) {
      const v = mu[i] as number;
      const d = i % latent;
      muSum[d] = (muSum[d] as number) + v;
      muSq[d] = (muSq[d] as number) + v * v;
    }
  }
  sums.negElbo = sums.recon + sums.kl;
  const muVariance = muSum.map((s, d) => (muSq[d] as number) / count - (s / count) ** 2);
  return {
    negElbo: sums.negElbo / count,
    recon: sums.recon / count,
    kl: sums.kl / count,
    examples: count,
    muVariance,
  };
}

/**
 * −log p(x) per example by importance sampling with `k` draws from q(z|x):
 * log p(x) ≈ log (1/k) Σ_j p(x|z_j) p(z_j) / q(z_j|x), a lower bound of log p(x) that tightens as k grows.
 */
export async function iwaeNll(
  encoder: tf.LayersModel,
  decoder: tf.LayersModel,
  split: Split,
  shape: number[],
  k: number,
  options: EvaluateOptions,
): Promise<number> {
  const D = sizeOf(shape);
  const count = Math.min(split.count, options.limit ?? split.count);
  const latent = latentWidth(decoder);
  const likelihood = options.likelihood ?? BERNOULLI;
  // Examples per chunk so that one decoder call sees about 4,096 rows.
  const perChunk = Math.max(1, Math.floor(4096 / k));
  // The same k draws for every example (as the runtime's scores use them): an example's estimate
  // does not depend on its batch.
  const draws = normalArray(k * latent, options.seed);
  let total = 0;
  for (let start = 0; start < count; start += perChunk) {
    const n = Math.min(perChunk, count - start);
    const sum = tf.tidy(() => {
      const x = tf.tensor(split.images.subarray(start * D, (start + n) * D), [n, ...shape]);
      const { mu, logvar } = splitMoments(encoder.predict(x) as tf.Tensor | tf.Tensor[]);
      // Rows ordered example-major: k draws of example 0, then k of example 1, …
      const muK = tf.reshape(tf.tile(tf.expandDims(mu, 1), [1, k, 1]), [n * k, latent]) as tf.Tensor2D;
      const lvK = tf.reshape(tf.tile(tf.expandDims(logvar, 1), [1, k, 1]), [n * k, latent]) as tf.Tensor2D;
      const e = tf.tile(tf.tensor2d(draws, [k, latent]), [n, 1]);
      const z = reparameterize(muK, lvK, e);
      // Tiled as rows of D values: webgpu reads a rank-5 tile back to the CPU, synchronously.
      const xK = tf.reshape(tf.tile(tf.expandDims(tf.reshape(x, [n, D]), 1), [1, k, 1]), [n * k, ...shape]);
      const logPxz = tf.neg(reconstructionNll(likelihood, decoder.predict(z) as tf.Tensor, xK));
      const logPz = tf.mul(-0.5, tf.sum(tf.add(tf.square(z), LOG_2PI), 1));
      const logQ = tf.mul(-0.5, tf.sum(tf.add(tf.add(tf.square(e), lvK), LOG_2PI), 1));
      const logW = tf.reshape(tf.sub(tf.add(logPxz, logPz), logQ), [n, k]);
      return tf.sum(tf.sub(Math.log(k), tf.logSumExp(logW, 1)));
    });
    total += (await sum.data())[0] as number;
    sum.dispose();
    options.onProgress?.(start + n, count);
  }
  return total / count;
}

/** The figures `evaluate` computes in turn. */
export type EvaluationStage = 'neg-ELBO' | 'IWAE bound';

/** The threshold on Var_x(E_q[z_d]) above which a latent unit counts as active (Burda et al., 2016). */
export const ACTIVE_UNIT_THRESHOLD = 0.01;

/**
 * Evaluates a VAE on a split: single-sample negative ELBO with its two terms, the importance-weighted
 * NLL with `iw` samples (skipped when iw = 0), and the number of active latent units.
 */
export async function evaluate(
  encoder: tf.LayersModel,
  decoder: tf.LayersModel,
  split: Split,
  shape: number[],
  options: Omit<EvaluateOptions, 'onProgress'> & {
    iw: number;
    iwLimit?: number;
    /** Called after each batch: which figure is being computed, examples done, and the total. */
    onProgress?: (stage: EvaluationStage, done: number, total: number) => void;
  },
): Promise<EvaluationReport> {
  const { onProgress, ...rest } = options;
  const stage = (name: EvaluationStage) =>
    onProgress ? { onProgress: (done: number, total: number) => onProgress(name, done, total) } : {};
  const { muVariance, ...elbo } = await evaluateElbo(encoder, decoder, split, shape, {
    ...rest,
    ...stage('neg-ELBO'),
  });
  const activeUnits = muVariance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length;
  const iwExamples = Math.min(elbo.examples, options.iwLimit ?? elbo.examples);
  const iwae =
    options.iw > 0
      ? await iwaeNll(encoder, decoder, split, shape, options.iw, {
          ...rest,
          limit: iwExamples,
          ...stage('IWAE bound'),
        })
      : null;
  return { ...elbo, iwaeNll: iwae, iw: options.iw, iwExamples: options.iw > 0 ? iwExamples : 0, activeUnits };
}
