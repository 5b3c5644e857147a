import * as tf from '@tensorflow/tfjs';
import type { Likelihood } from '../core/model-dir.js';
import { splitMoments } from './model.js';

/**
 * The tfjs networks' answers for a batch, as flat float32 arrays (the reference for ONNX parity).
 * Read asynchronously, so that GPU backends work too.
 */
export interface TfjsEncoding {
  mu: Float32Array;
  logvar: Float32Array;
}

/** Runs the tfjs encoder on `x` (shape [N, ...inputShape]) and gives mu and logvar (split from one output, or its two). */
export async function tfjsEncode(
  encoder: tf.LayersModel,
  x: Float32Array,
  shape: readonly number[],
): Promise<TfjsEncoding> {
  const [mu, logvar] = tf.tidy(() => {
    const m = splitMoments(encoder.predict(tf.tensor(x, [...shape])) as tf.Tensor | tf.Tensor[]);
    return [m.mu, m.logvar];
  });
  try {
    return {
      mu: (await (mu as tf.Tensor).data()) as Float32Array,
      logvar: (await (logvar as tf.Tensor).data()) as Float32Array,
    };
  } finally {
    tf.dispose([mu as tf.Tensor, logvar as tf.Tensor]);
  }
}

/**
 * Runs the tfjs decoder on `z` (shape [N, L]) and returns x_hat, the mean of p(x|z): sigmoid(logits)
 * for a Bernoulli likelihood, the decoder's output for a Gaussian one.
 */
export async function tfjsDecode(
  decoder: tf.LayersModel,
  z: Float32Array,
  shape: readonly number[],
  likelihood: Likelihood = 'bernoulli',
): Promise<Float32Array> {
  const xHat = tf.tidy(() => {
    const out = decoder.predict(tf.tensor(z, [...shape])) as tf.Tensor;
    return likelihood === 'bernoulli' ? tf.sigmoid(out) : out;
  });
  try {
    return (await xHat.data()) as Float32Array;
  } finally {
    xHat.dispose();
  }
}
