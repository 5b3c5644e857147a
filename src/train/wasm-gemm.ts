/**
 * A float32 matrix product C = A · B in WebAssembly SIMD, assembled here (wasm-asm.ts), for the
 * shapes training multiplies most: a weight or patch matrix A [M, K] with K ≥ 128 by a matrix B
 * [K, N] whose N is a multiple of 8 (a batch share in feature-by-batch layout, or a layer's channels).
 *
 * B is first packed into panels of 8 columns ([N / 8][K][8], contiguous per panel), so the inner loop
 * reads it in order. Each call of the kernel then sweeps one panel down A, four rows at a time:
 * eight accumulators (4 rows × 8 columns) in registers, each step of k loading two vectors of the
 * panel and splatting one element of each of the four rows of A. Rows past the last multiple of four
 * go through the same loop one row at a time.
 *
 * Every output is Σ_k A[i, k] · B[k, j] accumulated in order of k from 0, one multiplication and one
 * addition each (WebAssembly has no fused multiply-add), which is what tfjs-backend-wasm's XNNPACK
 * kernels compute too: the results have the same bits (test/wasm-gemm.test.ts).
 * tfjs-backend-wasm 4.22 reaches ~31 GFLOP/s on these shapes here and this ~40, 1.3× (`npm run
 * bench:kernels`, interleaved). With K = 64 no variant tried (blocks of 4–6 rows, unrolled or
 * specialized loops) was faster than tfjs's, so those stay with tfjs.
 */
import {
  exportsOf,
  get,
  I32,
  i32c,
  importOf,
  moduleOf,
  OP,
  perMemory,
  set,
  simd,
  V128,
  v128Load32Splat,
  v128LoadAt,
  v128StoreAt,
  v128Zero,
  whileBelow,
  X4,
} from './wasm-asm.js';

/** The smallest inner dimension worth our kernel (measured: K = 64 is no faster than tfjs's). */
export const GEMM_MIN_K = 128;
/** Columns per panel: N must be a multiple of it. */
export const GEMM_PANEL = 8;

// pack(b, dst, k, n): parameters; locals: the panel's byte offset j, its end, the source address,
// the row counter, the source row length in bytes.
const [PK_B, PK_DST, PK_K, PK_N] = [0, 1, 2, 3];
const [PK_J, PK_JEND, PK_SRC, PK_ROW, PK_ROWB] = [4, 5, 6, 7, 8];

/** `pack(b, dst, K, N)`: dst[p][k][0…8) = b[k][8p…8p + 8) for every panel p. */
function packFunction() {
  const copyRow = [
    ...get(PK_DST),
    ...get(PK_SRC),
    ...v128LoadAt(0),
    ...v128StoreAt(0),
    ...get(PK_DST),
    ...get(PK_SRC),
    ...v128LoadAt(16),
    ...v128StoreAt(16),
    ...get(PK_DST),
    ...i32c(32),
    OP.i32Add,
    ...set(PK_DST),
    ...get(PK_SRC),
    ...get(PK_ROWB),
    OP.i32Add,
    ...set(PK_SRC),
  ];
  const panel = [
    ...get(PK_B),
    ...get(PK_J),
    OP.i32Add,
    ...set(PK_SRC),
    ...i32c(0),
    ...set(PK_ROW),
    ...whileBelow(PK_ROW, PK_K, copyRow, 1),
  ];
  const body = [
    ...get(PK_N),
    ...i32c(2),
    OP.i32Shl,
    ...set(PK_ROWB),
    ...get(PK_ROWB),
    ...set(PK_JEND),
    ...whileBelow(PK_J, PK_JEND, panel, 32),
  ];
  return { name: 'pack', params: [I32, I32, I32, I32], locals: [[5, I32]] as [number, number][], body };
}

// gemm(a, aEnd, panel, c, lda, ldc): parameters (byte offsets and row lengths in bytes); locals: the
// address of A's element k in the block's first row, its end, the panel address, the block step
// (rows · lda), 2 · lda, 3 · lda; v128 accumulators, the panel's two vectors, the splat.
const [G_A, G_AEND, G_PANEL, G_C, G_LDA, G_LDC] = [0, 1, 2, 3, 4, 5];
const [G_PA, G_KEND, G_PB, G_STEP, G_LDA2, G_LDA3] = [6, 7, 8, 9, 10, 11];
const G_V = 12;

