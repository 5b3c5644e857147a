/**
 * The MLP VAE's objective and its gradient derived by hand, for any number of hidden layers: one
 * forward pass and one backward pass of explicit tfjs ops, no autodiff tape, every matMul without
 * transposed operands (which tfjs-backend-wasm runs ten times slower; explicit transposes instead),
 * small right-hand operands (below), and no input gradient for the first layer.
 * test/mlp-grad.test.ts checks it against tfjs's autodiff of the same objective (objective.ts)
 * within 1e-5, at one hidden layer and at several.
 *
 *   h1 = relu(x W1 + b1); …; hk = relu(h(k−1) Wk + bk); [mu | lv] = hk We + be;
 *   z = mu + exp(lv / 2) ⊙ eps; g1 = relu(z V1 + c1); …; gk = relu(g(k−1) Vk + ck); l = gk Vd + cd
 *   objective = mean_n recon_n + β · KL-term;  KL_{n,d} = ½ (e^lv + mu² − 1 − lv)
 */
import * as tf from '@tensorflow/tfjs';
import type { VaeNetworks } from './model.js';
import type { ObjectiveSettings } from './objective.js';
import type { StepResult } from './step.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Dense layers of a network, or undefined when it has a layer the hand-derived gradient does not know. */
function denseLayers(model: tf.LayersModel, allowed: readonly string[]): tf.layers.Layer[] | undefined {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  if (layers.some((l) => !['Dense', ...allowed].includes(l.getClassName()))) return undefined;
  return layers.filter((l) => l.getClassName() === 'Dense');
}

/**
 * True when `nets` is the built-in MLP (buildMlpVae) of any depth: [Flatten], Dense(relu)…,
 * Dense(linear) in the encoder; Dense(relu)…, Dense(linear), Reshape in the decoder, every Dense with
 * its bias; the layers the hand-derived gradient knows.
 */
export function isSeedMlp(nets: VaeNetworks): boolean {
  const enc = denseLayers(nets.encoder, ['Flatten']);
  const dec = denseLayers(nets.decoder, ['Reshape']);
  if (!enc || !dec || enc.length < 2 || enc.length !== dec.length) return false;
  const k = enc.length - 1;
  const activations = [...enc, ...dec].map((l) => String(l.getConfig().activation));
  const want = [...Array(k).fill('relu'), 'linear', ...Array(k).fill('relu'), 'linear'];
  return (
    activations.join() === want.join() &&
    enc.at(-1)?.name === 'enc_out' &&
    dec.at(-1)?.name === 'dec_out' &&
    [...enc, ...dec].every((l) => l.trainableWeights.length === 2)
  );
}

/** relu's gradient mask from its output: 1 where it is positive (where the pre-activation was, as tfjs's own relu gradient), else 0. */
const reluMask = (out: tf.Tensor) => tf.step(out);

/**
 * The objective, the plain negative ELBO and the gradient of the objective with respect to
 * `variables` (the MLP's kernels and biases in order, then a learned log-variance if any), for a
 * batch `x` and noise `eps`. Call inside tf.tidy; the caller owns the returned tensors.
 */
