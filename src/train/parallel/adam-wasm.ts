/**
 * Adam as a small WebAssembly SIMD function over a WebAssembly.Memory, for both steppers (shared by
 * the data-parallel workers, private on the main thread). In JavaScript, Adam spent ~6 ns per
 * parameter on its scalar square root and division (2.2 ms per step for half of the seed MLP's
 * 653k parameters); four float32 lanes at a time it takes 0.21 ms. The module is assembled here, byte
 * by byte (wasm-asm.ts).
 *
 * The rule, with adam.ts's constants (tf.train.adam's), in float32, in this order of operations:
 *   g = (slot_0 + … + slot_{W−1}) · (1/W); m ← β1·m + (1−β1)·g; v ← β2·v + ((1−β2)·g)·g;
 *   w ← w − (step·m) / (√(v·c2) + ε),   step = lr / (1 − β1^t), c2 = 1 / (1 − β2^t).
 * Every lane and the scalar tail round each operation to float32 (IEEE), so any split of the
 * parameters gives the same bits.
 */
import {
  F32,
  f32c,
  f32Load,
  f32Store,
  floatBytes,
  get,
  I32,
  i32c,
  moduleBytes,
  OP,
  set,
  simd,
  tee,
  V128,
  v128Load,
  v128Store,
  whileBelow,
  X4,
} from '../wasm-asm.js';
import { ADAM } from './adam.js';

// Parameters: slots, slot stride in bytes, slot count W, m, v, w (byte offsets), count, step, c2, 1/W.
const [SLOTS, STRIDE, W, M, V, WEIGHTS, COUNT, STEP, C2, INV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
// Locals: byte offset, end of the vector part, end of all, slot pointer, slot counter; then the
// float32 and v128 working values.
const [AT, END4, END1, PTR, K, G, MI, VI, GX, MX, VX] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
// Splatted constants, v128 locals 21…28: inv, β1, 1−β1, β2, 1−β2, step, c2, ε.
const [SINV, SB1, SA1, SB2, SA2, SSTEP, SC2, SEPS] = [21, 22, 23, 24, 25, 26, 27, 28];

/** One element (`width` 1, f32) or four (`width` 4, v128) of the update at byte offset AT. */
function update(width: 1 | 4): number[] {
  const vector = width === 4;
  const load = vector ? v128Load : f32Load;
  const store = vector ? v128Store : f32Store;
  const op = (lane: keyof typeof X4, scalar: number) => (vector ? simd(X4[lane]) : [scalar]);
  const mul = op('mul', OP.f32Mul);
  const add = op('add', OP.f32Add);
  const [g, mi, vi] = vector ? [GX, MX, VX] : [G, MI, VI];
  // A constant or a parameter: its splatted local in the vector loop, itself in the scalar one.
  const constant = (splatted: number, value: number) => (vector ? get(splatted) : f32c(value));
  const param = (splatted: number, local: number) => get(vector ? splatted : local);
  const at = (base: number) => [...get(base), ...get(AT), OP.i32Add];
  // moment = decay·moment + ((1 − decay)·g)[·g], kept in `local` and stored.
  const moment = (
    base: number,
    decay: readonly [number, number],
    splats: readonly [number, number],
    squared: boolean,
    local: number,
  ) => [
    ...at(base),
    ...constant(splats[0], decay[0]),
    ...at(base),
    ...load,
    ...mul,
    ...constant(splats[1], decay[1]),
    ...get(g),
    ...mul,
    ...(squared ? [...get(g), ...mul] : []),
    ...add,
    ...tee(local),
    ...store,
  ];
  const { beta1, beta2, epsilon } = ADAM;
  return [
    // g = Σ slots, in slot order.
    ...at(SLOTS),
    ...set(PTR),
    ...get(PTR),
    ...load,
    ...set(g),
    ...i32c(1),
    ...set(K),
    ...whileBelow(
      K,
      W,
      [
        ...get(PTR),
        ...get(STRIDE),
        OP.i32Add,
        ...set(PTR),
        ...get(g),
        ...get(PTR),
        ...load,
        ...add,
        ...set(g),
      ],
      1,
    ),
    // g ·= 1/W
    ...get(g),
    ...param(SINV, INV),
    ...mul,
    ...set(g),
    ...moment(M, [beta1, 1 - beta1], [SB1, SA1], false, mi),
    ...moment(V, [beta2, 1 - beta2], [SB2, SA2], true, vi),
    // w = w − (step·m) / (√(v·c2) + ε)
    ...at(WEIGHTS),
    ...at(WEIGHTS),
    ...load,
    ...param(SSTEP, STEP),
    ...get(mi),
    ...mul,
    ...get(vi),
    ...param(SC2, C2),
    ...mul,
    ...op('sqrt', OP.f32Sqrt),
    ...constant(SEPS, epsilon),
    ...add,
    ...op('div', OP.f32Div),
    ...op('sub', OP.f32Sub),
    ...store,
  ];
}

function splat(from: number[], local: number): number[] {
  return [...from, ...simd(X4.splat), ...set(local)];
}

/** The module's bytes: imports env.memory (`pages` pages, shared or not) and exports `adam`. */
function adamModule(pages: number, shared: boolean): Uint8Array<ArrayBuffer> {
  const { beta1, beta2, epsilon } = ADAM;
  const params = [I32, I32, I32, I32, I32, I32, I32, F32, F32, F32];
  const body = [
    ...splat(get(INV), SINV),
    ...splat(f32c(beta1), SB1),
    ...splat(f32c(1 - beta1), SA1),
    ...splat(f32c(beta2), SB2),
    ...splat(f32c(1 - beta2), SA2),
    ...splat(get(STEP), SSTEP),
    ...splat(get(C2), SC2),
    ...splat(f32c(epsilon), SEPS),
    // END1 = 4·count; END4 = 4·(count & ~3)
    ...floatBytes(COUNT, END1, END4),
    // The update at byte offsets AT < END4 four lanes at a time, then the tail one at a time.
    ...whileBelow(AT, END4, update(4), 16),
    ...whileBelow(AT, END1, update(1), 4),
  ];
  // Locals: 5 i32, 3 f32, 3 + 8 v128.
  const locals: [number, number][] = [
    [5, I32],
    [3, F32],
    [11, V128],
  ];
  return moduleBytes({ minPages: pages, maxPages: pages, shared }, 'adam', params, locals, body);
}

/** Float32 arrays inside one WebAssembly.Memory: `slots` gradient slots, then the weights and both moments. */
export interface AdamMemory {
  memory: WebAssembly.Memory;
  /** Number of parameters. */
  parameters: number;
  /** Number of gradient slots (workers). */
  slots: number;
}

/** Floats between the starts of consecutive arrays: the parameter count rounded up to 4 (16 bytes). */
const strideOf = (parameters: number) => Math.ceil(parameters / 4) * 4;
const bytesOf = (parameters: number, slots: number) => 4 * strideOf(parameters) * (slots + 3);

/**
 * A memory for `slots` gradient slots and the weights and two moments of `parameters`, holding
 * `initial` (weights and moments). `shared` makes it a SharedArrayBuffer that worker threads attach to.
 */
export function createAdamMemory(
  parameters: number,
  slots: number,
  shared: boolean,
  initial?: { weights: Float32Array; firstMoment: Float32Array; secondMoment: Float32Array },
): AdamMemory {
  const pages = Math.max(1, Math.ceil(bytesOf(parameters, slots) / 65_536));
  const a = {
    memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared }),
    parameters,
    slots,
  };
  if (initial) {
    const views = adamViews(a);
    views.weights.set(initial.weights);
    views.firstMoment.set(initial.firstMoment);
    views.secondMoment.set(initial.secondMoment);
  }
  return a;
}

