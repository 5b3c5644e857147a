/**
 * The MLP VAE's objective and its gradient derived by hand: one forward pass and one backward pass of
 * explicit tfjs ops, no autodiff tape, every matMul without transposed operands (which tfjs-backend-
 * wasm runs ten times slower; explicit transposes instead), small right-hand operands (below), and no
 * input gradient for the first layer. test/mlp-grad.test.ts checks it against tfjs's autodiff of the
 * same objective (objective.ts) within 1e-5.
 *
 *   h1 = relu(x W1 + b1); [mu | lv] = h1 W2 + b2; z = mu + exp(lv / 2) ⊙ eps
 *   h3 = relu(z W3 + b3); l = h3 W4 + b4   (logits, or the Gaussian mean)
 *   objective = mean_n recon_n + β · KL-term;  KL_{n,d} = ½ (e^lv + mu² − 1 − lv)
 */
import * as tf from '@tensorflow/tfjs';
import type { VaeNetworks } from './model.js';
import type { ObjectiveSettings } from './objective.js';
import type { StepResult } from './step.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** The layers of the seed's MLP VAE, in the order of their trainable weights. */
const MLP_LAYERS = ['enc_hidden', 'enc_out', 'dec_hidden', 'dec_out'] as const;

/**
 * True when `nets` is the seed's MLP (buildMlpVae): Dense(relu), Dense; Dense(relu), Dense, Reshape,
 * with an optional Flatten first; the layers the hand-derived gradient knows.
 */
export function isSeedMlp(nets: VaeNetworks): boolean {
  const dense = [...nets.encoder.layers, ...nets.decoder.layers].filter((l) => l.getClassName() === 'Dense');
  const others = [...nets.encoder.layers, ...nets.decoder.layers].filter(
    (l) => !['Dense', 'Flatten', 'Reshape', 'InputLayer'].includes(l.getClassName()),
  );
  const activations = dense.map((l) => String(l.getConfig().activation));
  return (
    others.length === 0 &&
    dense.map((l) => l.name).join() === MLP_LAYERS.join() &&
    activations.join() === 'relu,linear,relu,linear' &&
    dense.every((l) => l.trainableWeights.length === 2)
  );
}

/** relu's gradient mask from its output: 1 where it is positive (where the pre-activation was, as tfjs's own relu gradient), else 0. */
const reluMask = (out: tf.Tensor) => tf.step(out);

/**
 * The objective, the plain negative ELBO and the gradient of the objective with respect to
 * `variables` (the MLP's eight weights in order, then a learned log-variance if any), for a batch `x`
 * and noise `eps`. Call inside tf.tidy; the caller owns the returned tensors.
 */
