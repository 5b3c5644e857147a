/**
 * How much memory training a model will take, estimated before anything is allocated, so that a
 * flag that asks for more than the machine holds (`--hidden 1000000`) is refused with the estimate
 * and the flag's name instead of failing after minutes with "memory access out of bounds".
 */
import { type Architecture, convPadding } from './architecture.js';

/** The parameters of an architecture's networks for an input shape and latent size. */
export function parameterCount(a: Architecture, inputShape: readonly number[], latentDim: number): number {
  const D = inputShape.reduce((x, y) => x * y, 1);
  const L = latentDim;
  if (a.kind === 'custom') return a.networks.encoder.countParams() + a.networks.decoder.countParams();
  if (a.kind === 'mlp') {
    // Encoder D → h1 → … → hk → 2L, decoder L → hk → … → h1 → D, each Dense with its bias.
    const dense = (i: number, o: number) => i * o + o;
    const widths = [D, ...a.hidden];
    const last = a.hidden.at(-1) as number;
    let total = dense(last, 2 * L) + dense(L, last);
    for (let j = 1; j < widths.length; j++) {
      const [wide, narrow] = [widths[j - 1] as number, widths[j] as number];
      total += dense(wide, narrow) + dense(narrow, wide);
    }
    return total;
  }
  const [h = 1, w = 1, c = 1] = inputShape;
  const f = a.filters;
  const valid = convPadding(f) === 'valid';
  const down = (n: number) => (valid ? Math.floor((n - 3) / 2) + 1 : Math.ceil(n / 2));
  let [hh, ww, prev] = [h, w, c];
  let encoder = 0;
  for (const k of f) {
    encoder += 9 * prev * k + k;
    [hh, ww, prev] = [down(hh), down(ww), k];
  }
  encoder += hh * ww * prev * 2 * L + 2 * L;
  const scale = 2 ** f.length;
  const hidden = (h / scale) * (w / scale) * (f[0] as number);
  let decoder = L * hidden + hidden;
  prev = f[0] as number;
  for (const k of [...f].reverse()) {
    decoder += 9 * prev * k + k;
    prev = k;
  }
  decoder += 9 * prev * c + c;
  return encoder + decoder;
}

/**
 * Bytes that training takes, measured on this project's trainer (2026-12-06, wasm backend, peak
 * resident memory of `vae train` at --hidden 2000 and 8000): 480 MB of runtime (tfjs, onnxruntime,
 * the data), about 48 bytes a parameter on the main thread (weights, gradients, Adam's moments, the
 * checkpoint, evaluation) and 33 more for each worker thread when there are several (its wasm heap:
 * weights, gradients, the matMuls' operands).
 */
export function trainingBytes(params: number, workers: number): number {
  return 480e6 + params * (48 + (workers > 1 ? 33 * workers : 0));
}

/** What a memory check found: the parameters, the estimate, and the limit it was held to. */
export interface MemoryEstimate {
  params: number;
  bytes: number;
  limit: number;
}

/** Gigabytes, for messages. */
export const gigabytes = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;
