import * as tf from '@tensorflow/tfjs';

/*
 * tfjs computes a Dense layer's gradient with matMul(transposeA/transposeB), which the wasm backend
 * runs about ten times slower than an explicit transpose followed by a plain matMul (measured on
 * these machines: ~1.2 GFLOP/s against 14–19). These custom gradients take the fast road and give
 * the same numbers (checked in test/fast-dense.test.ts).
 */

type DenseInputs = [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];

const denseWithInputGrad = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
  const [x, w, b, save] = args as [...DenseInputs, (t: tf.Tensor[]) => void];
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor2D;
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
    },
  };
});

const denseWithoutInputGrad = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
  const [x, w, b, save] = args as [...DenseInputs, (t: tf.Tensor[]) => void];
  save([x]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor2D;
      const [xs] = saved as [tf.Tensor2D];
      // The input is data, not a function of any variable: its gradient would be thrown away.
      return [tf.zerosLike(xs), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
    },
  };
});

/**
 * y = x·W + b with a gradient that avoids transposed matMul.
 * @param inputNeedsGrad - false when `x` is data (the first layer), which skips one matMul backward.
 */
export function fastDense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  inputNeedsGrad: boolean,
): tf.Tensor2D {
  return (inputNeedsGrad ? denseWithInputGrad : denseWithoutInputGrad)(x, w, b) as tf.Tensor2D;
}
