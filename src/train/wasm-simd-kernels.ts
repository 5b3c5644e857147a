/**
 * Kernels for tfjs-backend-wasm, faster than its own: two memory-bound ones for the matrices
 * training moves between layouts and the bias gradients it reduces, and the matrix product. Each is
 * a WebAssembly SIMD function assembled here (wasm-asm.ts) that works in place on the wasm backend's
 * own memory.
 *
 * - Transpose. tfjs-backend-wasm 4.22 transposes element by element: a [512, 256] weight takes
 *   0.6 ms, a [512, 784] one 1.2–1.9 ms, and the [16384, 288] patch matrix of a 64×64 conv layer's
 *   filter gradient 27–40 ms (measured here; 3–9 ns per element; it does some shapes well, [784, 512]
 *   in ~0.3 ms). The hand-derived MLP gradient
 *   transposes every weight once a step and each conv layer its patches: a fifth of an MLP step.
 *   This one moves 4 × 4 blocks with SIMD shuffles (four 16-byte loads, eight shuffles, four stores)
 *   in tiles that stay in cache; the rows and columns past the last multiple of 4 are copied by a
 *   plain loop. It takes float32 matrices and stacks of them (the last two axes swapped). A transpose
 *   only moves values: the output has the same bits as tfjs's.
 * - Sum over leading axes (a conv layer's bias gradient: Σ over batch, height and width). tfjs
 *   transposes the reduced axes to the end first, then adds along rows: 45 ms for [64, 64, 64, 32].
 *   This one adds the rows into the output in place, four columns a lane, in the same order (row 0
 *   first, one float32 addition each), so each sum has the same bits as tfjs's.
 *
 * - BatchMatMul, by the matrix product of wasm-gemm.ts where it takes the sizes (K ≥ 128, N a
 *   multiple of 8, no transposes, a batch of one): 1.3× XNNPACK's speed here, with the same bits.
 *
 * Any other permutation, reduction, product or dtype goes to the backend's own kernel.
 * test/wasm-simd-kernels.test.ts and test/wasm-gemm.test.ts compare them with plain loops over a
 * class of shapes; `npm run bench:kernels` times them against tfjs's own, interleaved.
 */
import * as tf from '@tensorflow/tfjs';
import {
  addRowInto,
  exportsOf,
  f32c,
  f32Store,
  floatBytes,
  get,
  I32,
  i32c,
  importOf,
  type MemoryImport,
  moduleBytes,
  OP,
  perMemory,
  set,
  simd,
  V128,
  v128Load,
  v128Store,
  whileBelow,
} from './wasm-asm.js';
import { gemmInMemory, gemmTakes } from './wasm-gemm.js';

/** The parts of tfjs-backend-wasm's backend object these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: unknown }; wasmExports?: { memory?: unknown } };
}

// Parameters: src and dst byte offsets, rows (the dst row length), cols (the src row length), the
// tile: rows [r0, r1) and columns [c0, c1) (multiples of 4).
const [SRC, DST, ROWS, COLS, R0, R1, C0, C1] = [0, 1, 2, 3, 4, 5, 6, 7];
// Locals: r, c, the src and dst block addresses, the src and dst row strides in bytes; v128 a…d, t0…t3.
const [R, C, P, Q, SS, DS] = [8, 9, 10, 11, 12, 13];
const [A, B, CC, D, T0, T1, T2, T3] = [14, 15, 16, 17, 18, 19, 20, 21];

/** i8x16.shuffle of two f32x4 locals into the 32-bit lanes `lanes` of their concatenation. */
const shuffle = (x: number, y: number, lanes: [number, number, number, number]) => [
  ...get(x),
  ...get(y),
  ...simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])),
];

/** `base + (k · stride)`: the address of row k of a block. */
const rowAt = (base: number, stride: number, k: number) =>
  k === 0 ? get(base) : [...get(base), ...get(stride), ...i32c(k), OP.i32Mul, OP.i32Add];

