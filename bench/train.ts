/**
 * npm run bench:train — the trainer's target configuration and two variations, on this machine.
 *
 * 1. Fashion-MNIST, MLP 784-400-20, Bernoulli, batch 128, Adam 1e-3, 10 epochs, seed 0, all 60,000
 *    training images, data-parallel workers as `auto` picks them: examples/s, peak RSS, test
 *    neg-ELBO, and the IWAE NLL with k = 1000 on the first 1,000 test images.
 *    Beside it, one epoch of the same configuration on the main thread alone (workers 1): the
 *    baseline the speed-up is measured against, in the same process.
 * 2. The same at batch 512 (2 epochs).
 * 3. --arch conv (1 epoch on the first 6,000 images; on wasm with the trainer's own
 *    Conv2DBackpropFilter kernel, which tfjs-backend-wasm lacks).
 *
 * Run with `npm run bench:train [-- --quick]`; --quick shortens every run for a smoke test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evaluate, loadDataset, type TrainOptions, trainVae } from '../src/train/index.js';

const quick = process.argv.includes('--quick');
const data = await loadDataset('fashion-mnist');
const dirs: string[] = [];
const out = () => {
  const d = mkdtempSync(join(tmpdir(), 'vae-bench-'));
  dirs.push(d);
  return d;
};
const base: Partial<TrainOptions> = {
  dataset: data,
  arch: 'mlp',
  hiddenDim: 400,
  latentDim: 20,
  batchSize: 128,
  learningRate: 1e-3,
  seed: 0,
  valFraction: 0,
  evalIw: 0,
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function report(name: string, r: Awaited<ReturnType<typeof trainVae>>): number {
  const t = r.card.training;
  const perSec = r.history.reduce((s, h) => s + h.seconds, 0);
  const rate = (t.steps * t.batchSize) / perSec;
  console.log(
    `${name}: ${t.epochs} epochs, ${t.workers} worker(s) on ${t.backend}, ${rate.toFixed(0)} examples/s, test neg-ELBO ${r.card.metrics?.negElbo.toFixed(2)} nats`,
  );
  return rate;
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
const limit = quick ? 6_000 : undefined;
const baseline = await trainVae({
  ...base,
  out: out(),
  epochs: 1,
  workers: 1,
  ...(limit ? { trainLimit: limit } : {}),
});
const baseRate = report('baseline (main thread only, 1 epoch)', baseline);

const target = await trainVae({
  ...base,
  out: out(),
  epochs: quick ? 1 : 10,
  workers: 'auto',
  ...(limit ? { trainLimit: limit } : {}),
});
const rate = report('target (batch 128)', target);
const iwae = evaluate(target.networks.encoder, target.networks.decoder, data.test, data.shape, {
  batchSize: 500,
  seed: 1,
  iw: quick ? 10 : 1000,
  iwLimit: quick ? 100 : 1000,
});
console.log(`  speed-up over the baseline: ${(rate / baseRate).toFixed(2)}×`);
console.log(
  `  IWAE NLL (k=${iwae.iw}, first ${iwae.iwExamples} test images): ${iwae.iwaeNll?.toFixed(2)} nats; active units ${iwae.activeUnits}`,
);
console.log(`  peak RSS so far: ${mb(process.resourceUsage().maxRSS * 1024)}`);

const big = await trainVae({
  ...base,
  out: out(),
  epochs: quick ? 1 : 2,
  batchSize: 512,
  workers: 'auto',
  ...(limit ? { trainLimit: limit } : {}),
});
report('batch 512', big);

const conv = await trainVae({
  ...base,
  out: out(),
  arch: 'conv',
  epochs: 1,
  trainLimit: quick ? 512 : 6_000,
  evalLimit: 1000,
  backend: 'auto',
});
report('conv (1 epoch, first images only)', conv);
console.log(
  `peak RSS of the whole run: ${mb(process.resourceUsage().maxRSS * 1024)}; tensors alive at the end: ${tf.memory().numTensors}`,
);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
