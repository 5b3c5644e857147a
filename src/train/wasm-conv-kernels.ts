/**
 * Two convolution gradients for tfjs-backend-wasm, as matMuls over image patches:
 *
 * - Conv2DBackpropFilter, which tfjs-backend-wasm 4.22 lacks (no conv layer could train on it, and
 *   the pure-JS cpu backend takes minutes per step for the conv VAE);
 * - Conv2DBackpropInput, which it has as a plain loop at 0.2–0.3 GFLOP/s (measured here), and which
 *   every Conv2DTranspose layer runs forward: ~85 % of a conv VAE step.
 *
 * Both move the arithmetic into the wasm backend's BatchMatMul (20–27 GFLOP/s here on untransposed
 * operands, 1.3× that where wasm-gemm.ts takes it); around it, patches are laid out (im2col, one
 * contiguous run of channels at a time) or added back (col2im, by a WebAssembly SIMD function: the
 * widest 64×64 layer's input gradient went from 177 to 93 ms per 64 examples against the plain loop).
 * test/wasm-conv-kernels.test.ts checks both against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import {
  addRowInto,
  exportsOf,
  get,
  I32,
  i32Load,
  importOf,
  type MemoryImport,
  moduleBytes,
  OP,
  perMemory,
  set,
  whileBelow,
} from './wasm-asm.js';
import { memoryOf } from './wasm-simd-kernels.js';

interface WasmBackendLike {
  wasm: { asm?: { memory?: unknown }; wasmExports?: { memory?: unknown } };
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The geometry of a convolution: sizes, strides, padding, and the patch length K = KH·KW·C. */
function geometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
  kernel: string,
) {
  if (attrs.dataFormat !== 'NHWC')
    throw new Error(`${kernel} (wasm, vae-onnx): only NHWC, got ${attrs.dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const g = {
    N: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    Ho: info.outHeight,
    Wo: info.outWidth,
    Co: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    SH: info.strideHeight,
    SW: info.strideWidth,
    DH: info.dilationHeight,
    DW: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
  return { ...g, K: g.KH * g.KW * g.C, M: g.N * g.Ho * g.Wo };
}

type Geometry = ReturnType<typeof geometry>;

interface TapOffsets {
  patch: Int32Array;
  pixel: Int32Array;
  count: number;
  /** The first tap of each patch row (output pixel), and `count` at index M: rows [m0, m1) own taps [rowStart[m0], rowStart[m1]). */
  rowStart: Int32Array;
}

/** Tap offsets by geometry: a training run asks for the same few geometries every step. */
const tapCache = new Map<string, TapOffsets>();
const TAP_CACHE_SIZE = 32;

/**
 * The first patch-row offset of each (output pixel, tap) and the image offset it reads or writes,
 * for the taps inside the image (taps in the padding are left out), so that the copying loops below
 * are flat. Cached by geometry.
 */
function tapOffsets(g: Geometry): TapOffsets {
  const key = [g.N, g.H, g.W, g.C, g.Ho, g.Wo, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.top, g.left].join();
  const cached = tapCache.get(key);
  if (cached) return cached;
  const offsets = computeTapOffsets(g);
  if (tapCache.size >= TAP_CACHE_SIZE) tapCache.delete(tapCache.keys().next().value as string);
  tapCache.set(key, offsets);
  return offsets;
}

function computeTapOffsets(g: Geometry): TapOffsets {
  const patch = new Int32Array(g.M * g.KH * g.KW);
  const pixel = new Int32Array(g.M * g.KH * g.KW);
  const rowStart = new Int32Array(g.M + 1);
  let count = 0;
  for (let n = 0; n < g.N; n++) {
    for (let oy = 0; oy < g.Ho; oy++) {
      for (let ox = 0; ox < g.Wo; ox++) {
        const m = (n * g.Ho + oy) * g.Wo + ox;
        rowStart[m] = count;
        const row = m * g.K;
        for (let ky = 0; ky < g.KH; ky++) {
          const iy = oy * g.SH - g.top + ky * g.DH;
          if (iy < 0 || iy >= g.H) continue;
          for (let kx = 0; kx < g.KW; kx++) {
            const ix = ox * g.SW - g.left + kx * g.DW;
            if (ix < 0 || ix >= g.W) continue;
            patch[count] = row + (ky * g.KW + kx) * g.C;
            pixel[count] = ((n * g.H + iy) * g.W + ix) * g.C;
            count++;
          }
        }
      }
    }
  }
  rowStart[g.M] = count;
  return { patch, pixel, count, rowStart };
}

/**
 * im2col for patch rows [m0, m1): copies each tap's C channels of the image into its patch row, row
 * m at `patches` row m − m0.
 */
function gatherPatches(
  g: Geometry,
  image: Float32Array,
  patches: Float32Array,
  m0: number,
  m1: number,
): void {
  const { patch, pixel, rowStart } = tapOffsets(g);
  const C = g.C;
  const shift = m0 * g.K;
  const start = rowStart[m0] as number;
  const end = rowStart[m1] as number;
  // Runs of 8 or more channels: one native copy per tap within the wasm heap (both views share it),
  // ~25 % faster for a 64×64 conv's widest filter gradient than the loop below (interleaved here:
  // 119–155 vs 146–203 ms for the whole kernel).
  if (C >= 8 && patches.buffer === image.buffer) {
    const heap = new Float32Array(patches.buffer);
    const p0 = patches.byteOffset / 4 - shift;
    const i0 = image.byteOffset / 4;
    for (let t = start; t < end; t++) {
      const from = i0 + (pixel[t] as number);
      heap.copyWithin(p0 + (patch[t] as number), from, from + C);
    }
    return;
  }
  for (let t = start; t < end; t++) {
    const to = (patch[t] as number) - shift;
    const from = pixel[t] as number;
    for (let c = 0; c < C; c++) patches[to + c] = image[from + c] as number;
  }
}

// scatterAdd(patches, image, taps, end, channelBytes, laneBytes): parameters; locals: the tap's
// source and destination addresses, the channel's byte offset.
const [SA_PATCHES, SA_IMAGE, SA_TAPS, SA_END, SA_BYTES, SA_LANES] = [0, 1, 2, 3, 4, 5];
const [SA_FROM, SA_TO, SA_C] = [6, 7, 8];

/**
 * `scatterAdd(patches, image, taps, end, channelBytes, laneBytes)`: for each tap (a pair of int32
 * byte offsets [into patches, into image] from `taps` to `end`), image[to + c] += patches[from + c]
 * over the channels, four lanes at a time up to `laneBytes`, then one at a time.
 */
function scatterAddModule(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const tap = [
    ...get(SA_PATCHES),
    ...get(SA_TAPS),
    ...i32Load(0),
    OP.i32Add,
    ...set(SA_FROM),
    ...get(SA_IMAGE),
    ...get(SA_TAPS),
    ...i32Load(4),
    OP.i32Add,
    ...set(SA_TO),
    ...addRowInto(SA_TO, SA_FROM, SA_C, SA_LANES, SA_BYTES),
  ];
  return moduleBytes(
    memory,
    'scatterAdd',
    Array(6).fill(I32),
    [[3, I32]],
    whileBelow(SA_TAPS, SA_END, tap, 8),
  );
}

type ScatterAddFn = (
  patches: number,
  image: number,
  taps: number,
  end: number,
  channelBytes: number,
  laneBytes: number,
) => void;

/** The scatter-add function, compiled once per memory. */
const scatterAddFor = perMemory(
  (memory) => exportsOf(scatterAddModule(importOf(memory)), memory).scatterAdd as ScatterAddFn,
);

/** The tap pairs [patch, pixel] as byte offsets, interleaved, by geometry (alongside tapCache). */
const tapPairs = new WeakMap<TapOffsets, Int32Array>();

/**
 * col2im: adds each tap's C channels of its patch row back into the image, in tap order (the
 * additions of one pixel's channel happen in the same order as a plain loop, so the same bits),
 * by a WebAssembly SIMD function in the backend's memory; the tap offsets are copied into that
 * memory for the call. Without an exported memory, a plain loop does the same.
 */
function scatterPatches(
  backend: WasmBackendLike,
  g: Geometry,
  patches: tf.TensorInfo,
  image: tf.TensorInfo,
): void {
  const offsets = tapOffsets(g);
  const { patch, pixel, count } = offsets;
  const C = g.C;
  const memory = memoryOf(backend);
  if (memory === undefined) {
    const from0 = backend.typedArrayFromHeap(patches);
    const to0 = backend.typedArrayFromHeap(image);
    for (let t = 0; t < count; t++) {
      const from = patch[t] as number;
      const to = pixel[t] as number;
      for (let c = 0; c < C; c++) to0[to + c] = (to0[to + c] as number) + (from0[from + c] as number);
    }
    return;
  }
  let pairs = tapPairs.get(offsets);
  if (!pairs) {
    pairs = new Int32Array(2 * count);
    for (let t = 0; t < count; t++) {
      pairs[2 * t] = 4 * (patch[t] as number);
      pairs[2 * t + 1] = 4 * (pixel[t] as number);
    }
    tapPairs.set(offsets, pairs);
  }
  const scatterAdd = scatterAddFor(memory);
  // The pairs ride in a float32 buffer of the same byte length; offsets after the allocation.
  const taps = backend.makeOutput([2 * count], 'float32');
  const at = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
  new Int32Array(memory.buffer, at(taps), 2 * count).set(pairs);
  scatterAdd(at(patches), at(image), at(taps), at(taps) + 8 * count, 4 * C, 16 * Math.floor(C / 4));
  backend.disposeData(taps.dataId);
}

/** Runs a wasm kernel by name. */
function run(name: string, args: Omit<KernelArgs, 'backend'>, backend: unknown): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`the wasm backend lacks ${name}`);
  return kernel.kernelFunc({ ...args, backend: backend as never }) as tf.TensorInfo;
}

/** [rows, cols] → [cols, rows], for the small filter matrices. */
function transposed(data: ArrayLike<number>, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
}

/**
 * Patch rows per chunk of the filter gradient: 2^18 floats (1 MB) of patches. A matMul over all M
 * rows at once (K up to 65,536 for a 64×64 conv) streams its packed operand from memory for every
 * block of output rows (17.8 GFLOP/s here, against 25+ in cache); chunks keep each step's patches,
 * their transpose and dy's rows in cache.
 */
const CHUNK_FLOATS = 2 ** 18;

/**
 * dW[kh, kw, ci, co] = Σ_m patches[m, k] · dy[m, co] = patchesᵀ · dy, over chunks of rows m: each
 * chunk's patches are written row by row (contiguous runs of channels), transposed, and multiplied by
 * its rows of dy, whose [rows, Co] layout the matMul takes as it is (the smaller operand, which the
 * matMul packs); the chunks' products are added in order.
 */
function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  const g = geometry(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs,
    'Conv2DBackpropFilter',
  );
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const chunk = Math.max(64, Math.floor(CHUNK_FLOATS / g.K));
  for (let m0 = 0; m0 < g.M; m0 += chunk) {
    const m1 = Math.min(g.M, m0 + chunk);
    const patches = backend.makeOutput([1, m1 - m0, g.K], 'float32');
    const dyRows = backend.makeOutput([1, m1 - m0, g.Co], 'float32');
    // Views into the wasm heap, taken after the allocations (growing the heap detaches older views).
    const p = backend.typedArrayFromHeap(patches);
    p.fill(0);
    gatherPatches(g, backend.typedArrayFromHeap(x), p, m0, m1);
    backend.typedArrayFromHeap(dyRows).set(backend.typedArrayFromHeap(dy).subarray(m0 * g.Co, m1 * g.Co));
    const patchesT = run('Transpose', { inputs: { x: patches }, attrs: { perm: [0, 2, 1] } }, args.backend);
    const product = run(
      'BatchMatMul',
      { inputs: { a: patchesT, b: dyRows }, attrs: { transposeA: false, transposeB: false } },
      args.backend,
    );
    const sum = backend.typedArrayFromHeap(out);
    const part = backend.typedArrayFromHeap(product);
    if (m0 === 0) sum.set(part);
    else for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (part[i] as number);
    for (const t of [patches, dyRows, patchesT, product]) backend.disposeData(t.dataId);
  }
  return out;
}

/**
 * dx[n, iy, ix, ci] = Σ dy[n, oy, ox, co] · W[ky, kx, ci, co] over the taps that reach (iy, ix):
 * patches = dy · Wᵀ by the wasm backend's matMul, then each patch row added back into its input
 * pixels (col2im, scatterPatches).
 */
function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  const g = geometry(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs,
    'Conv2DBackpropInput',
  );
  // The filter is [K, Co] in memory; the matMul wants it as [Co, K].
  const wT = backend.makeOutput([1, g.Co, g.K], 'float32');
  transposed(backend.readSync(filter.dataId), g.K, g.Co, backend.typedArrayFromHeap(wT));
  const dy3 = run('Reshape', { inputs: { x: dy }, attrs: { shape: [1, g.M, g.Co] } }, args.backend);
  const patches = run(
    'BatchMatMul',
    { inputs: { a: dy3, b: wT }, attrs: { transposeA: false, transposeB: false } },
    args.backend,
  );
  const out = backend.makeOutput(attrs.inputShape, 'float32');
  // Views into the wasm heap, taken after the allocation (growing the heap detaches older views).
  backend.typedArrayFromHeap(out).fill(0);
  scatterPatches(backend, g, patches, out);
  for (const t of [wT, dy3, patches]) backend.disposeData(t.dataId);
  return out;
}

/**
 * Registers both kernels for the wasm backend (replacing its Conv2DBackpropInput) once; later
 * calls do nothing.
 */
export function registerWasmConvKernels(): void {
  const ours = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc === (conv2dBackpropInput as never);
  if (ours) return;
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropFilter', conv2dBackpropFilter],
    ['Conv2DBackpropInput', conv2dBackpropInput],
  ] as const) {
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as never });
  }
}
