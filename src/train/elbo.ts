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