export function mlpLossAndGrads(
  variables: readonly tf.Variable[],
  x: tf.Tensor,
  eps: tf.Tensor2D,
  s: ObjectiveSettings,
): StepResult {
  const learnedLv = variables.length % 2 === 1 ? variables.at(-1) : undefined;
  const weights = variables.slice(0, variables.length - (learnedLv ? 1 : 0)) as tf.Variable[];
  const pairs = weights.length / 2;
  const k = pairs / 2 - 1;
  const W = (i: number) => weights[2 * i] as unknown as tf.Tensor2D;
  const B = (i: number) => weights[2 * i + 1] as unknown as tf.Tensor1D;
  // Layer i: encoder hidden 0…k−1, enc_out k; decoder hidden k+1…2k, dec_out 2k+1.
  const n = x.shape[0] as number;
  const D = x.size / n;
  // Layers with a weight of hidden × hidden or wider run in feature-by-batch layout (activations
  // [width, n]). A matMul on wasm repacks its right operand on every call (XNNPACK and our own,
  // wasm-gemm.ts, alike): a 784 × 400 weight costs ~0.8 ms to pack, a 784 × 64 batch ~0.15 ms.
  // So the weights go on the left (each transposed once per step for the forward pass,
  // wasm-simd-kernels.ts) and the batch-sized factors on the right. The narrow layers around the
  // latent code stay batch-major, with their bias and relu inside the matMul (XNNPACK adds them as
  // it accumulates).
  const xT = tf.transpose(tf.reshape(x, [n, D])) as tf.Tensor2D;
  const column = (b: tf.Tensor) => tf.reshape(b, [b.size, 1]);
  /** relu(Wᵀ inT + b), feature by batch. */
  const wideForward = (i: number, inT: tf.Tensor2D) =>
    tf.relu(tf.add(tf.matMul(tf.transpose(W(i)), inT), column(B(i)))) as tf.Tensor2D;
  // Forward: encoder activations h[0…k−1], feature by batch.
  const hT: tf.Tensor2D[] = [wideForward(0, xT)];
  for (let j = 1; j < k; j++) hT.push(wideForward(j, hT[j - 1] as tf.Tensor2D));
  const last = tf.transpose(hT[k - 1] as tf.Tensor2D) as tf.Tensor2D;
  const o = tf.fused.matMul({ a: last, b: W(k), bias: B(k) });
  const [mu, lv] = tf.split(o, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const sd = tf.exp(tf.mul(0.5, lv));
  const z = tf.add(mu, tf.mul(sd, eps)) as tf.Tensor2D;
  // Decoder activations g[0…k−1]: the first batch-major from z, then feature by batch.
  const g1 = tf.fused.matMul({ a: z, b: W(k + 1), bias: B(k + 1), activation: 'relu' }) as tf.Tensor2D;
  const gT: tf.Tensor2D[] = [tf.transpose(g1)];
  for (let j = 1; j < k; j++) gT.push(wideForward(k + 1 + j, gT[j - 1] as tf.Tensor2D));
  const gkT = gT[k - 1] as tf.Tensor2D;
  const out = 2 * k + 1;
  const lT = tf.add(tf.matMul(tf.transpose(W(out)), gkT), column(B(out))) as tf.Tensor2D;

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

  // Backward. grads[i] holds layer i's [dW, db]. A wide layer's input gradient is W · dyᵀ (feature by
  // batch, the weight on the left); its weight gradient inᵀ · dy wants dy batch-major: one transpose
  // of a batch-sized matrix per layer.
  const grads: tf.Tensor[][] = [];
  grads[out] = [tf.matMul(gkT, tf.transpose(dlT)), tf.sum(dlT, 1)];
  let dgT = tf.mul(tf.matMul(W(out), dlT), reluMask(gkT)) as tf.Tensor2D;
  for (let j = k - 1; j >= 1; j--) {
    const inT = gT[j - 1] as tf.Tensor2D;
    grads[k + 1 + j] = [tf.matMul(inT, tf.transpose(dgT)), tf.sum(dgT, 1)];
    dgT = tf.mul(tf.matMul(W(k + 1 + j), dgT), reluMask(inT)) as tf.Tensor2D;
  }
  const dg = tf.transpose(dgT) as tf.Tensor2D;
  grads[k + 1] = [tf.matMul(tf.transpose(z), dg), tf.sum(dg, 0)];
  const dz = tf.matMul(dg, tf.transpose(W(k + 1))) as tf.Tensor2D;
  const dmu = tf.add(dz, tf.mul(klWeight, mu));
  const dlv = tf.add(
    tf.mul(tf.mul(dz, eps), tf.mul(0.5, sd)),
    tf.mul(klWeight, tf.mul(0.5, tf.sub(expLv, 1))),
  );
  const dout = tf.concat([dmu, dlv], 1) as tf.Tensor2D;
  grads[k] = [tf.matMul(hT[k - 1] as tf.Tensor2D, dout), tf.sum(dout, 0)];
  let dh = tf.mul(tf.matMul(dout, tf.transpose(W(k))), reluMask(last)) as tf.Tensor2D;
  for (let j = k - 1; j >= 1; j--) {
    const inT = hT[j - 1] as tf.Tensor2D;
    grads[j] = [tf.matMul(inT, dh), tf.sum(dh, 0)];
    dh = tf.transpose(tf.mul(tf.matMul(W(j), tf.transpose(dh)), reluMask(inT))) as tf.Tensor2D;
  }
  grads[0] = [tf.matMul(xT, dh), tf.sum(dh, 0)];

  const named: tf.NamedTensorMap = {};
  grads.flat().forEach((t, i) => {
    named[(weights[i] as tf.Variable).name] = t;
  });
  if (learnedLv) named[learnedLv.name] = dLogVariance ?? tf.scalar(0);
  return { objective, negElbo, grads: named };
}