export function mlpLossAndGrads(
  variables: readonly tf.Variable[],
  x: tf.Tensor,
  eps: tf.Tensor2D,
  s: ObjectiveSettings,
): StepResult {
  const [W1, b1, W2, b2, W3, b3, W4, b4, learnedLv] = variables as tf.Variable[];
  const n = x.shape[0] as number;
  const D = x.size / n;
  // The two wide layers (D × hidden) run in feature-by-batch layout. tfjs-backend-wasm hands each
  // matMul's right operand to XNNPACK, which repacks it on every call: a 784 × 400 weight costs
  // ~0.8 ms to pack, a 784 × 64 batch ~0.15 ms. So the weights go on the left (transposed once per
  // step where needed) and the batch-sized factors on the right.
  const xT = tf.transpose(tf.reshape(x, [n, D])) as tf.Tensor2D;
  const column = (b: tf.Tensor) => tf.reshape(b, [b.size, 1]);
  // Forward.
  const h1T = tf.relu(
    tf.add(tf.matMul(tf.transpose(W1 as tf.Tensor2D), xT), column(b1 as tf.Tensor)),
  ) as tf.Tensor2D;
  const h1 = tf.transpose(h1T);
  // Bias and relu go into the narrow layers' matMuls (XNNPACK adds them as it accumulates).
  const o = tf.fused.matMul({ a: h1, b: W2 as tf.Tensor2D, bias: b2 as tf.Tensor1D });
  const [mu, lv] = tf.split(o, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const sd = tf.exp(tf.mul(0.5, lv));
  const z = tf.add(mu, tf.mul(sd, eps)) as tf.Tensor2D;
  const h3 = tf.fused.matMul({ a: z, b: W3 as tf.Tensor2D, bias: b3 as tf.Tensor1D, activation: 'relu' });
  const h3T = tf.transpose(h3);
  const lT = tf.add(tf.matMul(tf.transpose(W4 as tf.Tensor2D), h3T), column(b4 as tf.Tensor)) as tf.Tensor2D;

  // The objective, and d objective / d l (mean over the batch), in the same layout as lT.
  let recon: tf.Scalar;
  let dlT: tf.Tensor2D;
  let dLogVariance: tf.Scalar | undefined;
  if (s.likelihood.kind === 'bernoulli') {
    // softplus(l) − l·x, with softplus(l) = relu(l) + log(1 + e^−|l|) and e^−|l| − 1 = elu(−|l|):
    // elu, log and sigmoid are vectorized on wasm, where exp and log1p are ten times slower.
    const tail = tf.log(tf.add(tf.elu(tf.neg(tf.abs(lT))), 2));
    recon = tf.div(tf.add(tf.sum(tf.sub(tf.relu(lT), tf.mul(lT, xT))), tf.sum(tail)), n) as tf.Scalar;
    dlT = tf.div(tf.sub(tf.sigmoid(lT), xT), n) as tf.Tensor2D;
  } else {
    const logVariance = s.likelihood.logVariance;
    const inv = tf.exp(tf.neg(logVariance));
    const diff = tf.sub(lT, xT);
    const squares = tf.sum(tf.square(diff));
    recon = tf.add(
      tf.mul(0.5, tf.div(tf.mul(squares, inv), n)),
      tf.mul(0.5 * D, tf.add(logVariance, LOG_2PI)),
    ) as tf.Scalar;
    dlT = tf.div(tf.mul(diff, inv), n) as tf.Tensor2D;
    // d/d log σ² of mean_n ½ (Σ (x − l)² e^{−lv} + D (lv + log 2π)) = ½ (D − mean_n Σ (x − l)² e^{−lv}).
    if (learnedLv) dLogVariance = tf.mul(0.5, tf.sub(D, tf.div(tf.mul(squares, inv), n))) as tf.Scalar;
  }
  const expLv = tf.square(sd);
  const klDims = tf.mul(0.5, tf.sub(tf.add(expLv, tf.square(mu)), tf.add(1, lv))) as tf.Tensor2D;
  const kl = tf.div(tf.sum(klDims), n) as tf.Scalar;
  // The KL term's weight per latent dimension: β/n, or with free bits 0 where the dimension's
  // batch-mean KL is below λ (the gradient of max(mean KL, λ) goes to the KL when it is the larger).
  let klTerm: tf.Scalar = kl;
  let klWeight: tf.Tensor = tf.scalar(s.beta / n);
  if (s.freeBits > 0) {
    const perDim = tf.mean(klDims, 0);
    klTerm = tf.sum(tf.maximum(perDim, s.freeBits)) as tf.Scalar;
    klWeight = tf.mul(tf.cast(tf.greaterEqual(perDim, s.freeBits), 'float32'), s.beta / n);
  }
  const objective = tf.add(recon, tf.mul(s.beta, klTerm)) as tf.Scalar;
  const negElbo = tf.add(recon, kl) as tf.Scalar;

  // Backward.
  const dW4 = tf.matMul(h3T, tf.transpose(dlT));
  const db4 = tf.sum(dlT, 1);
  const dh3 = tf.transpose(tf.mul(tf.matMul(W4 as tf.Tensor2D, dlT), reluMask(h3T)));
  const dW3 = tf.matMul(tf.transpose(z), dh3);
  const db3 = tf.sum(dh3, 0);
  const dz = tf.matMul(dh3, tf.transpose(W3 as tf.Tensor2D));
  const dmu = tf.add(dz, tf.mul(klWeight, mu));
  const dlv = tf.add(
    tf.mul(tf.mul(dz, eps), tf.mul(0.5, sd)),
    tf.mul(klWeight, tf.mul(0.5, tf.sub(expLv, 1))),
  );
  const dout = tf.concat([dmu, dlv], 1) as tf.Tensor2D;
  const dW2 = tf.matMul(h1T, dout);
  const db2 = tf.sum(dout, 0);
  const dh1 = tf.mul(tf.matMul(dout, tf.transpose(W2 as tf.Tensor2D)), reluMask(h1));
  const dW1 = tf.matMul(xT, dh1);
  const db1 = tf.sum(dh1, 0);

  const grads: tf.NamedTensorMap = {};
  const values = [dW1, db1, dW2, db2, dW3, db3, dW4, db4];
  variables.slice(0, 8).forEach((v, i) => {
    grads[v.name] = values[i] as tf.Tensor;
  });
  if (learnedLv) grads[learnedLv.name] = dLogVariance ?? tf.scalar(0);
  return { objective, negElbo, grads };
}
