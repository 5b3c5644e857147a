import * as tf from '@tensorflow/tfjs';
import { klPerDimension, type LikelihoodSpec, reconstructionNll } from './elbo.js';

/** The objective's settings. */
export interface ObjectiveSettings {
  likelihood: LikelihoodSpec;
  /** The KL weight for this step (after warm-up). */
  beta: number;
  /** Nats per latent dimension; 0 is off. */
  freeBits: number;
  /**
   * Seeds what the networks draw while training (Dropout's masks, GaussianNoise), which tfjs takes
   * from Math.random when a layer has no seed of its own: a step then computes the same numbers
   * whenever it runs, so a resumed run continues bit for bit.
   */
  randomSeed?: number;
}

/** The KL weight at a global step: β, ramped linearly from 0 over `warmupSteps` steps. */
export function betaAt(step: number, beta: number, warmupSteps: number): number {
  return warmupSteps > 0 ? beta * Math.min(1, (step + 1) / warmupSteps) : beta;
}

/**
 * The training objective of one batch and its plain negative ELBO.
 * objective = mean(recon) + β · KL-term, where the KL term is mean(KL), or with free bits
 * Σ_d max(mean_n KL_{n,d}, λ) (Kingma et al., 2016).
 */
export function batchObjective(
  x: tf.Tensor,
  decoded: tf.Tensor,
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
  s: ObjectiveSettings,
): { objective: tf.Scalar; negElbo: tf.Scalar } {
  const recon = tf.mean(reconstructionNll(s.likelihood, decoded, x));
  const klDims = klPerDimension(mu, logvar);
  const kl = tf.mean(tf.sum(klDims, 1));
  const klTerm = s.freeBits > 0 ? tf.sum(tf.maximum(tf.mean(klDims, 0), s.freeBits)) : kl;
  return {
    objective: tf.add(recon, tf.mul(s.beta, klTerm)) as tf.Scalar,
    negElbo: tf.add(recon, kl) as tf.Scalar,
  };
}
