import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../src/core/random.js';
import { fastDense } from '../src/train/fast-dense.js';
import { selectBackend } from '../src/train/index.js';

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

describe('fastDense', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  for (const inputNeedsGrad of [true, false]) {
    test(`gives tfjs's own value and gradients (inputNeedsGrad ${inputNeedsGrad})`, () => {
      const x = tf.tensor2d(normalArray(7 * 13, 1), [7, 13]);
      const w = tf.tensor2d(normalArray(13 * 5, 2), [13, 5]);
      const b = tf.tensor1d(normalArray(5, 3));
      const dy = tf.tensor2d(normalArray(7 * 5, 4), [7, 5]);
      const loss =
        (f: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor) =>
        (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
          tf.sum(tf.mul(f(xs as tf.Tensor2D, ws as tf.Tensor2D, bs as tf.Tensor1D), dy));
      const reference = tf.grads(loss((xx, ww, bb) => tf.add(tf.matMul(xx, ww), bb)))([x, w, b]);
      const fast = tf.grads(loss((xx, ww, bb) => fastDense(xx, ww, bb, inputNeedsGrad)))([x, w, b]);
      assert.ok(maxAbs(fastDense(x, w, b, inputNeedsGrad), tf.add(tf.matMul(x, w), b)) === 0);
      if (inputNeedsGrad) assert.ok(maxAbs(fast[0] as tf.Tensor, reference[0] as tf.Tensor) < 1e-5);
      else assert.equal(maxAbs(fast[0] as tf.Tensor, tf.zerosLike(x)), 0);
      assert.ok(maxAbs(fast[1] as tf.Tensor, reference[1] as tf.Tensor) < 1e-5);
      assert.ok(maxAbs(fast[2] as tf.Tensor, reference[2] as tf.Tensor) < 1e-5);
      tf.dispose([x, w, b, dy, ...reference, ...fast]);
    });
  }
});
