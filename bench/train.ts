/**
 * npm run bench:train [-- --pairs N] [--only REGEX] [--skip-target] — training speed against PyTorch
 * on this machine, and the target configuration's result.
 *
 * 1. Beside the PyTorch peer (../shared/peers/torch_vae_speed.py: the same VAEs, Fashion-MNIST, batch
 *    128, Adam 1e-3, 2 threads), interleaved peer, ours, peer, ours…, each a process of its own:
 *    the MLP 784-400-20 for 2 epochs on all 60,000 images, the conv VAE for 1 epoch on 6,000, the
 *    MLP 784-512-256-20 for 1 epoch on 60,000, and the 64×64×1 conv with filters 32,64,128,256 for
 *    1 epoch on 1,280 (the peer on random images, we on `shapes`; --only picks configurations by title).
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
  options: { pairs: { type: 'string' }, 'skip-target': { type: 'boolean' }, only: { type: 'string' } },
});
const pairs = Number(values.pairs ?? 2);
const PEER = join(ROOT, '..', 'shared', 'peers', 'torch_vae_speed.py');
const PYTHON = '/usr/bin/python3';

/** One configuration, run by both sides: the peer's flags and ours for the same network and data size. */
interface Config {
  title: string;
  epochs: number;
  limit: number;
  peer: string[];
  ours: string[];
}

const CONFIGS: Config[] = [
  {
    title: 'MLP 784-400-20, Fashion-MNIST',
    epochs: 2,
    limit: 60_000,
    peer: ['--arch', 'mlp'],
    ours: ['--dataset', 'fashion-mnist', '--arch', 'mlp'],
  },
  {
    title: 'conv 28×28 (filters 32,64), Fashion-MNIST',
    epochs: 1,
    limit: 6_000,
    peer: ['--arch', 'conv'],
    ours: ['--dataset', 'fashion-mnist', '--arch', 'conv'],
  },
  {
    title: 'MLP 784-512-256-20, Fashion-MNIST',
    epochs: 1,
    limit: 60_000,
    peer: ['--arch', 'mlp', '--hidden', '512,256'],
    ours: ['--dataset', 'fashion-mnist', '--arch', 'mlp', '--hidden', '512,256'],
  },
  {
    // The peer trains on uniform random 64×64 images, we on the shapes sprites: the same sizes and
    // the same arithmetic (dense kernels do not look at the values).
    title: 'conv 64×64×1 (filters 32,64,128,256)',
    epochs: 1,
    limit: 1_280,
    peer: ['--arch', 'conv', '--filters', '32,64,128,256', '--data', 'random', '--image', '64x64x1'],
    ours: ['--dataset', 'shapes:1280', '--arch', 'conv', '--filters', '32,64,128,256'],
  },
];

async function peer(c: Config): Promise<TrainRun> {
  const r = await runProcess(PYTHON, [
    PEER,
    ...c.peer,
    '--epochs',
    String(c.epochs),
    '--limit',
    String(c.limit),
  ]);
  const summary = JSON.parse(r.lines.at(-1) as string) as { examples_per_s: number; test_neg_elbo: number };
  return { examplesPerSec: summary.examples_per_s, negElbo: summary.test_neg_elbo, peakRss: r.peakRss };
}

function ours(c: Pick<Config, 'ours' | 'epochs' | 'limit'>): Promise<TrainRun> {
  return vaeTrain([
    ...c.ours,
    '--epochs',
    String(c.epochs),
    '--train-limit',
    String(c.limit),
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
const only = values.only === undefined ? undefined : new RegExp(values.only);
for (const c of CONFIGS.filter((c) => only === undefined || only.test(c.title))) {
  console.log(`${c.title}, ${c.epochs} epoch(s) on ${c.limit} images, batch 128:`);
  const ratios: number[] = [];
  for (let p = 1; p <= pairs; p++) {
    const theirs = hasPeer ? await peer(c) : undefined;
    const mine = await ours(c);
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
  const target = await ours({
    ours: ['--dataset', 'fashion-mnist', '--arch', 'mlp'],
    epochs: 10,
    limit: 60_000,
  });
  console.log(
    `target: MLP, 10 epochs, all of Fashion-MNIST: ${rate(target)}, peak RSS ${(target.peakRss / 2 ** 20).toFixed(0)} MiB (goals: ≤ 244.5 nats, < 1536 MiB)`,
  );
}
