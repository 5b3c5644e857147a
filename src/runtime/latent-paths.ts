/** Paths through latent space: interpolation and traversal, in float64, returned as float32 batches. */
import type { Batch } from './tensor-input.js';

/** How to move between two codes: along a straight line, or along the great circle (slerp). */
export type InterpolationMethod = 'linear' | 'spherical';

/**
 * `steps` codes from `a` to `b` inclusive. Spherical interpolation follows the arc between the two
 * directions and blends the norms linearly, which keeps intermediate codes at a typical radius for a
 * Gaussian prior; it falls back to linear when the codes are (anti)parallel.
 */
export function interpolateCodes(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  steps: number,
  method: InterpolationMethod,
): Batch {
  const L = a.length;
  const out = new Float32Array(steps * L);
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  const na = norm(a);
  const nb = norm(b);
  let dot = 0;
  for (let i = 0; i < L; i++) dot += (a[i] as number) * (b[i] as number);
  const cos = na > 0 && nb > 0 ? Math.min(1, Math.max(-1, dot / (na * nb))) : 1;
  const omega = Math.acos(cos);
  const spherical = method === 'spherical' && Math.sin(omega) > 1e-6;
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    for (let i = 0; i < L; i++) {
      const ai = a[i] as number;
      const bi = b[i] as number;
      if (spherical) {
        // Directions along the arc, length blended linearly.
        const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
        const wb = Math.sin(t * omega) / Math.sin(omega);
        const radius = (1 - t) * na + t * nb;
        out[s * L + i] = radius * (wa * (ai / na) + wb * (bi / nb));
      } else {
        out[s * L + i] = (1 - t) * ai + t * bi;
      }
    }
  }
  return { data: out, shape: [steps, L] };
}

/** Copies of `z` with dimension `dim` set to each of `values` in turn (a latent traversal). */
export function traverseCodes(z: ArrayLike<number>, dim: number, values: readonly number[]): Batch {
  const L = z.length;
  const out = new Float32Array(values.length * L);
  values.forEach((v, s) => {
    for (let i = 0; i < L; i++) out[s * L + i] = i === dim ? v : (z[i] as number);
  });
  return { data: out, shape: [values.length, L] };
}
