import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../src/core/random.js';
import { selectBackend } from '../src/train/backend.js';
import { ADAM } from '../src/train/parallel/adam.js';
import {
  adamKernel,
  adamViews,
  attachAdamMemory,
  createAdamMemory,
  gradientSlot,
} from '../src/train/parallel/adam-wasm.js';

const f = Math.fround;

/** adam-wasm.ts's rule, one float32 rounding per operation, in plain JavaScript. */
function referenceAdam(
  slots: Float32Array[],
  m: Float32Array,
  v: Float32Array,
  w: Float32Array,
  lr: number,
  t: number,
): void {
  const step = f(lr / (1 - ADAM.beta1 ** t));
  const c2 = f(1 / (1 - ADAM.beta2 ** t));
  const inv = f(1 / slots.length);
  for (let i = 0; i < w.length; i++) {
    let g = slots[0]?.[i] as number;
    for (let k = 1; k < slots.length; k++) g = f(g + (slots[k]?.[i] as number));
    g = f(g * inv);
    const mi = f(f(f(ADAM.beta1) * (m[i] as number)) + f(f(1 - ADAM.beta1) * g));
    const vi = f(f(f(ADAM.beta2) * (v[i] as number)) + f(f(f(1 - ADAM.beta2) * g) * g));
    m[i] = mi;
    v[i] = vi;
    const denominator = f(f(Math.sqrt(f(vi * c2))) + f(ADAM.epsilon));
    w[i] = f((w[i] as number) - f(f(step * mi) / denominator));
  }
}

function filled(n: number, draw: () => number): Float32Array {
  return Float32Array.from({ length: n }, draw);
}

describe('Adam in WebAssembly SIMD', () => {
  for (const slots of [1, 2, 3]) {
    for (const shared of [true, false]) {
      test(`${slots} slot(s), ${shared ? 'shared' : 'private'} memory: the same bits as float32 Adam in JavaScript, for any split of the parameters`, () => {
        const P = 1_037; // not a multiple of 4: the scalar tail runs too
        const rng = createRng(5 + slots);
        const initial = {
          weights: filled(P, () => rng.normal()),
          firstMoment: filled(P, () => 0.01 * rng.normal()),
          secondMoment: filled(P, () => 0.01 * rng.uniform()),
        };
        const memory = createAdamMemory(P, slots, shared, initial);
        const adam = adamKernel(memory);
        const ref = {
          w: initial.weights.slice(),
          m: initial.firstMoment.slice(),
          v: initial.secondMoment.slice(),
        };
        for (let t = 1; t <= 3; t++) {
          const grads = Array.from({ length: slots }, () => filled(P, () => rng.normal()));
          grads.forEach((g, k) => {
            gradientSlot(memory, k).set(g);
          });
          referenceAdam(grads, ref.m, ref.v, ref.w, 1e-3, t);
          // Uneven shares, on and off 16-byte boundaries.
          for (const [lo, hi] of [
            [0, 13],
            [13, 500],
            [500, 501],
            [501, P],
          ] as const)
            adam(lo, hi, 1e-3, t);
        }
        const views = adamViews(memory);
        assert.deepEqual(views.weights, ref.w);
        assert.deepEqual(views.firstMoment, ref.m);
        assert.deepEqual(views.secondMoment, ref.v);
      });
    }
  }

  test('follows tf.train.adam within float32 rounding over ten steps', async () => {
    await selectBackend('wasm');
    const P = 301;
    const rng = createRng(9);
    const start = filled(P, () => rng.normal());
    const gradients = Array.from({ length: 10 }, () => filled(P, () => rng.normal()));
    const variable = tf.variable(tf.tensor1d(start));
    const optimizer = tf.train.adam(1e-3, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
    const memory = createAdamMemory(P, 1, false, {
      weights: start,
      firstMoment: new Float32Array(P),
      secondMoment: new Float32Array(P),
    });
    const adam = adamKernel(memory);
    gradients.forEach((g, i) => {
      tf.tidy(() => optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(g) }]));
      gradientSlot(memory, 0).set(g);
      adam(0, P, 1e-3, i + 1);
    });
    const theirs = variable.dataSync();
    const ours = adamViews(memory).weights;
    let worst = 0;
    for (let i = 0; i < P; i++)
      worst = Math.max(worst, Math.abs((ours[i] as number) - (theirs[i] as number)));
    assert.ok(worst <= 1e-6, `largest difference from tf.train.adam: ${worst}`);
    optimizer.dispose();
    variable.dispose();
  });

  test('a memory too small for the parameters, and a share outside them, are refused by name', () => {
    const memory = createAdamMemory(100, 2, true);
    assert.throws(
      () => attachAdamMemory(memory.memory, 100_000, 2),
      /adam memory: 100000 parameters in 2 slots need \d+ bytes, the memory has 65536/,
    );
    const adam = adamKernel(memory);
    assert.throws(() => adam(0, 101, 1e-3, 1), /adam: expected 0 ≤ lo ≤ hi ≤ 100, got lo 0, hi 101/);
  });
});