/** `base + row · stride + 4 · col`, into `local`. */
const address = (local: number, base: number, row: number, stride: number, col: number) => [
  ...get(base),
  ...get(row),
  ...get(stride),
  OP.i32Mul,
  OP.i32Add,
  ...get(col),
  ...i32c(2),
  OP.i32Shl,
  OP.i32Add,
  ...set(local),
];

/** times4(local) into `into`: a count of floats as bytes. */
const bytes = (from: number, into: number) => [...get(from), ...i32c(2), OP.i32Shl, ...set(into)];

/** The module: `transpose(src, dst, rows, cols, rows4, c0, c1)` moves the 4 × 4 blocks of rows [0, rows4) × cols [c0, c1). */
function transposeModule(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const block = [
    ...address(P, SRC, R, SS, C),
    ...address(Q, DST, C, DS, R),
    ...[A, B, CC, D].flatMap((v, k) => [...rowAt(P, SS, k), ...v128Load, ...set(v)]),
    // [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3]
    ...shuffle(A, B, [0, 4, 1, 5]),
    ...set(T0),
    ...shuffle(A, B, [2, 6, 3, 7]),
    ...set(T1),
    ...shuffle(CC, D, [0, 4, 1, 5]),
    ...set(T2),
    ...shuffle(CC, D, [2, 6, 3, 7]),
    ...set(T3),
    // column k of the block = [ak bk ck dk], stored as dst row c + k
    ...[
      [T0, T2, 0, 1, 4, 5],
      [T0, T2, 2, 3, 6, 7],
      [T1, T3, 0, 1, 4, 5],
      [T1, T3, 2, 3, 6, 7],
    ].flatMap(([x, y, ...lanes], k) => [
      ...rowAt(Q, DS, k),
      ...shuffle(x as number, y as number, lanes as [number, number, number, number]),
      ...v128Store,
    ]),
  ];
  const body = [
    ...bytes(COLS, SS),
    ...bytes(ROWS, DS),
    ...get(R0),
    ...set(R),
    ...whileBelow(R, R1, [...get(C0), ...set(C), ...whileBelow(C, C1, block, 4)], 4),
  ];
  return moduleBytes(
    memory,
    'transpose',
    Array(8).fill(I32),
    [
      [6, I32],
      [8, V128],
    ],
    body,
  );
}

// Sum: parameters src and dst byte offsets, rows, cols; locals: the src row address, the column's
// byte offset, the row counter, the row length in bytes and its part in whole lanes.
const [S_SRC, S_DST, S_ROWS, S_COLS] = [0, 1, 2, 3];
const [S_P, S_C, S_R, S_ROW, S_ROW4] = [4, 5, 6, 7, 8];

/** `sum(src, dst, rows, cols)`: dst[c] = ((0 + src[0, c]) + src[1, c]) + … for each column c. */
function sumModule(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const at = (base: number) => [...get(base), ...get(S_C), OP.i32Add];
  const body = [
    ...floatBytes(S_COLS, S_ROW, S_ROW4),
    // dst = 0
    ...whileBelow(S_C, S_ROW, [...at(S_DST), ...f32c(0), ...f32Store], 4),
    ...get(S_SRC),
    ...set(S_P),
    ...whileBelow(
      S_R,
      S_ROWS,
      [
        // dst[c…] = dst[c…] + src row[c…]
        ...addRowInto(S_DST, S_P, S_C, S_ROW4, S_ROW),
        ...get(S_P),
        ...get(S_ROW),
        OP.i32Add,
        ...set(S_P),
      ],
      1,
    ),
  ];
  return moduleBytes(memory, 'sum', Array(4).fill(I32), [[5, I32]], body);
}

/**
 * Tiles of 16 rows × 16 columns: a tile reads one 64-byte line of each of 16 source rows and writes
 * 64 bytes of 16 destination rows. Taller tiles thrash the L1 cache when the source row is 2 KB
 * (a [784, 512] weight: its rows fall into two cache sets of eight lines): 16 rows took 0.35 ms
 * there against 0.69 ms for 64 (`npm run bench:kernels`, tfjs 0.33–0.46), and were as fast or
 * faster on every other shape of the bench; 8 rows were slower on the patch matrices. Untiled is
 * slower for the large patch matrices.
 */
