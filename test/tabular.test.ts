/**
 * Tabular data end to end: a CSV file of features on very different scales, with a few anomalous rows,
 * trained with the Gaussian likelihood under per-feature standardisation (kept in card.json), scored
 * by the CLI, the library and the server alike; and the CSV shapes that once failed to train.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseCardText } from '../src/core/model-dir.js';
import { createRng } from '../src/core/random.js';
import { VaeModel } from '../src/runtime/node.js';
import { createServer } from '../src/server/app.js';
import { tempDir } from './helpers/fixtures.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';
import { postJson } from './helpers/server.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const FEATURES = 16;
const ROWS = 1500;
const ANOMALIES = 20;

function vae(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Rows driven by 3 hidden factors through a fixed linear map, each feature on its own scale (0.01 to
 * 1000) and offset; the anomalous rows draw each feature on its own, breaking the factors' pattern
 * while keeping every marginal about the same. Returns the CSV text and the anomalous row indices.
 */
function tabularCsv(seed: number): { text: string; anomalies: Set<number> } {
  const rng = createRng(seed);
  const W = Array.from({ length: FEATURES }, () => Array.from({ length: 3 }, () => rng.normal()));
  const scale = Array.from({ length: FEATURES }, (_, j) => 10 ** (-2 + (5 * j) / (FEATURES - 1)));
  const offset = scale.map((s, j) => s * (j - 8));
  const anomalies = new Set<number>();
  while (anomalies.size < ANOMALIES) anomalies.add(Math.floor(rng.uniform() * ROWS));
  const lines = [Array.from({ length: FEATURES }, (_, j) => `f${j}`).join(',')];
  for (let i = 0; i < ROWS; i++) {
    const f = [rng.normal(), rng.normal(), rng.normal()];
    const row = W.map((w, j) => {
      const norm = Math.sqrt(w.reduce((s, v) => s + v * v, 0));
      const signal = anomalies.has(i)
        ? rng.normal() * norm
        : w.reduce((s, v, k) => s + v * (f[k] as number), 0);
      return ((signal + 0.05 * rng.normal()) * (scale[j] as number) + (offset[j] as number)).toPrecision(7);
    });
    lines.push(row.join(','));
  }
  return { text: `${lines.join('\n')}\n`, anomalies };
}

