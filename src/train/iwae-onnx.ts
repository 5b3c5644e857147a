/**
 * The IWAE bound of `evaluate`, computed through a loaded `VaeModel` (onnxruntime) instead of tfjs:
 * the same seeded noise (the same k draws for every example), so the two give the same figure
 * (within float32 rounding), while onnxruntime-node decodes ~10× faster than tfjs here.
 */
import type { VaeModel } from '../runtime/vae-model.js';
import type { Split } from './dataset.js';

/** Rows one decoder run sees per chunk, as in `iwaeNll` (tfjs): chunks of ⌊4096 / k⌋ examples. */
const ROWS_PER_CHUNK = 4096;

/** Options of `iwaeNllWithModel`. */
export interface IwaeModelOptions {
  /** Seeds the noise: the k draws every example uses, as `iwaeNll` does. */
  seed: number;
  /** Use the first `limit` examples only. */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * −log p(x) averaged over the examples of `split`, estimated with `k` importance samples per example
 * by `model.score` (logits when the decoder has them, the card's likelihood and standardisation).
 * @returns the mean over the examples, in nats.
 */
export async function iwaeNllWithModel(
  model: VaeModel,
  split: Split,
  k: number,
  options: IwaeModelOptions,
): Promise<number> {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const count = Math.min(split.count, options.limit ?? split.count);
  const perChunk = Math.max(1, Math.floor(ROWS_PER_CHUNK / k));
  let total = 0;
  for (let start = 0; start < count; start += perChunk) {
    const n = Math.min(perChunk, count - start);
    // A copy: the split may live in shared memory, which onnxruntime refuses.
    const x = { data: split.images.slice(start * size, (start + n) * size), shape: [n, ...model.inputShape] };
    const scores = await model.score(x, { score: 'nll', samples: k, seed: options.seed });
    for (const s of scores.values) total += s;
    options.onProgress?.(start + n, count);
  }
  return total / count;
}
