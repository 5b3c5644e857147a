/**
 * JSON bodies written as bytes, with float32 values printed at 9 significant digits: enough for
 * every float32 to read back exactly (Math.fround(Number(text)) === value), about 40% shorter than
 * the 17 digits a float32 needs when printed as a double, and without a string per number. On the
 * decode route this writer costs a fraction of `Float32Array.prototype.join`, which was the largest
 * single cost per request in the server's profile.
 */

// 10^k for k in [-350, 350], each the double nearest to it (from its decimal text).
const POW10 = Float64Array.from({ length: 701 }, (_, i) => Number(`1e${i - 350}`));
const pow10 = (k: number): number => POW10[k + 350] as number;

// ASCII codes, as plain constants so that the hot loops need no property loads.
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const E = 101;
const OPEN = 91;
const CLOSE = 93;

/** A growing byte buffer of ASCII JSON. */
export class JsonWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Appends ASCII text as it is (keys, punctuation, integers). */
  raw(text: string): this {
    this.reserve(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
    return this;
  }

  /** Appends a batch as an array of flat rows: `[[v, v, ...], [...]]`. */
  rows(data: Float32Array | Float64Array, n: number): this {
    const size = n === 0 ? 0 : data.length / n;
    this.reserve(n * 3 + 2);
    this.buf[this.pos++] = OPEN;
    for (let i = 0; i < n; i++) {
      if (i > 0) this.buf[this.pos++] = COMMA;
      this.array(data, i * size, (i + 1) * size);
    }
    this.buf[this.pos++] = CLOSE;
    return this;
  }

  /** Appends numbers as one flat array: `[v, v, ...]`. */
  numbers(data: Float32Array | Float64Array): this {
    return this.array(data, 0, data.length);
  }

  private array(data: Float32Array | Float64Array, start: number, end: number): this {
    // Worst case per value: sign, 9 digits, point, "e-324", comma.
    this.reserve((end - start) * 18 + 2);
    const b = this.buf;
    let pos = this.pos;
    b[pos++] = OPEN;
    for (let j = start; j < end; j++) {
      if (j > start) b[pos++] = COMMA;
      pos = writeNumber(b, pos, data[j] as number);
    }
    b[pos++] = CLOSE;
    this.pos = pos;
    return this;
  }

  /** The bytes written so far. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

const NULL = Buffer.from('null', 'latin1');
const SCRATCH = new Uint8Array(9);
// "00", "01", … "99" as ASCII pairs.
const PAIRS = Uint8Array.from(
  { length: 200 },
  (_, i) => ZERO + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10),
);
// A double's bits, to read its binary exponent without Math.log10.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// floor(log10(2^(e2 - 1023))) for each biased binary exponent (the sign bit is clear: v > 0).
const E10 = Int16Array.from({ length: 2048 }, (_, biased) =>
  Math.floor((Math.max(biased, 1) - 1023) * Math.log10(2)),
);

/**
 * Writes one number at 9 significant digits into `b` at `pos` and returns the next position.
 * NaN and ±Infinity, which JSON cannot carry, are written as null.
 */
function writeNumber(b: Uint8Array, pos: number, value: number): number {
  if (value === 0) {
    if (1 / value < 0) b[pos++] = MINUS;
    b[pos] = ZERO;
    return pos + 1;
  }
  if (!Number.isFinite(value)) {
    b.set(NULL, pos);
    return pos + 4;
  }
  let v = value;
  if (v < 0) {
    b[pos++] = MINUS;
    v = -v;
  }
  // 10^e <= v < 10^(e+1), estimated from the binary exponent; the checks below mend an off-by-one.
  F64[0] = v;
  const high = U32[LITTLE ? 1 : 0] as number;
  let e = E10[high >>> 20] as number;
  let m = Math.round(v * pow10(8 - e));
  if (m >= 1e9) {
    e++;
    m = Math.round(v * pow10(8 - e));
  } else if (m < 1e8) {
    e--;
    m = Math.round(v * pow10(8 - e));
  }
  if (m >= 1e9) {
    // Rounding carried into a tenth digit (9.999999999 → 10.00000000).
    m = 1e8;
    e++;
  }
  // m < 2^30: integer arithmetic from here on. The nine digits go to SCRATCH, two at a time.
  let digits = m | 0;
  for (let k = 7; k >= 1; k -= 2) {
    const next = (digits / 100) | 0;
    const pair = (digits - next * 100) * 2;
    SCRATCH[k] = PAIRS[pair] as number;
    SCRATCH[k + 1] = PAIRS[pair + 1] as number;
    digits = next;
  }
  SCRATCH[0] = ZERO + digits;
  let count = 9;
  while (count > 1 && SCRATCH[count - 1] === ZERO) count--;
  // Where the digits go: plain 123.456 / 1200, plain 0.000123, or 1.23e-7.
  const plainInt = e >= 0 && e < 15;
  const plainFrac = e < 0 && e >= -6;
  if (plainFrac) {
    b[pos++] = ZERO;
    b[pos++] = DOT;
    for (let k = -1; k > e; k--) b[pos++] = ZERO;
    for (let k = 0; k < count; k++) b[pos++] = SCRATCH[k] as number;
    return pos;
  }
  // A point after the first digit (exponent form) or after e + 1 of them (plain).
  const pointAfter = plainInt ? e + 1 : 1;
  const whole = Math.min(count, pointAfter);
  for (let k = 0; k < whole; k++) b[pos++] = SCRATCH[k] as number;
  for (let k = whole; k < pointAfter; k++) b[pos++] = ZERO;
  if (count > pointAfter) {
    b[pos++] = DOT;
    for (let k = pointAfter; k < count; k++) b[pos++] = SCRATCH[k] as number;
  }
  if (!plainInt) {
    b[pos++] = E;
    let x = e;
    if (x < 0) {
      b[pos++] = MINUS;
      x = -x;
    }
    if (x >= 100) b[pos++] = ZERO + ((x / 100) | 0);
    if (x >= 10) b[pos++] = ZERO + (((x / 10) | 0) % 10);
    b[pos++] = ZERO + (x % 10);
  }
  return pos;
}
