/**
 * npm run bench:kernels [-- --rounds N] — vae-onnx's Transpose, Sum and BatchMatMul for
 * tfjs-backend-wasm (src/train/wasm-simd-kernels.ts, wasm-gemm.ts) against the backend's own kernels,
 * in one process, interleaved (ours, theirs, ours, theirs…), on the shapes training meets: the MLP's
 * weights and batches, and a 64×64 conv's patch matrices and bias gradients. Prints each shape's
 * median times and their ratio, after checking that both give the same bits.
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
const NAMES = ['Transpose', 'Sum', 'BatchMatMul'] as const;
const kernels = () =>
  Object.fromEntries(NAMES.map((n) => [n, tf.getKernel(n, 'wasm')?.kernelFunc as tf.KernelFunc])) as Record<
    (typeof NAMES)[number],
    tf.KernelFunc
  >;
const theirs = kernels();
registerWasmSimdKernels();
const ours = kernels();

/** One kernel call: its input shapes (x, or a and b for BatchMatMul), its attributes, what it is in training. */
interface Case {
  kernel: (typeof NAMES)[number];
  shape: number[];
  b?: number[];
  attrs: tf.NamedAttrMap;
  what: string;
}

const PRODUCT = { transposeA: false, transposeB: false };

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
  {
    kernel: 'BatchMatMul',
    shape: [512, 784],
    b: [784, 64],
    attrs: PRODUCT,
    what: 'Wᵀ · a batch of 64 images',
  },
  {
    kernel: 'BatchMatMul',
    shape: [784, 512],
    b: [512, 64],
    attrs: PRODUCT,
    what: 'decoder output, feature by batch',
  },
  { kernel: 'BatchMatMul', shape: [256, 512], b: [512, 64], attrs: PRODUCT, what: 'hidden 512 → 256' },
  {
    kernel: 'BatchMatMul',
    shape: [1, 288, 3641],
    b: [1, 3641, 64],
    attrs: PRODUCT,
    what: 'a conv filter-gradient chunk',
  },
  {
    kernel: 'BatchMatMul',
    shape: [1, 8192, 128],
    b: [1, 128, 512],
    attrs: PRODUCT,
    what: 'a conv input gradient',
  },
];

/** Milliseconds of one call of `kernel` on `inputs` (its output disposed), and the output's values. */
function call(
  kernel: tf.KernelFunc,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap,
): { ms: number; out: Float32Array } {
  const started = performance.now();
  const out = kernel({ inputs, attrs, backend: tf.backend() } as never) as tf.TensorInfo;
  const ms = performance.now() - started;
  const tensor = tf.engine().makeTensorFromTensorInfo(out);
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return { ms, out: values };
}

console.log(machineLine());
console.log(`${rounds} interleaved rounds per shape; medians`);
for (const c of CASES) {
  const random = (shape: number[], seed: number) =>
    tf.tensor(
      normalArray(
        shape.reduce((a, b) => a * b, 1),
        seed,
      ),
      shape,
      'float32',
    );
  const inputs: tf.NamedTensorMap = c.b
    ? { a: random(c.shape, 7), b: random(c.b, 8) }
    : { x: random(c.shape, 7) };
  const mine: number[] = [];
  const base: number[] = [];
  let same = true;
  for (let r = 0; r < rounds + 2; r++) {
    // Alternate which goes first, so that neither always meets the other's caches.
    const oursFirst = r % 2 === 0;
    const b0 = oursFirst ? undefined : call(theirs[c.kernel], inputs, c.attrs);
    const a = call(ours[c.kernel], inputs, c.attrs);
    const b = b0 ?? call(theirs[c.kernel], inputs, c.attrs);
    same &&= a.out.length === b.out.length && a.out.every((v, i) => Object.is(v, b.out[i]));
    if (r < 2) continue; // warm-up
    mine.push(a.ms);
    base.push(b.ms);
  }
  tf.dispose(Object.values(inputs));
  const [m, t] = [median(mine), median(base)];
  console.log(
    `  ${c.kernel} [${c.shape.join(', ')}]${c.b ? ` · [${c.b.join(', ')}]` : ''} (${c.what}): vae-onnx ${m.toFixed(3)} ms, tfjs ${t.toFixed(3)} ms, ${(t / m).toFixed(1)}× faster; ${same ? 'same bits' : 'DIFFERENT BITS'}`,
  );
  if (!same) process.exitCode = 1;
}
