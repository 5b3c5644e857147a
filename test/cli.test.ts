import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import pngjs from 'pngjs';
import { loadCommands } from '../src/cli/cli.js';
import { exportVae } from '../src/export/index.js';
import { tempDir, trainTiny } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

function vae(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Reads a PNG's size and its inflated scanlines; checks signature and every chunk's CRC on the way. */
function readPng(bytes: Buffer): { width: number; height: number; gray: Buffer } {
  const png = pngjs.PNG.sync.read(bytes);
  // pngjs hands back RGBA; the grids are gray, so every pixel's red channel is its value.
  const gray = Buffer.alloc(png.width * png.height);
  for (let i = 0; i < gray.length; i++) gray[i] = png.data[4 * i] as number;
  return { width: png.width, height: png.height, gray };
}

describe('vae CLI', () => {
  test('--help works on every command and lists its flags', async () => {
    for (const { command: cmd, summary } of await loadCommands()) {
      const r = vae(cmd.name, '--help');
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`vae ${cmd.name} — ${summary}`), r.stdout);
      assert.match(r.stdout, new RegExp(`usage: vae ${cmd.name}`));
      for (const flag of Object.keys(cmd.flags))
        assert.ok(r.stdout.includes(`--${flag}`), `${cmd.name} --help lacks --${flag}`);
    }
    assert.match(vae('--help').stdout, /train.*\n.*export/s);
  });

  test('an unknown flag is one clear line, exit code 2, no stack', () => {
    const r = vae('train', '--out', '/tmp/x', '--epoch', '3');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /vae train: Unknown option '--epoch'/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  });

  test('a bad flag value names the flag, the expectation and the value', () => {
    const r = vae('train', '--out', '/tmp/x', '--epochs', 'ten');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--epochs must be an integer >= 1, got "ten"/);
    assert.match(vae('demo').stderr, /vae demo: --out is required/);
    assert.match(
      vae('launch').stderr,
      /unknown command "launch"; expected one of train, eval, export, convert, sample, encode, decode, reconstruct, score, ood, calibrate, interpolate, traverse, parity, serve, web, demo/,
    );
  });

  test('an unknown dataset lists the known ones and writes nothing', () => {
    const out = join(tempDir(), 'model');
    const r = vae('train', '--out', out, '--dataset', 'cifar10');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: cannot load dataset "cifar10": unknown name; expected one of mnist-mini/);
    assert.equal(existsSync(join(out, 'card.json')), false);
  });

  test('train --json prints one object per epoch; eval --json prints the documented figures', () => {
    const dir = join(tempDir(), 'm');
    const common = ['--hidden', '16', '--latent', '3', '--batch', '64', '--seed', '5'];
    const train = vae(
      'train',
      '--out',
      dir,
      '--epochs',
      '2',
      '--eval-iw',
      '5',
      '--json',
      '--workers',
      '1',
      ...common,
    );
    assert.equal(train.code, 0, train.stderr);
    const lines = train.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.epoch),
      [1, 2],
    );
    for (const l of lines) {
      for (const key of ['trainLoss', 'valNegElbo', 'examplesPerSec', 'seconds'])
        assert.equal(typeof l[key], 'number', key);
    }
    for (const file of [
      'card.json',
      'encoder.onnx',
      'decoder.onnx',
      'samples.png',
      'reconstructions.png',
      'loss.svg',
      'training-log.jsonl',
    ]) {
      assert.ok(existsSync(join(dir, file)), file);
    }
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'));
    assert.equal(card.metrics.iw, 5);
    assert.equal(typeof card.metrics.iwaeNll, 'number');
    assert.match(card.command, /^vae train --out .* --epochs 2/);
    const evaluation = vae('eval', dir, '--iw', '4', '--limit', '50', '--json');
    assert.equal(evaluation.code, 0, evaluation.stderr);
    const figures = JSON.parse(evaluation.stdout);
    for (const key of ['negElbo', 'recon', 'kl', 'iwaeNll', 'activeUnits'])
      assert.equal(typeof figures[key], 'number', key);
    assert.equal(figures.examples, 50);
    // The importance-weighted bound is tighter than the single-sample ELBO on average.
    assert.ok(figures.iwaeNll < figures.negElbo + 5, `${figures.iwaeNll} vs ${figures.negElbo}`);
  });

  describe('with a trained model', () => {
    let dir: string;
    before(async () => {
      dir = await trainTiny();
      await exportVae(dir);
    });

    test('sample writes a PNG grid of the requested size', () => {
      const png = join(tempDir(), 'grid.png');
      const r = vae('sample', dir, '--n', '6', '--seed', '3', '--png', png);
      assert.equal(r.code, 0, r.stderr);
      const { width, height, gray } = readPng(readFileSync(png));
      // 3 columns × (28·2 + 2) + 2 = 176 wide; 2 rows → 118 high.
      assert.equal(width, 176);
      assert.equal(height, 118);
      assert.equal(gray[0], 32, 'the padding is the grid background');
      assert.ok(
        gray.some((v) => v > 32),
        'the grid holds drawn pixels',
      );
    });

    test('export rewrites the ONNX files; a failed export of a broken dir keeps them', () => {
      const exported = vae('export', dir, '--opset', '15', '--precision', 'fp16', '--report');
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, /enc_hidden\s+Dense\s+→ Gemm, Relu/);
      // The report names the runtimes that ran (onnxruntime-node here; regression: it was hard-coded).
      assert.match(
        exported.stdout,
        /parity on 16 random inputs, onnxruntime-node-cpu against tfjs-(wasm|cpu|tensorflow): .*x_hat max \|Δ\| \d/,
      );
      // Regression: tfjs's cpu backend printed a banner recommending tfjs-node; library paths stay quiet.
      assert.doesNotMatch(exported.stderr + exported.stdout, /Hi, looks like you are running TensorFlow\.js/);
      const before = readFileSync(join(dir, 'encoder.onnx'));
      const r = vae('export', join(dir, 'nope'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot load .*nope\/card\.json: it does not exist/);
      assert.deepEqual(readFileSync(join(dir, 'encoder.onnx')), before);
      assert.match(
        vae('export', dir, '--opset', '9').stderr,
        /--opset must be an integer from 13 to 21, got "9"/,
      );
    });

    test('sample on a directory without decoder.onnx names the file', () => {
      const r = vae('sample', tempDir());
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot load .*\/decoder\.onnx: it does not exist/);
    });
  });
});
