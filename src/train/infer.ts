import * as tf from '@tensorflow/tfjs';
import type { Likelihood } from '../core/model-dir.js';

/** The tfjs networks' answers for a batch, as flat float32 arrays (the reference for ONNX parity). */
export interface TfjsEncoding {
  mu: Float32Array;
  logvar: Float32Array;
}

/** Runs the tfjs encoder on `x` (shape [N, ...inputShape]) and splits its output into mu and logvar. */
export function tfjsEncode(encoder: tf.LayersModel, x: Float32Array, shape: readonly number[]): TfjsEncoding {
  return tf.tidy(() => {
    const out = encoder.predict(tf.tensor(x, [...shape])) as tf.Tensor2D;
    const [mu, logvar] = tf.split(out, 2, 1);
    return {
      mu: (mu as tf.Tensor).dataSync() as Float32Array,
      logvar: (logvar as tf.Tensor).dataSync() as Float32Array,
    };
  });
}

/**
 * Runs the tfjs decoder on `z` (shape [N, L]) and returns x_hat, the mean of p(x|z): sigmoid(logits)
 * for a Bernoulli likelihood, the decoder's output for a Gaussian one.
 */
export function tfjsDecode(
  decoder: tf.LayersModel,
  z: Float32Array,
  shape: readonly number[],
  likelihood: Likelihood = 'bernoulli',
): Float32Array {
  return tf.tidy(() => {
    const out = decoder.predict(tf.tensor(z, [...shape])) as tf.Tensor;
    return (likelihood === 'bernoulli' ? tf.sigmoid(out) : out).dataSync() as Float32Array;
  });
}