describe('tabular data (csv:) end to end', () => {
  let dir: string;
  let csv: string;
  let anomalies: Set<number>;

  before(() => {
    const work = tempDir('vae-tabular-');
    csv = join(work, 'sensors.csv');
    const made = tabularCsv(7);
    writeFileSync(csv, made.text);
    anomalies = made.anomalies;
    dir = join(work, 'model');
    const r = vae(
      'train',
      '--dataset',
      `csv:${csv}`,
      '--likelihood',
      'gaussian',
      '--variance',
      'learned',
      '--hidden',
      '32',
      '--latent',
      '3',
      '--epochs',
      '30',
      '--batch',
      '50',
      '--eval-iw',
      '16',
      '--workers',
      '1',
      '--out',
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
  });

  test('card.json keeps the standardisation; the ONNX files pass the reference checker', () => {
    const card = parseCardText(readFileSync(join(dir, 'card.json'), 'utf8'), 'card.json');
    assert.deepEqual(card.inputShape, [FEATURES]);
    assert.equal(card.likelihood, 'gaussian');
    assert.equal(card.normalization?.mean.length, FEATURES);
    assert.ok(
      (card.normalization?.std[15] as number) / (card.normalization?.std[0] as number) > 1e4,
      'scales differ',
    );
    assert.ok(card.origin !== 'foreign' && Number.isFinite(card.metrics?.negElbo));
    assert.ok(card.origin !== 'foreign' && Number.isFinite(card.metrics?.iwaeNll));
    checkWithReferenceChecker(join(dir, 'encoder.onnx'), join(dir, 'decoder.onnx'));
  });

  test('vae score ranks the anomalous rows highest, with the scores VaeModel.score gives', async () => {
    const r = vae(
      'score',
      dir,
      '--dataset',
      `csv:${csv}`,
      '--split',
      'all',
      '--samples',
      '16',
      '--top',
      String(ANOMALIES),
      '--json',
      '--out',
      join(dir, 'scores.csv'),
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { examples: number; top: { index: number; score: number }[] };
    assert.equal(summary.examples, ROWS);
    const found = summary.top.filter((t) => anomalies.has(t.index)).length;
    assert.ok(found >= ANOMALIES * 0.8, `${found} of the ${ANOMALIES} highest scores are anomalies`);
    // The library on the same rows, in the units of the file.
    const rows = readFileSync(csv, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    const model = await VaeModel.load(dir);
    try {
      // The default score (dose: vae train calibrated the model), the CSV's second column.
      const first = (await model.score(rows.slice(0, 100))).values;
      const lines = readFileSync(join(dir, 'scores.csv'), 'utf8').trim().split('\n');
      assert.match(lines[0] as string, /^index,dose,percentile,anomalous,nll,rate,distortion,misfit$/);
      const written = lines.slice(1, 101).map((l) => Number(l.split(',')[1]));
      for (const [i, s] of first.entries()) {
        assert.ok(Math.abs(s - (written[i] as number)) < 1e-9, `row ${i}: ${s} vs ${written[i]}`);
      }
    } finally {
      await model.dispose();
    }
  });

  test("the runtime works in the file's units: reconstructions come back on each feature's scale; the server scores alike", async () => {
    const rows = readFileSync(csv, 'utf8')
      .trim()
      .split('\n')
      .slice(1, 9)
      .map((l) => l.split(',').map(Number));
    const model = await VaeModel.load(dir);
    try {
      const back = await model.reconstruct(rows);
      for (const j of [0, 15]) {
        const spread =
          Math.abs((rows[0]?.[j] as number) - (rows[1]?.[j] as number)) + Math.abs(rows[0]?.[j] as number);
        assert.ok(Math.abs((back.data[j] as number) - (rows[0]?.[j] as number)) < spread, `feature ${j}`);
      }
      const server = createServer(new Map([['sensors', model]]));
      const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
      try {
        await server.warmUp();
        const r = await postJson(`${url}/v1/models/sensors/score`, {
          x: rows,
          score: 'nll',
          samples: 8,
          seed: 3,
        });
        assert.equal(r.status, 200);
        const direct = (await model.score(rows, { score: 'nll', samples: 8, seed: 3 })).values;
        for (const [i, s] of (r.json.scores as number[]).entries()) {
          assert.ok(Math.abs(s - (direct[i] as number)) < 1e-9, `row ${i}`);
        }
      } finally {
        await server.close();
      }
    } finally {
      await model.dispose();
    }
  });

  test('CSV shapes that failed to train now train: 784 values in [0, 1], as 28x28x1, and 16 columns', () => {
    const rng = createRng(3);
    const work = tempDir('vae-csv-shapes-');
    for (const [columns, extra] of [
      [784, []],
      [784, ['--image-size', '28x28x1']],
      [16, []],
    ] as const) {
      const file = join(work, `d${columns}.csv`);
      const lines = Array.from({ length: 300 }, () =>
        Array.from({ length: columns }, () => rng.uniform().toFixed(3)).join(','),
      );
      writeFileSync(file, `${lines.join('\n')}\n`);
      const out = join(work, `m${columns}${extra.length}`);
      const r = vae(
        'train',
        '--dataset',
        `csv:${file}`,
        ...extra,
        '--epochs',
        '1',
        '--hidden',
        '8',
        '--latent',
        '2',
        '--batch',
        '30',
        '--eval-iw',
        '0',
        '--workers',
        '1',
        '--out',
        out,
      );
      assert.equal(r.code, 0, r.stderr);
      const card = parseCardText(readFileSync(join(out, 'card.json'), 'utf8'), 'card.json');
      assert.deepEqual(card.inputShape, extra.length ? [28, 28, 1] : [columns]);
      assert.equal(card.normalization, undefined, 'Bernoulli data in [0, 1] is not standardized');
    }
  });
});
