import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../src/core/random.js';
import { selectBackend } from '../src/train/index.js';
import { GEMM_MIN_K, gemmInMemory, gemmTakes } from '../src/train/wasm-gemm.js';
import { replacedKernel } from '../src/train/wasm-simd-kernels.js';

/**
 * vae-onnx's float32 matrix product (src/train/wasm-gemm.ts) against a plain loop that adds in order
 * of k with every product and sum rounded to float32, bit for bit: on a memory of its own, and as the
 * wasm backend's BatchMatMul (with tfjs's own kernel, which adds in the same order, as a second
 * judge); and what it hands back to tfjs's own kernel.
 */

/** C = A · B, Σ_k in order from k = 0, each product and sum rounded to float32. */
function matMulLoop(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++)
        s = Math.fround(s + Math.fround((a[i * k + t] as number) * (b[t * n + j] as number)));
      c[i * n + j] = s;
    }
  return c;
}

/** tfjs-backend-wasm's own BatchMatMul (XNNPACK) on the same operands. */
function theirMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const kernel = replacedKernel('BatchMatMul');
  assert.ok(kernel, 'ours replaced tfjs’s BatchMatMul');
  const out = kernel({
    inputs: { a, b },
    attrs: { transposeA: false, transposeB: false },
    backend: tf.backend(),
  } as never) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(out);
}

let seed = 11;
const values = (count: number) => new Float32Array(normalArray(count, seed++));

/** Every product size class the kernel takes: rows on and off its blocks of 4, K at and past its floor, N in panels of 8. */
const SHAPES: [number, number, number][] = [];
for (const m of [1, 2, 3, 4, 5, 7, 8, 13])
  for (const k of [GEMM_MIN_K, 129, 131, 300]) for (const n of [8, 16, 24, 64]) SHAPES.push([m, k, n]);
SHAPES.push([784, 512, 64], [512, 784, 64], [256, 512, 64], [97, 200, 784]);

