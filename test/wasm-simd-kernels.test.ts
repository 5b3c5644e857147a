import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../src/core/random.js';
import { selectBackend } from '../src/train/index.js';

/**
 * vae-onnx's Transpose and Sum for tfjs-backend-wasm (src/train/wasm-simd-kernels.ts) against plain
 * loops, bit for bit, over shapes on and off the 4-lane grid, across tile edges, batched, and after
 * the backend's memory has grown; and what they hand back to tfjs's own kernels.
 */

/** [..., rows, cols] → [..., cols, rows] by index. */
function transposeLastTwo(data: Float32Array, shape: number[]): Float32Array {
  const rows = shape.at(-2) as number;
  const cols = shape.at(-1) as number;
  const out = new Float32Array(data.length);
  for (let m = 0; m < data.length / (rows * cols); m++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++)
        out[m * rows * cols + c * rows + r] = data[m * rows * cols + r * cols + c] as number;
  return out;
}

/** Σ over the first k axes, row 0 first, each addition rounded to float32. */
function sumLeading(data: Float32Array, shape: number[], k: number): Float32Array {
  const cols = shape.slice(k).reduce((a, b) => a * b, 1);
  const rows = data.length / cols;
  const out = new Float32Array(cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c] = Math.fround((out[c] as number) + (data[r * cols + c] as number));
  return out;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
let seed = 1;
const random = (shape: number[]) => tf.tensor(normalArray(size(shape), seed++), shape, 'float32');

describe('wasm Transpose and Sum (vae-onnx kernels)', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  test('Transpose of matrices of every size class equals the index loop, bit for bit', () => {
    const sides = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 65, 100, 129];
    const shapes: number[][] = [];
    for (const r of sides) for (const c of sides) shapes.push([r, c]);
    shapes.push([300, 517], [784, 512], [512, 784], [3, 13, 70], [2, 3, 5, 9], [4, 64, 66], [0, 5], [5, 0]);
    for (const shape of shapes) {
      const x = random(shape);
      const perm = [...shape.keys()];
      [perm[perm.length - 1], perm[perm.length - 2]] = [perm.length - 2, perm.length - 1];
      const y = tf.transpose(x, perm);
      assert.deepEqual(
        y.shape,
        perm.map((p) => shape[p]),
      );
      assert.deepEqual(
        y.dataSync(),
        transposeLastTwo(x.dataSync() as Float32Array, shape),
        JSON.stringify(shape),
      );
      tf.dispose([x, y]);
    }
  });

  test('other permutations and dtypes go to tfjs’s own Transpose', () => {
    const x = random([3, 4, 5]);
    const y = tf.transpose(x, [1, 0, 2]);
    const data = x.arraySync() as number[][][];
    assert.deepEqual(
      y.arraySync(),
      data[0]?.map((_, i) => data.map((m) => m[i])),
    );
    const ints = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    assert.deepEqual(tf.transpose(ints).arraySync(), [
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    tf.dispose([x, y, ints]);
  });

  test('Transpose still works after the backend’s memory grows', () => {
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const first = random([37, 41]);
    tf.transpose(first).dispose();
    const grownFrom = heapBytes();
    // 96 M floats (384 MB) make the wasm memory grow past what the kernel first saw.
    const big = tf.zeros([96, 1024, 1024]);
    const x = random([129, 67]);
    const y = tf.transpose(x);
    assert.ok(heapBytes() > grownFrom, `the memory grew (${grownFrom} → ${heapBytes()} bytes)`);
    assert.deepEqual(y.dataSync(), transposeLastTwo(x.dataSync() as Float32Array, [129, 67]));
    tf.dispose([first, big, x, y]);
  });

  test('Sum over leading axes equals the row-by-row float32 loop and tfjs’s own sum, bit for bit', () => {
    const cases: { shape: number[]; axis: number | number[]; k: number }[] = [
      { shape: [64, 8, 8, 32], axis: [0, 1, 2], k: 3 },
      { shape: [5, 3], axis: 0, k: 1 },
      { shape: [7, 6, 5], axis: [1, 0], k: 2 },
      { shape: [7, 6, 5], axis: [-3, -2], k: 2 },
      { shape: [1000, 7], axis: 0, k: 1 },
      { shape: [33, 1], axis: 0, k: 1 },
      { shape: [4, 4, 1030], axis: [0], k: 1 },
    ];
    for (const { shape, axis, k } of cases) {
      for (const keepDims of [false, true]) {
        const x = random(shape);
        const y = tf.sum(x, axis, keepDims);
        const kept = shape.slice(k);
        assert.deepEqual(y.shape, keepDims ? [...Array(k).fill(1), ...kept] : kept);
        const want = sumLeading(x.dataSync() as Float32Array, shape, k);
        assert.deepEqual(y.dataSync(), want, JSON.stringify({ shape, axis, keepDims }));
        // tfjs's own Sum along the last axis of the transposed matrix adds in the same order.
        const theirs = tf.sum(tf.transpose(tf.reshape(x, [size(shape.slice(0, k)), size(kept)])), 1);
        assert.deepEqual(theirs.dataSync(), want);
        tf.dispose([x, y, theirs]);
      }
    }
  });

  test('other reductions go to tfjs’s own Sum', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(tf.sum(x, 1).arraySync(), [6, 15]);
    assert.equal(tf.sum(x).arraySync(), 21);
    assert.deepEqual(tf.sum(x, [0, 1]).arraySync(), 21);
    assert.deepEqual(tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0).arraySync(), [4, 6]);
    tf.dispose(x);
  });
});
