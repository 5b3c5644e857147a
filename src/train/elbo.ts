import * as tf from '@tensorflow/tfjs';

/** The negative ELBO of each example, split into its two terms (nats). */
export interface ElboTerms {
  /** -log p(x|z) for the sampled z, per example. */
  recon: tf.Tensor1D;
  /** KL(q(z|x) || N(0, I)), per example. */
  kl: tf.Tensor1D;
  /** recon + kl, per example. */
  negElbo: tf.Tensor1D;
}

function sumPerExample(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(tf.reshape(t, [t.shape[0] as number, -1]), 1) as tf.Tensor1D;
}

/**
 * Bernoulli negative log-likelihood of targets `x` in [0, 1] under `logits`, summed per example, in
 * the stable form max(l, 0) − l·x + log(1 + exp(−|l|)), which never exponentiates a large number.
 */
export function bernoulliNll(logits: tf.Tensor, x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const l = tf.reshape(logits, x.shape);
    const terms = tf.add(tf.sub(tf.relu(l), tf.mul(l, x)), tf.log1p(tf.exp(tf.neg(tf.abs(l)))));
    return sumPerExample(terms);
  });
}

/**
 * Gaussian negative log-likelihood of `x` under N(mean, exp(logVariance)), summed per example:
 * ½ Σ [(x − mean)² / σ² + log σ² + log 2π]. `logVariance` is a scalar shared by every value.
 */
export function gaussianNll(mean: tf.Tensor, x: tf.Tensor, logVariance: tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => {
    const m = tf.reshape(mean, x.shape);
    const sq = tf.mul(tf.square(tf.sub(x, m)), tf.exp(tf.neg(logVariance)));
    return tf.mul(
      0.5,
      tf.add(sumPerExample(sq), tf.mul(sizeOfExample(x), tf.add(logVariance, Math.log(2 * Math.PI)))),
    ) as tf.Tensor1D;
  });
}

function sizeOfExample(x: tf.Tensor): number {
  return x.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** KL(N(mu, exp(logvar)) || N(0, 1)) for every example and latent dimension: ½ (exp(logvar) + mu² − 1 − logvar). */
export function klPerDimension(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () => tf.mul(0.5, tf.sub(tf.add(tf.exp(logvar), tf.square(mu)), tf.add(1, logvar))) as tf.Tensor2D,
  );
}

/** Analytic KL(N(mu, exp(logvar)) || N(0, I)) per example: −½ Σ (1 + logvar − mu² − exp(logvar)). */
export function klStandardNormal(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const inner = tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar));
    return tf.mul(-0.5, tf.sum(inner, 1)) as tf.Tensor1D;
  });
}

/** z = mu + exp(logvar / 2) · eps: the reparameterization, differentiable in mu and logvar. */
export function reparameterize(mu: tf.Tensor2D, logvar: tf.Tensor2D, eps: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D);
}

/** The likelihood p(x|z) and its parameter: Bernoulli from logits, or Gaussian with a log-variance. */
export type LikelihoodSpec = { kind: 'bernoulli' } | { kind: 'gaussian'; logVariance: tf.Scalar };

/** −log p(x|z) per example for the decoder's output under `likelihood`. */
export function reconstructionNll(likelihood: LikelihoodSpec, decoded: tf.Tensor, x: tf.Tensor): tf.Tensor1D {
  return likelihood.kind === 'bernoulli'
    ? bernoulliNll(decoded, x)
    : gaussianNll(decoded, x, likelihood.logVariance);
}

/** The per-example negative ELBO with a Bernoulli likelihood: reconstruction NLL plus analytic KL. */
export function negElboBernoulli(
  x: tf.Tensor,
  logits: tf.Tensor,
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
): ElboTerms {
  const recon = bernoulliNll(logits, x);
  const kl = klStandardNormal(mu, logvar);
  return { recon, kl, negElbo: tf.add(recon, kl) as tf.Tensor1D };
}