/** `memory` (made by createAdamMemory in another thread) as the AdamMemory of `parameters` and `slots`. */
export function attachAdamMemory(memory: WebAssembly.Memory, parameters: number, slots: number): AdamMemory {
  const needed = bytesOf(parameters, slots);
  if (memory.buffer.byteLength < needed) {
    throw new RangeError(
      `adam memory: ${parameters} parameters in ${slots} slots need ${needed} bytes, the memory has ${memory.buffer.byteLength}`,
    );
  }
  return { memory, parameters, slots };
}

/** The weights and moments of an AdamMemory, as views (no copies). */
export function adamViews(a: AdamMemory): {
  weights: Float32Array;
  firstMoment: Float32Array;
  secondMoment: Float32Array;
} {
  return {
    weights: gradientSlot(a, a.slots),
    firstMoment: gradientSlot(a, a.slots + 1),
    secondMoment: gradientSlot(a, a.slots + 2),
  };
}

/** The array at position `index` of an AdamMemory: gradient slot `index` below `slots`, a view. */
export function gradientSlot(a: AdamMemory, index: number): Float32Array {
  return new Float32Array(a.memory.buffer, 4 * strideOf(a.parameters) * index, a.parameters);
}

/**
 * Compiles the Adam function for `a` (under 1 KB, synchronously, which browsers allow on the main
 * thread for modules this small). The returned function updates parameters [lo, hi) from the mean of
 * all slots, at step `t` (1-based) with rate `lr`.
 */
export function adamKernel(a: AdamMemory): (lo: number, hi: number, lr: number, t: number) => void {
  const buffer = a.memory.buffer;
  const shared = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(adamModule(buffer.byteLength / 65_536, shared)),
    {
      env: { memory: a.memory },
    },
  );
  const adam = instance.exports.adam as (...args: number[]) => void;
  const stride = 4 * strideOf(a.parameters);
  return (lo, hi, lr, t) => {
    if (!(0 <= lo && lo <= hi && hi <= a.parameters)) {
      throw new RangeError(`adam: expected 0 ≤ lo ≤ hi ≤ ${a.parameters}, got lo ${lo}, hi ${hi}`);
    }
    const step = lr / (1 - ADAM.beta1 ** t);
    const c2 = 1 / (1 - ADAM.beta2 ** t);
    const at = 4 * lo;
    adam(
      at,
      stride,
      a.slots,
      stride * (a.slots + 1) + at,
      stride * (a.slots + 2) + at,
      stride * a.slots + at,
      hi - lo,
      step,
      c2,
      1 / a.slots,
    );
  };
}
