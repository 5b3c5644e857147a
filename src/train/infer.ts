import * as tf from '@tensorflow/tfjs';

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

/** Runs the tfjs decoder on `z` (shape [N, L]) and returns x_hat = sigmoid(logits), the Bernoulli means. */
export function tfjsDecode(decoder: tf.LayersModel, z: Float32Array, shape: readonly number[]): Float32Array {
  return tf.tidy(
    () => tf.sigmoid(decoder.predict(tf.tensor(z, [...shape])) as tf.Tensor).dataSync() as Float32Array,
  );
}
