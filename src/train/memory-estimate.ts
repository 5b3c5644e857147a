/**
 * How much memory training a model will take, estimated before anything is allocated, so that a
 * flag that asks for more than the machine holds (`--hidden 1000000`) is refused with the estimate
 * and the flag's name instead of failing after minutes with "memory access out of bounds".
 */
import type { Arch } from '../core/model-dir.js';

/** The parameters of the built-in networks for an input shape, latent size and hidden width. */
export function parameterCount(
  arch: Arch,
  inputShape: readonly number[],
  latentDim: number,
  hiddenDim: number,
): number {
  const D = inputShape.reduce((a, b) => a * b, 1);
  const L = latentDim;
  if (arch === 'mlp') {
    const H = hiddenDim;
    // Encoder D → H → 2L, decoder L → H → D, each Dense with its bias.
    return D * H + H + H * 2 * L + 2 * L + L * H + H + H * D + D;
  }
  const [h = 1, w = 1, c = 1] = inputShape;
  const out = (n: number) => Math.floor((n - 3) / 2) + 1;
  const [h2, w2] = [out(out(h)), out(out(w))];
  const encoder = 9 * c * 32 + 32 + 9 * 32 * 64 + 64 + h2 * w2 * 64 * 2 * L + 2 * L;
  const hidden = (h / 4) * (w / 4) * 32;
  const decoder = L * hidden + hidden + 9 * 32 * 64 + 64 + 9 * 64 * 32 + 32 + 9 * 32 * c + c;
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
