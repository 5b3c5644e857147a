/**
 * npm run bench:train [-- --pairs N] [--skip-target] — training speed against PyTorch on this machine,
 * and the target configuration's result.
 *
 * 1. Beside the PyTorch peer (../shared/peers/torch_vae_speed.py: the same VAEs, Fashion-MNIST, batch
 *    128, Adam 1e-3, 2 threads), interleaved peer, ours, peer, ours…, each a process of its own:
 *    the MLP 784-400-20 for 2 epochs on all 60,000 images, and the conv VAE for 1 epoch on 6,000.
 *    Both count training time only (epochs, without loading and evaluation). Each pair's ratio
 *    (ours / peer) and their median. Without python3-torch the peer is skipped, saying so.
 * 2. The target configuration: 10 epochs of the MLP on all of Fashion-MNIST (validation split off),
 *    its test neg-ELBO (≤ 244.5 nats) and the process's peak resident memory (< 1.5 GB).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineLine, median, ROOT, runProcess, type TrainRun, vaeTrain } from './common.js';

const { values } = parseArgs({
  options: { pairs: { type: 'string' }, 'skip-target': { type: 'boolean' } },
});
const pairs = Number(values.pairs ?? 2);
const PEER = join(ROOT, '..', 'shared', 'peers', 'torch_vae_speed.py');
const PYTHON = '/usr/bin/python3';

async function peer(arch: 'mlp' | 'conv', epochs: number, limit: number): Promise<TrainRun> {
  const r = await runProcess(PYTHON, [
    PEER,
    '--arch',
    arch,
    '--epochs',
    String(epochs),
    '--limit',
    String(limit),
  ]);
  const summary = JSON.parse(r.lines.at(-1) as string) as { examples_per_s: number; test_neg_elbo: number };
  return { examplesPerSec: summary.examples_per_s, negElbo: summary.test_neg_elbo, peakRss: r.peakRss };
}

function ours(arch: 'mlp' | 'conv', epochs: number, limit: number): Promise<TrainRun> {
  return vaeTrain([
    '--dataset',
    'fashion-mnist',
    '--arch',
    arch,
    '--epochs',
    String(epochs),
    '--train-limit',
    String(limit),
    '--val-fraction',
    '0',
    '--eval-iw',
    '0',
    '--no-export',
  ]);
}

const rate = (r: TrainRun) =>
  `${r.examplesPerSec.toFixed(0)} examples/s (test neg-ELBO ${r.negElbo.toFixed(2)})`;

console.log(machineLine());
const hasPeer =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasPeer) {
  console.log(
    'PyTorch peer: skipped (no python3-torch; apt-get install python3-torch libopenblas0-pthread); our figures alone:',
  );
}
for (const [arch, epochs, limit] of [
  ['mlp', 2, 60_000],
  ['conv', 1, 6_000],
] as const) {
  console.log(`${arch}, ${epochs} epoch(s) on ${limit} Fashion-MNIST images, batch 128:`);
  const ratios: number[] = [];
  for (let p = 1; p <= pairs; p++) {
    const theirs = hasPeer ? await peer(arch, epochs, limit) : undefined;
    const mine = await ours(arch, epochs, limit);
    if (theirs) {
      const ratio = mine.examplesPerSec / theirs.examplesPerSec;
      ratios.push(ratio);
      console.log(
        `  pair ${p}: PyTorch ${rate(theirs)}; vae train ${rate(mine)}; ratio ${ratio.toFixed(2)}×`,
      );
    } else {
      console.log(`  run ${p}: vae train ${rate(mine)}`);
    }
  }
  if (ratios.length > 0) console.log(`  median ratio (vae train / PyTorch): ${median(ratios).toFixed(2)}×`);
}

if (!values['skip-target']) {
  const target = await ours('mlp', 10, 60_000);
  console.log(
    `target: MLP, 10 epochs, all of Fashion-MNIST: ${rate(target)}, peak RSS ${(target.peakRss / 2 ** 20).toFixed(0)} MiB (goals: ≤ 244.5 nats, < 1536 MiB)`,
  );
}