describe('wasm matrix product (vae-onnx kernel)', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  test('on a memory of its own, every size class equals the in-order float32 loop, bit for bit', () => {
    const memory = new WebAssembly.Memory({ initial: 256 });
    for (const [m, k, n] of SHAPES) {
      assert.ok(gemmTakes(m, k, n));
      const a = values(m * k);
      const b = values(k * n);
      // Operands at odd 16-byte-aligned offsets, the output's neighbours filled with a marker.
      const heap = new Float32Array(memory.buffer);
      const [pa, pb, pc, ps] = [4, 4 + m * k + 4, 4 + m * k + k * n + 8, 4 + 2 * m * k + k * n + m * n + 16];
      heap.set(a, pa);
      heap.set(b, pb);
      heap.fill(-7, pc - 4, pc + m * n + 4);
      gemmInMemory(memory, { a: 4 * pa, b: 4 * pb, c: 4 * pc, scratch: 4 * ps, m, k, n });
      assert.deepEqual(heap.subarray(pc, pc + m * n), matMulLoop(a, b, m, k, n), JSON.stringify([m, k, n]));
      assert.deepEqual(
        [...heap.subarray(pc - 4, pc), ...heap.subarray(pc + m * n, pc + m * n + 4)],
        Array(8).fill(-7),
      );
      assert.deepEqual(heap.subarray(pa, pa + m * k), a, 'A is left as it was');
      assert.deepEqual(heap.subarray(pb, pb + k * n), b, 'B is left as it was');
    }
  });

  test('as BatchMatMul: 2-D, batched and mixed-rank products equal the loop and tfjs’s own kernel', () => {
    const kernel = tf.getKernel('BatchMatMul', 'wasm');
    assert.equal(kernel?.kernelFunc.name, 'batchMatMulKernel');
    const cases: { a: number[]; b: number[] }[] = SHAPES.map(([m, k, n]) => ({ a: [m, k], b: [k, n] }));
    cases.push(
      { a: [1, 9, 140], b: [1, 140, 16] },
      { a: [1, 9, 140], b: [140, 16] },
      { a: [1, 1, 5, 128], b: [128, 8] },
    );
    for (const shapes of cases) {
      const [m = 0, k = 0] = shapes.a.slice(-2);
      const n = shapes.b.at(-1) as number;
      const a = tf.tensor(values(m * k), shapes.a);
      const b = tf.tensor(values(k * n), shapes.b);
      const ours = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
      const theirs = theirMatMul(a, b);
      const want = matMulLoop(a.dataSync() as Float32Array, b.dataSync() as Float32Array, m, k, n);
      assert.deepEqual(ours.shape, theirs.shape, JSON.stringify(shapes));
      assert.deepEqual(ours.dataSync(), want, JSON.stringify(shapes));
      assert.deepEqual(theirs.dataSync(), want, `tfjs's own, ${JSON.stringify(shapes)}`);
      tf.dispose([a, b, ours, theirs]);
    }
  });

  test('NaN, infinities and signed zeros come out as tfjs’s own kernel gives them', () => {
    const [m, k, n] = [5, 128, 16];
    const a = values(m * k);
    const b = values(k * n);
    a.set([Number.NaN, Number.POSITIVE_INFINITY, -0, 0], 0);
    b.set([Number.NEGATIVE_INFINITY, -0], 5 * n);
    a.fill(-0, 2 * k, 3 * k);
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, [k, n]);
    const ours = tf.matMul(ta, tb);
    const theirs = theirMatMul(ta, tb);
    assert.deepEqual(ours.dataSync(), theirs.dataSync());
    assert.deepEqual(ours.dataSync(), matMulLoop(a, b, m, k, n));
    tf.dispose([ta, tb, ours, theirs]);
  });

  test('what it does not take goes to tfjs’s own kernel, with the right result', () => {
    const cases: { a: number[]; b: number[]; tA?: boolean; tB?: boolean }[] = [
      { a: [6, GEMM_MIN_K - 1], b: [GEMM_MIN_K - 1, 8] },
      { a: [6, 64], b: [64, 512] },
      { a: [6, 200], b: [200, 12] },
      { a: [2, 6, 200], b: [2, 200, 8] },
      { a: [200, 6], b: [200, 8], tA: true },
      { a: [6, 200], b: [8, 200], tB: true },
    ];
    for (const { a: sa, b: sb, tA = false, tB = false } of cases) {
      const a = tf.tensor(values(sa.reduce((x, y) => x * y, 1)), sa);
      const b = tf.tensor(values(sb.reduce((x, y) => x * y, 1)), sb);
      const ours = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB);
      // Against the sum in float64, within float32 rounding.
      const batches = sa.length === 3 ? (sa[0] as number) : 1;
      const A = a.arraySync() as number[][] | number[][][];
      const B = b.arraySync() as number[][] | number[][][];
      const out = ours.arraySync() as number[][] | number[][][];
      for (let z = 0; z < batches; z++) {
        const Az = (sa.length === 3 ? (A as number[][][])[z] : A) as number[][];
        const Bz = (sb.length === 3 ? (B as number[][][])[z] : B) as number[][];
        const Oz = (sa.length === 3 ? (out as number[][][])[z] : out) as number[][];
        const m = tA ? (Az[0] as number[]).length : Az.length;
        const k = tA ? Az.length : (Az[0] as number[]).length;
        const n = tB ? Bz.length : (Bz[0] as number[]).length;
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let t = 0; t < k; t++)
              s += ((tA ? Az[t]?.[i] : Az[i]?.[t]) as number) * ((tB ? Bz[j]?.[t] : Bz[t]?.[j]) as number);
            assert.ok(Math.abs((Oz[i]?.[j] as number) - s) < 1e-4, JSON.stringify({ sa, sb, i, j }));
          }
      }
      tf.dispose([a, b, ours]);
    }
  });

  test('the product still works after the backend’s memory grows', () => {
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const first = tf.matMul(tf.ones([4, 128]), tf.ones([128, 8]));
    const grownFrom = heapBytes();
    const big = tf.zeros([96, 1024, 1024]);
    const a = tf.tensor2d(values(33 * 150), [33, 150]);
    const b = tf.tensor2d(values(150 * 40), [150, 40]);
    const c = tf.matMul(a, b);
    assert.ok(heapBytes() > grownFrom, `the memory grew (${grownFrom} → ${heapBytes()} bytes)`);
    assert.deepEqual(
      c.dataSync(),
      matMulLoop(a.dataSync() as Float32Array, b.dataSync() as Float32Array, 33, 150, 40),
    );
    tf.dispose([first, big, a, b, c]);
  });
});
