import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodePng } from '../src/node/png.js';
import { VaeModel } from '../src/runtime/node.js';
import { loadDataset } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const MODEL = 'models/mnist-mini';

function vae(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Width and height of a PNG file. */
function pngSize(path: string): [number, number] {
  const bytes = readFileSync(path);
  assert.equal(bytes.toString('latin1', 1, 4), 'PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

function readCsv(path: string): { header: string[]; rows: number[][] } {
  const [head = '', ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  return { header: head.split(','), rows: lines.map((l) => l.split(',').map(Number)) };
}

describe('vae encode, decode, reconstruct, score, interpolate (onnxruntime-node)', () => {
  let model: VaeModel;
  let out: string;
  let test20: Float32Array;
  before(async () => {
    model = await VaeModel.load(MODEL);
    out = tempDir();
    test20 = (await loadDataset('mnist-mini')).test.images.slice(0, 20 * 784);
  });
  after(async () => {
    await model.dispose();
  });

  test('encode writes index, label, mu and logvar per example: the numbers VaeModel.encode gives', async () => {
    const csv = join(out, 'codes.csv');
    const run = vae('encode', MODEL, '--limit', '20', '--out', csv);
    assert.equal(run.code, 0, run.stderr);
    const { header, rows } = readCsv(csv);
    assert.deepEqual(header.slice(0, 4), ['index', 'label', 'mu_0', 'mu_1']);
    assert.equal(header.length, 2 + 40);
    assert.equal(rows.length, 20);
    // --limit draws 20 at random; each row's index says which example of the split it is.
    const all = (await loadDataset('mnist-mini')).test.images;
    const picked = new Float32Array(20 * 784);
    rows.forEach((r, i) => {
      const index = r[0] as number;
      picked.set(all.subarray(index * 784, (index + 1) * 784), i * 784);
    });
    const { mu, logvar } = await model.encode({ data: picked, shape: [20, 28, 28, 1] });
    const fromCsv = rows.flatMap((r) => r.slice(2, 22));
    assert.ok(fromCsv.every((v, i) => Math.abs(v - (mu.data[i] as number)) < 1e-6));
    assert.ok(
      rows.flatMap((r) => r.slice(22)).every((v, i) => Math.abs(v - (logvar.data[i] as number)) < 1e-6),
    );

    // decode reads the mu columns back.
    const png = join(out, 'decoded.png');
    const dec = vae('decode', MODEL, '--codes', csv, '--png', png);
    assert.equal(dec.code, 0, dec.stderr);
    // 20 images: 5 columns × 4 rows of 56 px with 2 px padding.
    assert.deepEqual(pngSize(png), [2 + 5 * 58, 2 + 4 * 58]);
  });

  test('decode refuses a codes file of the wrong width, naming file, count and model size', () => {
    const bad = join(out, 'bad.csv');
    writeFileSync(bad, '0.1,0.2,0.3\n0.4,0.5,0.6\n');
    const run = vae('decode', MODEL, '--codes', bad, '--png', join(out, 'never.png'));
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /cannot read codes from .*bad\.csv: the model's codes have 20 values, the file has 3 columns/,
    );
    assert.equal(existsSync(join(out, 'never.png')), false);
    const nan = join(out, 'nan.csv');
    writeFileSync(nan, `${new Array(20).fill('0').join(',')}\n${new Array(19).fill('0').join(',')},x\n`);
    const run2 = vae('decode', MODEL, '--codes', nan);
    assert.equal(run2.code, 1);
    assert.match(
      run2.stderr,
      /cannot read CSV file .*nan\.csv: line 2, column 20: "x" is not a finite number/,
    );
  });

  test('score: per-example scores equal to VaeModel.score on a random subset, a summary, the top examples drawn', async () => {
    const csv = join(out, 'scores.csv');
    const png = join(out, 'anomalies.png');
    const run = vae(
      'score',
      MODEL,
      '--limit',
      '20',
      '--seed',
      '3',
      '--score',
      'nll',
      '--samples',
      '8',
      '--top',
      '4',
      '--out',
      csv,
      '--png',
      png,
      '--json',
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as {
      examples: number;
      score: string;
      mean: number;
      top: { index: number; score: number }[];
    };
    assert.equal(summary.examples, 20);
    assert.equal(summary.score, 'nll');
    const { header, rows } = readCsv(csv);
    assert.deepEqual(header.slice(0, 3), ['index', 'label', 'nll']);
    // --limit draws at random (mnist-mini is ordered by class: its first 20 are all 0s), in the split's order.
    const indices = rows.map((r) => r[0] as number);
    assert.deepEqual(
      indices,
      [...indices].sort((a, b) => a - b),
    );
    assert.ok(new Set(rows.map((r) => r[1])).size > 3, 'several classes');
    const all = (await loadDataset('mnist-mini')).test.images;
    const picked = new Float32Array(20 * 784);
    indices.forEach((index, i) => {
      picked.set(all.subarray(index * 784, (index + 1) * 784), i * 784);
    });
    const expected = (
      await model.score({ data: picked, shape: [20, 28, 28, 1] }, { score: 'nll', samples: 8 })
    ).values;
    const worst = Math.max(...rows.map((r, i) => Math.abs((r[2] as number) - (expected[i] as number))));
    assert.ok(worst < 1e-9, `scores.csv differs from VaeModel.score by ${worst}`);
    assert.equal(summary.top[0]?.score, Math.max(...expected));
    assert.equal(summary.top.length, 4);
    assert.deepEqual(pngSize(png), [2 + 2 * 58, 2 + 2 * 58]);
    // The same subset again with the same seed; another seed draws another.
    const again = vae(
      'score',
      MODEL,
      '--limit',
      '20',
      '--seed',
      '3',
      '--score',
      'nll',
      '--samples',
      '8',
      '--out',
      csv,
      '--png',
      png,
      '--json',
    );
    assert.equal(JSON.parse(again.stdout).mean, summary.mean);
  });

  test('score: the default is the calibrated dose score, with percentiles and verdicts at the false-alarm rate', () => {
    const csv = join(out, 'dose.csv');
    const run = vae('score', MODEL, '--limit', '200', '--out', csv, '--png', join(out, 'dose.png'), '--json');
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as {
      score: string;
      threshold: number;
      falseAlarmRate: number;
      flagged: number;
    };
    assert.equal(summary.score, 'dose');
    assert.equal(summary.falseAlarmRate, 0.01);
    assert.ok(
      summary.flagged <= 10,
      `${summary.flagged} of 200 test digits flagged at a 1 % false-alarm rate`,
    );
    const { header, rows } = readCsv(csv);
    assert.deepEqual(header.slice(2, 5), ['dose', 'percentile', 'anomalous']);
    assert.ok(header.includes('bits_per_dim') && header.includes('misfit') && header.includes('rate'));
    for (const r of rows) {
      const [dose, percentile, anomalous] = [r[2], r[3], r[4]] as [number, number, number];
      assert.ok(percentile >= 0 && percentile <= 100);
      assert.equal(anomalous, dose > summary.threshold ? 1 : 0);
    }
    const stricter = vae(
      'score',
      MODEL,
      '--limit',
      '200',
      '--false-alarm-rate',
      '0.2',
      '--out',
      csv,
      '--png',
      join(out, 'dose.png'),
      '--json',
    );
    assert.ok(JSON.parse(stricter.stdout).flagged > summary.flagged);
    const bad = vae('score', MODEL, '--limit', '20', '--score', 'dose', '--samples', '3');
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /the dose score uses the 16 draws per example its reference was measured with; got "samples" 3/,
    );
  });

  test('score on a png: folder names each image in scores.csv and in the summary', () => {
    const dir = tempDir();
    for (let i = 0; i < 4; i++) {
      const pixels = Uint8Array.from(test20.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
      writeFileSync(join(dir, `digit, ${i}.png`), encodePng(28, 28, 1, pixels));
    }
    const csv = join(out, 'png-scores.csv');
    const run = vae(
      'score',
      MODEL,
      '--dataset',
      `png:${dir}`,
      '--split',
      'all',
      '--out',
      csv,
      '--png',
      join(out, 'png-top.png'),
      '--json',
    );
    assert.equal(run.code, 0, run.stderr);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    assert.match(lines[0] as string, /^index,file,dose,percentile,anomalous,/);
    assert.match(lines[1] as string, /^0,"digit, 0\.png",\d/);
    const summary = JSON.parse(run.stdout) as { top: { file: string }[] };
    assert.match(summary.top[0]?.file as string, /^digit, \d\.png$/);
  });

  test('reconstruct and interpolate draw their grids', () => {
    const rec = join(out, 'rec.png');
    assert.equal(vae('reconstruct', MODEL, '--n', '8', '--png', rec).code, 0);
    // One row of 8 examples and one of their reconstructions.
    assert.deepEqual(pngSize(rec), [2 + 8 * 58, 2 + 2 * 58]);
    const path = join(out, 'path.png');
    const run = vae('interpolate', MODEL, '--seeds', '1,2', '--steps', '6', '--png', path);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(pngSize(path), [2 + 6 * 58, 2 + 58]);
    const both = vae('interpolate', MODEL, '--seeds', '1,2', '--examples', '0,1');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give either --seeds A,B or --examples I,J/);
  });
});
