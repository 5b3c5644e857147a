/**
 * A few WebAssembly instructions and the module layout, for the small kernels this package
 * assembles byte by byte (Adam, the 2-D transpose): the package ships no binary and needs no toolchain.
 * Each module imports one memory as env.memory and exports one function.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A length-prefixed vector of encoded items. */
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const f32Bytes = (x: number) => [...new Uint8Array(new Float32Array([x]).buffer)];

/** local.get */
export const get = (i: number) => [0x20, ...uleb(i)];
/** local.set */
export const set = (i: number) => [0x21, ...uleb(i)];
/** local.tee */
export const tee = (i: number) => [0x22, ...uleb(i)];
/** i32.const */
export const i32c = (n: number) => [0x41, ...sleb(n)];
/** f32.const */
export const f32c = (x: number) => [0x43, ...f32Bytes(x)];
/** A SIMD instruction by its opcode, with its immediates. */
export const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
export const v128Load = simd(0x00, 4, 0);
export const v128Store = simd(0x0b, 4, 0);
/** v128.load and v128.store at a constant byte offset from the address on the stack. */
export const v128LoadAt = (offset: number) => simd(0x00, 4, ...uleb(offset));
export const v128StoreAt = (offset: number) => simd(0x0b, 4, ...uleb(offset));
/** v128.load32_splat: one float32 from memory into all four lanes. */
export const v128Load32Splat = simd(0x09, 2, 0);
/** v128.const 0. */
export const v128Zero = simd(0x0c, ...Array(16).fill(0));
export const f32Load = [0x2a, 2, 0];
/** i32.load at a constant byte offset from the address on the stack. */
export const i32Load = (offset: number) => [0x28, 2, ...uleb(offset)];
export const f32Store = [0x38, 2, 0];
export const OP = {
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32GeU: 0x4f,
  i32Shl: 0x74,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
};
/** f32x4 opcodes. */
export const X4 = { splat: 0x13, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7 };
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
export const END = 0x0b;
const br = (depth: number) => [0x0c, depth];
const brIf = (depth: number) => [0x0d, depth];

/**
 * `while (local < limit) { body; local += step }` over i32 locals (unsigned compare); `step` is a
 * constant, or `{ local: i }` for the value of local i.
 */
export function whileBelow(
  local: number,
  limit: number,
  body: number[],
  step: number | { local: number },
): number[] {
  return [
    ...BLOCK,
    ...LOOP,
    ...get(local),
    ...get(limit),
    OP.i32GeU,
    ...brIf(1),
    ...body,
    ...get(local),
    ...(typeof step === 'number' ? i32c(step) : get(step.local)),
    OP.i32Add,
    ...set(local),
    ...br(0),
    END,
    END,
  ];
}

/**
 * `mem[dst + c] += mem[src + c]` (float32) for the byte offsets c from 0 to `bytes`: four lanes at a
 * time below `lanes`, then one at a time; dst, src, c, lanes and bytes are i32 locals (c is set).
 */
export function addRowInto(dst: number, src: number, c: number, lanes: number, bytes: number): number[] {
  const at = (base: number) => [...get(base), ...get(c), OP.i32Add];
  const add = (vector: boolean) => [
    ...at(dst),
    ...at(dst),
    ...(vector ? v128Load : f32Load),
    ...at(src),
    ...(vector ? v128Load : f32Load),
    ...(vector ? simd(X4.add) : [OP.f32Add]),
    ...(vector ? v128Store : f32Store),
  ];
  return [
    ...i32c(0),
    ...set(c),
    ...whileBelow(c, lanes, add(true), 16),
    ...whileBelow(c, bytes, add(false), 4),
  ];
}

/**
 * `bytes = count · 4` and `lanes = (count & ~3) · 4` into two i32 locals: a count of float32 values
 * as bytes, all of them and those in whole groups of four lanes.
 */
export function floatBytes(count: number, bytes: number, lanes: number): number[] {
  return [
    ...get(count),
    ...i32c(2),
    OP.i32Shl,
    ...set(bytes),
    ...get(count),
    ...i32c(-4),
    OP.i32And,
    ...i32c(2),
    OP.i32Shl,
    ...set(lanes),
  ];
}

/** The memory a module imports: at least `minPages`; `maxPages` is required for a shared memory. */
export interface MemoryImport {
  minPages: number;
  maxPages?: number;
  shared: boolean;
}

/** The import that admits `memory`: a shared memory must declare a maximum; 65,536 pages (4 GiB) admits any. */
export function importOf(memory: WebAssembly.Memory): MemoryImport {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  return shared ? { minPages: 1, maxPages: 65_536, shared } : { minPages: 1, shared };
}

/** The exports of module `bytes` instantiated against `memory` (as its env.memory), synchronously. */
export function exportsOf(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
}

/**
 * `build` once per memory: the returned function gives the same value for the same memory (the
 * kernels' modules import the memory they work in, so each backend's memory gets its own instances).
 */
export function perMemory<T>(build: (memory: WebAssembly.Memory) => T): (memory: WebAssembly.Memory) => T {
  const built = new WeakMap<WebAssembly.Memory, T>();
  return (memory) => {
    let value = built.get(memory);
    if (value === undefined) {
      value = build(memory);
      built.set(memory, value);
    }
    return value;
  };
}

/** One exported function of a module: its parameter types (no result), locals ([count, type] runs) and instructions (without the final `end`). */
export interface FunctionBytes {
  name: string;
  params: number[];
  locals: [number, number][];
  body: number[];
}

/** A module that imports env.memory and exports `functions` under their names. */
export function moduleOf(memory: MemoryImport, functions: FunctionBytes[]): Uint8Array<ArrayBuffer> {
  const limits =
    memory.maxPages === undefined
      ? [memory.shared ? 0x02 : 0x00, ...uleb(memory.minPages)]
      : [memory.shared ? 0x03 : 0x01, ...uleb(memory.minPages), ...uleb(memory.maxPages)];
  const code = (f: FunctionBytes) => [...vec(f.locals), ...f.body, END];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(functions.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec([])]))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(
      10,
      vec(
        functions.map((f) => {
          const c = code(f);
          return [...uleb(c.length), ...c];
        }),
      ),
    ),
  ]);
}

/** A module that imports env.memory and exports one function `exportName` (see moduleOf). */
export function moduleBytes(
  memory: MemoryImport,
  exportName: string,
  params: number[],
  locals: [number, number][],
  body: number[],
): Uint8Array<ArrayBuffer> {
  return moduleOf(memory, [{ name: exportName, params, locals, body }]);
}
