/**
 * A small seeded pseudo-random generator shared by the trainer and every runtime door, so that
 * the same seed draws the same numbers in Node and in a browser.
 *
 * xoshiro128** seeded through splitmix32: 32-bit integer arithmetic only, which JavaScript engines
 * compute identically everywhere (no floating-point transcendental functions in the integer stream).
 */

/** A stream of seeded random numbers. */
export interface Rng {
  /** A uniform float64 in [0, 1). */
  uniform(): number;
  /** A standard normal float64 (Box–Muller, the cosine branch of each pair first). */
  normal(): number;
  /** A uniform 32-bit unsigned integer. */
  uint32(): number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Creates a seeded generator.
 * @param seed - any safe integer; the same seed gives the same stream.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new TypeError(`createRng: "seed" must be a safe integer, got ${String(seed)}`);
  }
  const init = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  const s = new Uint32Array([init(), init(), init(), init()]);
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const uint32 = (): number => {
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = (s[2] as number) ^ s0;
    s[3] = (s[3] as number) ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  };
  // 53 random bits: two draws, as in most float64 generators.
  const uniform = () => ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / 9007199254740992;
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    let u = uniform();
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal, uint32 };
}

/** Fills a new Float32Array of `count` standard normal draws from `seed`. */
export function normalArray(count: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal();
  return out;
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.uint32() % (i + 1);
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}

/**
 * A seed derived from `seed` and a path of integers (an epoch, a step), so that every epoch and
 * every step has its own stream no matter where a run was resumed.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  let h = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32))();
  for (const p of path) h = splitmix32((h ^ Math.imul(p >>> 0, 0x27d4eb2d)) >>> 0)();
  return h;
}

/**
 * Runs `fn` with Math.random replaced by a generator of `seed`, and puts it back. For code that
 * draws from Math.random and takes no seed (tfjs layers such as Dropout without one), so that a
 * computation gives the same numbers whenever it runs. `fn` must be synchronous: anything else that
 * runs meanwhile would draw from the seeded generator too.
 */
export function withSeededMathRandom<T>(seed: number, fn: () => T): T {
  const saved = Math.random;
  const rng = createRng(seed);
  Math.random = () => rng.uniform();
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}
