import { type ModelCard, sizeOf } from '../core/model-dir.js';
import { normalArray } from '../core/random.js';
import { lineChartSvg } from '../node/loss-plot.js';
import { imageGrid } from '../node/png.js';
import type { Dataset, EpochReport, VaeNetworks } from '../train/index.js';
import { tfjsDecode, tfjsEncode } from '../train/index.js';

/** Every stride-th example of a split, so that a picture shows the whole range of the data. */
export function spreadExamples(images: Float32Array, count: number, size: number, n: number): Float32Array {
  const k = Math.min(n, count);
  const stride = Math.max(1, Math.floor(count / k));
  const out = new Float32Array(k * size);
  for (let i = 0; i < k; i++) out.set(images.subarray(i * stride * size, (i * stride + 1) * size), i * size);
  return out;
}

/** Interleaves rows of 8 originals with rows of their reconstructions, for one grid. */
export function pairRows(
  originals: Float32Array,
  recon: Float32Array,
  size: number,
  perRow = 8,
): Float32Array {
  const n = originals.length / size;
  const out = new Float32Array(2 * n * size);
  for (let r = 0; r * perRow < n; r++) {
    const a = r * perRow * size;
    const b = Math.min(n, (r + 1) * perRow) * size;
    out.set(originals.subarray(a, b), 2 * a);
    out.set(recon.subarray(a, b), 2 * a + (b - a));
  }
  return out;
}

/**
 * samples.png and reconstructions.png (computed with the tfjs networks) and loss.svg (from the epoch
 * history), by file name, for the model directory; images only when examples are [H, W, C].
 */
export async function trainingPictures(
  networks: VaeNetworks,
  card: ModelCard,
  data: Dataset,
  history: readonly EpochReport[],
): Promise<Record<string, string | Uint8Array>> {
  const files: Record<string, string | Uint8Array> = {};
  files['loss.svg'] = lineChartSvg(`${card.dataset}: negative ELBO per epoch`, 'epoch', 'nats per example', [
    { name: 'train', color: '#1f77b4', values: history.map((h) => h.trainLoss) },
    { name: 'validation', color: '#d62728', values: history.map((h) => h.valNegElbo) },
  ]);
  if (card.inputShape.length !== 3) return files;
  const D = sizeOf(card.inputShape);
  const z = normalArray(64 * card.latentDim, card.training.seed);
  const samples = await tfjsDecode(networks.decoder, z, [64, card.latentDim], card.likelihood);
  files['samples.png'] = imageGrid(samples, [64, ...card.inputShape], { columns: 8 });
  const originals = spreadExamples(data.test.images, data.test.count, D, 32);
  const k = originals.length / D;
  const { mu } = await tfjsEncode(networks.encoder, originals, [k, ...card.inputShape]);
  const recon = await tfjsDecode(networks.decoder, mu, [k, card.latentDim], card.likelihood);
  files['reconstructions.png'] = imageGrid(pairRows(originals, recon, D), [2 * k, ...card.inputShape], {
    columns: 8,
  });
  return files;
}
