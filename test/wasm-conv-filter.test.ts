import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../src/core/random.js';
import { selectBackend } from '../src/train/index.js';

/** Regression: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so conv layers could not train on it. */
describe('Conv2DBackpropFilter on wasm (vae-onnx kernel) equals the cpu backend', () => {
  const cases: { x: readonly number[]; f: readonly number[]; s: number; pad: 'valid' | 'same' }[] = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' },
    { x: [2, 8, 8, 3], f: [3, 3, 3, 5], s: 2, pad: 'same' },
    { x: [1, 7, 6, 2], f: [3, 2, 2, 3], s: 1, pad: 'same' },
    { x: [3, 14, 14, 4], f: [3, 3, 4, 2], s: 2, pad: 'same' },
  ];

  async function filterGrads(backend: 'cpu' | 'wasm'): Promise<Float32Array[]> {
    await selectBackend(backend);
    return cases.map((c) =>
      tf.tidy(() => {
        const x = tf.tensor4d(
          normalArray(
            c.x.reduce((a, b) => a * b),
            1,
          ),
          c.x as [number, number, number, number],
        );
        const f = tf.tensor4d(
          normalArray(
            c.f.reduce((a, b) => a * b),
            2,
          ),
          c.f as [number, number, number, number],
        );
        const loss = (w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, c.s, c.pad)));
        return tf.grad(loss)(f).dataSync() as Float32Array;
      }),
    );
  }

  test('for strides 1 and 2, valid and same padding', async () => {
    const cpu = await filterGrads('cpu');
    const wasm = await filterGrads('wasm');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'the kernel is registered');
    cases.forEach((c, i) => {
      const a = cpu[i] as Float32Array;
      const b = wasm[i] as Float32Array;
      assert.equal(
        b.length,
        c.f.reduce((p, q) => p * q),
      );
      const scale = Math.max(...a.map(Math.abs));
      a.forEach((v, k) => {
        assert.ok(Math.abs(v - (b[k] as number)) <= 1e-5 * scale, `case ${i}, element ${k}: ${v} vs ${b[k]}`);
      });
    });
  });
});