const TILE_ROWS = 16;
const STRIP = 16;

type TransposeFn = (
  src: number,
  dst: number,
  rows: number,
  cols: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
) => void;

type SumFn = (src: number, dst: number, rows: number, cols: number) => void;

interface Kernels {
  transpose: TransposeFn;
  sum: SumFn;
}

/** The backend's WebAssembly.Memory (Emscripten names its exports `asm` or `wasmExports`), if it exports one. */
export function memoryOf(backend: Pick<WasmBackendLike, 'wasm'>): WebAssembly.Memory | undefined {
  const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmExports?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** Both functions, compiled once per memory (under 1 KB each, synchronously). */
const kernelsFor = perMemory((memory): Kernels => {
  const limits = importOf(memory);
  return {
    transpose: exportsOf(transposeModule(limits), memory).transpose as TransposeFn,
    sum: exportsOf(sumModule(limits), memory).sum as SumFn,
  };
});

/**
 * Transposes `count` consecutive [rows, cols] float32 matrices at byte offset `src` into [cols, rows]
 * at `dst`, inside `memory`.
 */
function transposeInMemory(
  memory: WebAssembly.Memory,
  src: number,
  dst: number,
  count: number,
  rows: number,
  cols: number,
): void {
  const fn = kernelsFor(memory).transpose;
  const rows4 = rows & ~3;
  const cols4 = cols & ~3;
  const size = rows * cols;
  for (let m = 0; m < count; m++) {
    const s = src + 4 * m * size;
    const d = dst + 4 * m * size;
    for (let r0 = 0; r0 < rows4; r0 += TILE_ROWS)
      for (let c0 = 0; c0 < cols4; c0 += STRIP)
        fn(s, d, rows, cols, r0, Math.min(rows4, r0 + TILE_ROWS), c0, Math.min(cols4, c0 + STRIP));
    if (rows4 === rows && cols4 === cols) continue;
    // The edges: rows from rows4 on (every column), and columns from cols4 on (the other rows).
    const heap = new Float32Array(memory.buffer);
    const from = s / 4;
    const to = d / 4;
    for (let r = rows4; r < rows; r++)
      for (let c = 0; c < cols; c++) heap[to + c * rows + r] = heap[from + r * cols + c] as number;
    for (let r = 0; r < rows4; r++)
      for (let c = cols4; c < cols; c++) heap[to + c * rows + r] = heap[from + r * cols + c] as number;
  }
}

/** True when `perm` swaps the last two axes and keeps the others in place. */
function swapsLastTwo(perm: readonly number[]): boolean {
  const n = perm.length;
  return (
    n >= 2 && perm[n - 1] === n - 2 && perm[n - 2] === n - 1 && perm.slice(0, n - 2).every((p, i) => p === i)
  );
}

/** The number of leading axes `axis` names when it names exactly axes 0…k−1 of a rank-`rank` tensor, k < rank; else 0. */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort(
    (a, b) => a - b,
  );
  return axes.length < rank && axes.every((a, i) => a === i) ? axes.length : 0;
}

type KernelArgs<A, I = { x: tf.TensorInfo }> = { inputs: I; backend: unknown; attrs: A };

/** The kernels these replace, called for what ours do not take. */
const fallbacks = new Map<string, tf.KernelFunc>();

/** The backend's own kernel that ours replaced under `name`, if ours are registered (for tests and benchmarks). */
export const replacedKernel = (name: string): tf.KernelFunc | undefined => fallbacks.get(name);

function delegate(name: string, args: KernelArgs<unknown, unknown>): tf.TensorInfo {
  return (fallbacks.get(name) as tf.KernelFunc)(args as never) as tf.TensorInfo;
}

