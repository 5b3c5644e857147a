import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pngjs from 'pngjs';
import { klPerDimension } from '../src/cli/commands/traverse.js';
import { generateShapes, loadDataset, SHAPE_FACTORS } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

function vae(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the shapes dataset', () => {
  test('the same seed gives the same sprites; factors and labels describe each image', () => {
    const a = generateShapes({ train: 300, test: 50, seed: 4 });
    const b = generateShapes({ train: 300, test: 50, seed: 4 });
    const c = generateShapes({ train: 300, test: 50, seed: 5 });
    assert.deepEqual(a.shape, [64, 64, 1]);
    assert.deepEqual(a.train.images, b.train.images);
    assert.notDeepEqual(a.train.images, c.train.images);
    assert.notDeepEqual(a.train.images.subarray(0, 50 * 4096), a.test.images);
    const F = SHAPE_FACTORS.length;
    assert.equal(a.train.factors.length, 300 * F);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const [kind, scale, angle, px, py] = a.train.factors.subarray(
        i * F,
        (i + 1) * F,
      ) as unknown as number[];
      assert.equal(kind, a.train.labels?.[i]);
      seen.add(kind as number);
      assert.ok((scale as number) >= 0.5 && (scale as number) <= 1, `scale ${scale}`);
      assert.ok((angle as number) >= 0 && (angle as number) < 2 * Math.PI);
      const img = a.train.images.subarray(i * 4096, (i + 1) * 4096);
      assert.ok(
        img.every((v) => v >= 0 && v <= 1),
        'values in [0, 1]',
      );
      // The sprite's centre of mass follows posX and posY; nothing touches the border.
      let mass = 0;
      let mx = 0;
      let my = 0;
      for (let p = 0; p < 4096; p++) {
        const v = img[p] as number;
        mass += v;
        mx += v * (p % 64);
        my += v * Math.floor(p / 64);
        if (p % 64 === 0 || p % 64 === 63 || p < 64 || p >= 4032) assert.equal(v, 0, `border pixel ${p}`);
      }
      assert.ok(mass > 10, `image ${i} has a sprite (${mass} pixels)`);
      const margin = 64 * 0.16 * Math.SQRT2;
      const expect = (f: number) => margin + f * (64 - 2 * margin) - 0.5;
      assert.ok(Math.abs(mx / mass - expect(px as number)) < 2.5, `x centre of image ${i}`);
      // The heart's centre of mass sits off its box's centre; squares and ellipses are symmetric.
      if (kind !== 2) assert.ok(Math.abs(my / mass - expect(py as number)) < 2.5, `y centre of image ${i}`);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  test('loadDataset reads shapes and shapes:N, and names a bad N', async () => {
    const d = await loadDataset('shapes:150');
    assert.equal(d.train.count, 150);
    assert.equal(d.test.count, 100);
    await assert.rejects(
      loadDataset('shapes:many'),
      /shapes:N needs N, the training examples, from 1 to 1000000, got "many"/,
    );
  });
});

describe('vae train --hidden/--filters and vae traverse', () => {
  test('the architecture flags are checked, naming the flag, the expected and the value', () => {
    const out = join(tempDir(), 'm');
    let r = vae('train', '--out', out, '--hidden', '512,x');
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--hidden must be 1 to 16 comma-separated integers from 1 to 10000000 \(e\.g\. 512,256\), got "512,x"/,
    );
    r = vae('train', '--out', out, '--arch', 'mlp', '--filters', '32,64');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--filters is for --arch conv, got --arch mlp/);
    r = vae('train', '--out', out, '--arch', 'conv', '--hidden', '64,32');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--hidden with several widths is for --arch mlp/);
    // --filters without --arch asks for the conv network (the line the issue gives: no --arch).
    r = vae('train', '--out', out, '--filters', '8,8,8', '--epochs', '1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /H and W multiples of 8 \(2\^3 for 3 levels of filters\), got \[28,28,1\]/);
  });

  test('a three-level conv on shapes trains, records its filters, and vae traverse draws a row per dimension by KL', () => {
    const dir = join(tempDir(), 'shapes');
    const train = vae(
      'train',
      ...['--dataset', 'shapes:192', '--arch', 'conv', '--filters', '4,8,8', '--latent', '3'],
      ...['--epochs', '1', '--batch', '32', '--beta', '4', '--eval-iw', '0', '--out', dir],
    );
    assert.equal(train.code, 0, train.stderr);
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'));
    assert.equal(card.arch, 'conv');
    assert.deepEqual(card.filters, [4, 8, 8]);
    assert.deepEqual(card.inputShape, [64, 64, 1]);
    assert.equal(card.objective.beta, 4);
    const png = join(dir, 'sweep.png');
    const r = vae('traverse', dir, '--limit', '40', '--steps', '5', '--png', png);
    assert.equal(r.code, 0, r.stderr);
    const rows = [...r.stdout.matchAll(/row (\d): dimension (\d), KL ([\d.]+) nats/g)];
    assert.equal(rows.length, 3, r.stdout);
    const kls = rows.map((m) => Number(m[3]));
    assert.deepEqual(
      kls,
      [...kls].sort((a, b) => b - a),
    );
    assert.deepEqual(rows.map((m) => Number(m[2])).sort(), [0, 1, 2]);
    const image = pngjs.PNG.sync.read(readFileSync(png));
    // 5 columns and 3 rows of 64×64 images at scale 2, 2 pixels apart.
    assert.equal(image.width, 5 * (128 + 2) + 2);
    assert.equal(image.height, 3 * (128 + 2) + 2);
    const top = vae('traverse', dir, '--limit', '40', '--top', '2', '--order', 'index', '--png', png);
    assert.equal(top.code, 0, top.stderr);
    const topRows = [...top.stdout.matchAll(/dimension (\d)/g)].map((m) => Number(m[1]));
    const largest = rows.slice(0, 2).map((m) => Number(m[2]));
    assert.deepEqual(topRows, [...largest].sort());
    const bad = vae('traverse', dir, '--dims', '0,3', '--png', png);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--dims must be 1 to 3 comma-separated integers from 0 to 2/);
  });

  test('klPerDimension is the mean analytic KL of each dimension', () => {
    const mu = Float32Array.from([1, 0, -1, 0]);
    const logvar = Float32Array.from([0, Math.log(4), 0, 0]);
    const kl = klPerDimension(mu, logvar, 2);
    assert.ok(Math.abs((kl[0] as number) - 0.5) < 1e-9);
    assert.ok(Math.abs((kl[1] as number) - 0.25 * (4 - 1 - Math.log(4))) < 1e-6);
  });
});