/** `gemm{rows}(a, aEnd, panel, c, lda, ldc)`: one 8-column panel of C for the row blocks from a to aEnd. */
function gemmFunction(rows: 1 | 4) {
  const acc = (i: number) => G_V + i;
  const [B0, B1, S] = [G_V + 2 * rows, G_V + 2 * rows + 1, G_V + 2 * rows + 2];
  const rowOffset = [undefined, G_LDA, G_LDA2, G_LDA3];
  const multiplyAdd = (target: number, b: number) => [
    ...get(target),
    ...get(S),
    ...get(b),
    ...simd(X4.mul),
    ...simd(X4.add),
    ...set(target),
  ];
  const step = [
    ...get(G_PB),
    ...v128LoadAt(0),
    ...set(B0),
    ...get(G_PB),
    ...v128LoadAt(16),
    ...set(B1),
    ...Array.from({ length: rows }, (_, r) => {
      const offset = rowOffset[r];
      return [
        ...get(G_PA),
        ...(offset === undefined ? [] : [...get(offset), OP.i32Add]),
        ...v128Load32Splat,
        ...set(S),
        ...multiplyAdd(acc(2 * r), B0),
        ...multiplyAdd(acc(2 * r + 1), B1),
      ];
    }).flat(),
    ...get(G_PB),
    ...i32c(32),
    OP.i32Add,
    ...set(G_PB),
  ];
  const block = [
    ...Array.from({ length: 2 * rows }, (_, i) => [...v128Zero, ...set(acc(i))]).flat(),
    ...get(G_A),
    ...set(G_PA),
    ...get(G_A),
    ...get(G_LDA),
    OP.i32Add,
    ...set(G_KEND),
    ...get(G_PANEL),
    ...set(G_PB),
    ...whileBelow(G_PA, G_KEND, step, 4),
    ...Array.from({ length: rows }, (_, r) => [
      ...get(G_C),
      ...get(acc(2 * r)),
      ...v128StoreAt(0),
      ...get(G_C),
      ...get(acc(2 * r + 1)),
      ...v128StoreAt(16),
      ...get(G_C),
      ...get(G_LDC),
      OP.i32Add,
      ...set(G_C),
    ]).flat(),
  ];
  const body = [
    ...get(G_LDA),
    ...i32c(rows),
    OP.i32Mul,
    ...set(G_STEP),
    // The offsets of rows 2 and 3 (a one-row block has none).
    ...(rows === 4
      ? [
          ...get(G_LDA),
          ...i32c(2),
          OP.i32Mul,
          ...set(G_LDA2),
          ...get(G_LDA),
          ...i32c(3),
          OP.i32Mul,
          ...set(G_LDA3),
        ]
      : []),
    ...whileBelow(G_A, G_AEND, block, { local: G_STEP }),
  ];
  return {
    name: `gemm${rows}`,
    params: Array(6).fill(I32),
    locals: [
      [6, I32],
      [2 * rows + 3, V128],
    ] as [number, number][],
    body,
  };
}

type PackFn = (b: number, dst: number, k: number, n: number) => void;
type GemmFn = (a: number, aEnd: number, panel: number, c: number, lda: number, ldc: number) => void;

interface Gemm {
  pack: PackFn;
  gemm4: GemmFn;
  gemm1: GemmFn;
}

/** The module's three functions, compiled once per memory. */
const gemmFor = perMemory((memory): Gemm => {
  const bytes = moduleOf(importOf(memory), [packFunction(), gemmFunction(4), gemmFunction(1)]);
  const exports = exportsOf(bytes, memory);
  return { pack: exports.pack as PackFn, gemm4: exports.gemm4 as GemmFn, gemm1: exports.gemm1 as GemmFn };
});

/** True when `gemmInMemory` takes an [M, K] · [K, N] product. */
export const gemmTakes = (m: number, k: number, n: number) =>
  m > 0 && k >= GEMM_MIN_K && n > 0 && n % GEMM_PANEL === 0;

/**
 * C = A · B for float32 matrices at byte offsets `a` ([M, K]), `b` ([K, N]) and `c` ([M, N]) of
 * `memory`, with `scratch` (K · N floats) for B's panels. Requires gemmTakes(M, K, N).
 */
export function gemmInMemory(
  memory: WebAssembly.Memory,
  p: { a: number; b: number; c: number; scratch: number; m: number; k: number; n: number },
): void {
  const { pack, gemm4, gemm1 } = gemmFor(memory);
  const lda = 4 * p.k;
  const ldc = 4 * p.n;
  const m4 = p.m & ~3;
  pack(p.b, p.scratch, p.k, p.n);
  for (let j = 0; j < p.n; j += GEMM_PANEL) {
    const panel = p.scratch + 4 * j * p.k;
    const c = p.c + 4 * j;
    if (m4 > 0) gemm4(p.a, p.a + m4 * lda, panel, c, lda, ldc);
    if (m4 < p.m) gemm1(p.a + m4 * lda, p.a + p.m * lda, panel, c + m4 * ldc, lda, ldc);
  }
}
