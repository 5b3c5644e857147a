import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../src/core/random.js';
import { selectBackend } from '../src/train/index.js';

/**
 * Regression: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so conv layers could not train on
 * it, and its Conv2DBackpropInput ran at 0.2 GFLOP/s. Both of vae-onnx's kernels against the cpu
 * backend's, including the shapes of the conv VAE.
 */
describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm (vae-onnx kernels) equal the cpu backend', () => {
  const cases: { x: readonly number[]; f: readonly number[]; s: number; pad: 'valid' | 'same' }[] = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' },
    { x: [2, 8, 8, 3], f: [3, 3, 3, 5], s: 2, pad: 'same' },
    { x: [1, 7, 6, 2], f: [3, 2, 2, 3], s: 1, pad: 'same' },
    { x: [3, 14, 14, 4], f: [3, 3, 4, 2], s: 2, pad: 'same' },
    { x: [2, 28, 28, 1], f: [3, 3, 1, 3], s: 1, pad: 'same' },
    { x: [2, 5, 7, 3], f: [2, 3, 3, 4], s: 2, pad: 'valid' },
    // Input channels past the last group of four lanes of the col2im additions: 4 + 2, 4 + 3, 8 + 1.
    { x: [2, 9, 9, 6], f: [3, 3, 6, 4], s: 2, pad: 'same' },
    { x: [2, 6, 8, 7], f: [3, 3, 7, 3], s: 1, pad: 'same' },
    { x: [1, 10, 10, 9], f: [2, 2, 9, 8], s: 2, pad: 'valid' },
    // More patch rows than one chunk of the filter gradient holds: 2 chunks, and 5 with a short last one.
    { x: [4, 40, 40, 8], f: [3, 3, 8, 4], s: 1, pad: 'same' },
    { x: [3, 50, 50, 16], f: [3, 3, 16, 2], s: 1, pad: 'same' },
  ];

  /** The filter's gradient and the input's gradient of Σ conv(x, f)², for each case. */
  async function grads(backend: 'cpu' | 'wasm'): Promise<Float32Array[][]> {
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
        const loss = (input: tf.Tensor, w: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad)));
        const [dx, dw] = tf.grads(loss)([x, f]) as [tf.Tensor, tf.Tensor];
        return [dw.dataSync() as Float32Array, dx.dataSync() as Float32Array];
      }),
    );
  }

  test('for strides 1 and 2, valid and same padding, one channel and several', async () => {
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'the kernel is registered');
    cases.forEach((c, i) => {
      for (const [which, size] of [
        [0, c.f.reduce((p, q) => p * q)],
        [1, c.x.reduce((p, q) => p * q)],
      ] as const) {
        const a = cpu[i]?.[which] as Float32Array;
        const b = wasm[i]?.[which] as Float32Array;
        assert.equal(b.length, size);
        const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const worst = a.reduce((m, v, k) => Math.max(m, Math.abs(v - (b[k] as number))), 0);
        assert.ok(worst <= 1e-5 * scale, `case ${i}, ${which === 0 ? 'filter' : 'input'}: max |Δ| ${worst}`);
      }
    });
  });

  test('a conv transpose forward (Conv2DBackpropInput) on wasm equals the cpu backend at the conv VAE shapes', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(normalArray(2 * 7 * 7 * 32, 5), [2, 7, 7, 32]);
        const f = tf.tensor4d(normalArray(3 * 3 * 64 * 32, 6), [3, 3, 64, 32]);
        return tf.conv2dTranspose(x, f, [2, 14, 14, 64], 2, 'same').dataSync() as Float32Array;
      });
    };
    const a = await run('cpu');
    const b = await run('wasm');
    const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const worst = a.reduce((m, v, k) => Math.max(m, Math.abs(v - (b[k] as number))), 0);
    assert.ok(worst <= 1e-5 * scale, `max |Δ| ${worst}`);
  });
});
