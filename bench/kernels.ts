/**
 * npm run bench:kernels [-- --rounds N] — vae-onnx's Transpose and Sum for tfjs-backend-wasm
 * (src/train/wasm-simd-kernels.ts) against the backend's own kernels, in one process, interleaved
 * (ours, theirs, ours, theirs…), on the shapes training meets: the MLP's weights and batches, and a
 * 64×64 conv's patch matrices and bias gradients. Prints each shape's median times and their ratio,
 * after checking that both give the same bits.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { normalArray } from '../src/core/random.js';
import { registerWasmSimdKernels } from '../src/train/wasm-simd-kernels.js';
import { machineLine, median } from './common.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const rounds = Number(values.rounds ?? 15);

await tf.setBackend('wasm');
await tf.ready();
// The backend's own kernels, kept before ours replace them.
const theirs = {
  Transpose: tf.getKernel('Transpose', 'wasm')?.kernelFunc as tf.KernelFunc,
  Sum: tf.getKernel('Sum', 'wasm')?.kernelFunc as tf.KernelFunc,
};
registerWasmSimdKernels();
const ours = {
  Transpose: tf.getKernel('Transpose', 'wasm')?.kernelFunc as tf.KernelFunc,
  Sum: tf.getKernel('Sum', 'wasm')?.kernelFunc as tf.KernelFunc,
};

interface Case {
  kernel: 'Transpose' | 'Sum';
  shape: number[];
  attrs: tf.NamedAttrMap;
  what: string;
}

const CASES: Case[] = [
  { kernel: 'Transpose', shape: [784, 512], attrs: { perm: [1, 0] }, what: 'MLP first-layer weight' },
  { kernel: 'Transpose', shape: [512, 784], attrs: { perm: [1, 0] }, what: 'MLP output weight' },
  { kernel: 'Transpose', shape: [512, 256], attrs: { perm: [1, 0] }, what: 'MLP hidden weight' },
  { kernel: 'Transpose', shape: [64, 784], attrs: { perm: [1, 0] }, what: 'a batch of 64 images' },
  { kernel: 'Transpose', shape: [1, 3641, 72], attrs: { perm: [0, 2, 1] }, what: 'a 1 MB chunk of patches' },
  {
    kernel: 'Transpose',
    shape: [1, 16384, 288],
    attrs: { perm: [0, 2, 1] },
    what: 'all patches of a conv layer',
  },
  {
    kernel: 'Sum',
    shape: [64, 64, 64, 32],
    attrs: { axis: [0, 1, 2], keepDims: false },
    what: 'bias gradient, 64×64×32',
  },
  {
    kernel: 'Sum',
    shape: [64, 16, 16, 128],
    attrs: { axis: [0, 1, 2], keepDims: false },
    what: 'bias gradient, 16×16×128',
  },
  { kernel: 'Sum', shape: [64, 512], attrs: { axis: [0], keepDims: false }, what: 'dense bias gradient' },
];

/** Milliseconds of one call of `kernel` on `x` (its output disposed), and the output's values. */
function call(
  kernel: tf.KernelFunc,
  x: tf.Tensor,
  attrs: tf.NamedAttrMap,
): { ms: number; out: Float32Array } {
  const started = performance.now();
  const out = kernel({ inputs: { x }, attrs, backend: tf.backend() } as never) as tf.TensorInfo;
  const ms = performance.now() - started;
  const tensor = tf.engine().makeTensorFromTensorInfo(out);
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return { ms, out: values };
}

console.log(machineLine());
console.log(`${rounds} interleaved rounds per shape; medians`);
for (const c of CASES) {
  const x = tf.tensor(
    normalArray(
      c.shape.reduce((a, b) => a * b, 1),
      7,
    ),
    c.shape,
    'float32',
  );
  const mine: number[] = [];
  const base: number[] = [];
  let same = true;
  for (let r = 0; r < rounds + 2; r++) {
    // Alternate which goes first, so that neither always meets the other's caches.
    const oursFirst = r % 2 === 0;
    const b0 = oursFirst ? undefined : call(theirs[c.kernel], x, c.attrs);
    const a = call(ours[c.kernel], x, c.attrs);
    const b = b0 ?? call(theirs[c.kernel], x, c.attrs);
    same &&= a.out.length === b.out.length && a.out.every((v, i) => Object.is(v, b.out[i]));
    if (r < 2) continue; // warm-up
    mine.push(a.ms);
    base.push(b.ms);
  }
  x.dispose();
  const [m, t] = [median(mine), median(base)];
  console.log(
    `  ${c.kernel} [${c.shape.join(', ')}] (${c.what}): vae-onnx ${m.toFixed(3)} ms, tfjs ${t.toFixed(3)} ms, ${(t / m).toFixed(1)}× faster; ${same ? 'same bits' : 'DIFFERENT BITS'}`,
  );
  if (!same) process.exitCode = 1;
}