/** Byte offset of a tensor in the backend's memory. */
const offsetOf = (backend: WasmBackendLike, t: tf.TensorInfo) =>
  backend.dataIdMap.get(t.dataId)?.memoryOffset as number;

function transposeKernel(args: KernelArgs<{ perm: number[] }>): tf.TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const memory = memoryOf(backend);
  if (x.dtype !== 'float32' || !swapsLastTwo(args.attrs.perm) || memory === undefined)
    return delegate('Transpose', args);
  const shape = x.shape;
  const rows = shape.at(-2) as number;
  const cols = shape.at(-1) as number;
  const count = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...shape.slice(0, -2), cols, rows], 'float32');
  // Offsets after makeOutput, which may have grown the memory.
  if (count * rows * cols > 0)
    transposeInMemory(memory, offsetOf(backend, x), offsetOf(backend, out), count, rows, cols);
  return out;
}

function sumKernel(args: KernelArgs<{ axis: number | number[]; keepDims: boolean }>): tf.TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const memory = memoryOf(backend);
  const k = leadingAxes(args.attrs.axis, x.shape.length);
  if (x.dtype !== 'float32' || k === 0 || memory === undefined) return delegate('Sum', args);
  const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const kept = x.shape.slice(k);
  const cols = kept.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(args.attrs.keepDims ? [...Array(k).fill(1), ...kept] : kept, 'float32');
  // dst[c] = ((0 + src[0, c]) + src[1, c]) + …, row 0 first.
  if (cols > 0) kernelsFor(memory).sum(offsetOf(backend, x), offsetOf(backend, out), rows, cols);
  return out;
}

/**
 * A · B (BatchMatMul) by wasm-gemm.ts for float32 operands without transposes whose batch is one
 * matrix each and whose sizes it takes (K ≥ 128, N a multiple of 8); the rest goes to tfjs's own.
 * The output has tfjs's shape: the broadcast batch dimensions, then [M, N].
 */
function batchMatMulKernel(
  args: KernelArgs<{ transposeA: boolean; transposeB: boolean }, { a: tf.TensorInfo; b: tf.TensorInfo }>,
): tf.TensorInfo {
  const { a, b } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const memory = memoryOf(backend);
  const [m = 0, k = 0] = a.shape.slice(-2);
  const [kb = 0, n = 0] = b.shape.slice(-2);
  const batch = [...a.shape.slice(0, -2), ...b.shape.slice(0, -2)];
  if (
    memory === undefined ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    args.attrs.transposeA ||
    args.attrs.transposeB ||
    a.shape.length < 2 ||
    b.shape.length < 2 ||
    k !== kb ||
    batch.some((d) => d !== 1) ||
    !gemmTakes(m, k, n)
  )
    return delegate('BatchMatMul', args);
  const rank = Math.max(a.shape.length, b.shape.length);
  const out = backend.makeOutput([...Array(rank - 2).fill(1), m, n], 'float32');
  const scratch = backend.makeOutput([k, n], 'float32');
  // Offsets after makeOutput, which may have grown the memory.
  gemmInMemory(memory, {
    a: offsetOf(backend, a),
    b: offsetOf(backend, b),
    c: offsetOf(backend, out),
    scratch: offsetOf(backend, scratch),
    m,
    k,
    n,
  });
  backend.disposeData(scratch.dataId);
  return out;
}

const KERNELS: [string, (args: never) => tf.TensorInfo][] = [
  ['Transpose', transposeKernel],
  ['Sum', sumKernel],
  ['BatchMatMul', batchMatMulKernel],
];

/**
 * Registers both kernels as the wasm backend's Transpose and Sum, each delegating what it does not
 * take to the kernel it replaces. Later calls do nothing.
 */
export function registerWasmSimdKernels(): void {
  for (const [name, kernelFunc] of KERNELS) {
    const original = tf.getKernel(name, 'wasm');
    if (!original || original.kernelFunc === (kernelFunc as never)) continue;
    fallbacks.set(name, original.kernelFunc);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: kernelFunc as never });
  }
}
