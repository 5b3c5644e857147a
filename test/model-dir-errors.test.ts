/**
 * Model directories that cannot be used fail naming the file and what to do, in the runtime and in
 * the commands; a foreign model (no card.json, no "logits" output) scores once told its likelihood;
 * and the ways of naming a model that once gave confusing errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ModelDirError } from '../src/core/model-dir.js';
import { exportVae } from '../src/export/export-dir.js';
import { decodeModel, encodeModel } from '../src/export/onnx-builder.js';
import { VaeModel } from '../src/runtime/node.js';
import { tempDir, trainTiny } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const SHIPPED = join(import.meta.dirname, '..', 'models', 'mnist-mini');

function vae(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the shipped model's ONNX files (and card, unless told not to) in a fresh directory. */
function copyShipped(withCard = true): string {
  const dir = tempDir('vae-model-dir-');
  for (const f of ['encoder.onnx', 'decoder.onnx', ...(withCard ? ['card.json'] : [])])
    copyFileSync(join(SHIPPED, f), join(dir, f));
  return dir;
}

async function rejectsNaming(promise: Promise<unknown>, file: RegExp, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelDirError, String(error));
    assert.match(error.file, file);
    assert.match(error.message, message);
    return true;
  });
}

describe('model directories that cannot be used', () => {
  test('card.json that is not JSON, or whose latentDim disagrees with the ONNX files: named, with the fix', async () => {
    const dir = copyShipped();
    writeFileSync(join(dir, 'card.json'), '{ "format": ');
    await rejectsNaming(VaeModel.load(dir), /card\.json$/, /is not valid JSON .*fix or delete it/);
    const card = JSON.parse(readFileSync(join(SHIPPED, 'card.json'), 'utf8'));
    writeFileSync(join(dir, 'card.json'), JSON.stringify({ ...card, latentDim: 19 }));
    await rejectsNaming(
      VaeModel.load(dir),
      /card\.json$/,
      /its latentDim 19 disagrees with .*decoder\.onnx, whose input "z" takes 20 values; the card belongs to another model/,
    );
    const served = vae('score', dir, '--limit', '2');
    assert.equal(served.code, 1);
    assert.match(served.stderr, /card\.json: its latentDim 19 disagrees/);
  });

  test('a truncated or missing tfjs checkpoint: vae export and vae eval name the file', async () => {
    const dir = await trainTiny();
    const step = join(
      dir,
      'tfjs',
      readdirSync(join(dir, 'tfjs')).find((f) => f.startsWith('step-')) as string,
    );
    const weights = join(step, 'decoder', 'weights.bin');
    const bytes = readFileSync(weights);
    writeFileSync(weights, bytes.subarray(0, bytes.length - 8));
    for (const args of [['export'], ['eval', '--limit', '4']]) {
      const r = vae(args[0] as string, dir, ...args.slice(1));
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /decoder\/weights\.bin: it holds \d+ bytes, .*model\.json needs \d+; the tfjs checkpoint is damaged/,
      );
    }
    rmSync(join(dir, 'tfjs'), { recursive: true });
    const r = vae('export', dir);
    assert.match(r.stderr, /tfjs: there is no tfjs checkpoint/);
  });

  test('card.json that disagrees with the checkpoint: vae export names card.json', async () => {
    const dir = await trainTiny();
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'));
    writeFileSync(join(dir, 'card.json'), JSON.stringify({ ...card, latentDim: card.latentDim + 1 }));
    const r = vae('export', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /card\.json: its latentDim \(\d+\) disagrees with the tfjs checkpoint's networks/);
  });
});

describe('a foreign model: no card.json, no "logits" output (as torch.onnx writes a decoder)', () => {
  let dir: string;
  before(() => {
    dir = copyShipped(false);
    const model = decodeModel(readFileSync(join(dir, 'decoder.onnx')));
    model.graph?.output?.splice(1); // keep x_hat only
    writeFileSync(join(dir, 'decoder.onnx'), encodeModel(model));
  });

  test('it loads and decodes; score says how to give the likelihood, then scores like the original', async () => {
    const foreign = await VaeModel.load(dir);
    const original = await VaeModel.load(SHIPPED);
    try {
      const { x } = await original.sample(6, { seed: 4 });
      const binary = { data: x.data.map((v) => (v > 0.5 ? 1 : 0)), shape: x.shape };
      assert.equal(foreign.likelihoodKind, undefined);
      await assert.rejects(
        foreign.score(binary),
        /the likelihood p\(x\|z\) is unknown .*pass \{ likelihood: 'bernoulli' \}.*--likelihood bernoulli/,
      );
      const told = await VaeModel.load(dir, { likelihood: 'bernoulli' });
      try {
        const a = (await told.score(binary, { score: 'nll', samples: 8, seed: 1 })).values;
        const b = (await original.score(binary, { score: 'nll', samples: 8, seed: 1 })).values;
        // From probabilities (clamped at 1e-7) rather than logits: the same scores within a hair.
        for (const [i, s] of a.entries()) assert.ok(Math.abs(s - (b[i] as number)) < 1e-3, `${s} vs ${b[i]}`);
      } finally {
        await told.dispose();
      }
      await assert.rejects(
        VaeModel.load(dir, { likelihood: 'poisson' as 'bernoulli' }),
        /"likelihood" must be "bernoulli"/,
      );
    } finally {
      await foreign.dispose();
      await original.dispose();
    }
  });

  test('vae score takes --likelihood; without it, the error says to pass it', () => {
    const without = vae('score', dir, '--dataset', 'mnist-mini', '--limit', '3');
    assert.equal(without.code, 1);
    assert.match(without.stderr, /--likelihood bernoulli or gaussian:LOGVAR/);
    const told = vae(
      'score',
      dir,
      '--dataset',
      'mnist-mini',
      '--limit',
      '3',
      '--likelihood',
      'bernoulli',
      '--json',
    );
    assert.equal(told.code, 0, told.stderr);
    assert.equal(JSON.parse(told.stdout).examples, 3);
    assert.match(
      vae('score', dir, '--likelihood', 'poisson').stderr,
      /--likelihood must be bernoulli or gaussian:LOGVAR/,
    );
  });

  test('vae parity fails, saying so, when no ONNX runtime could run', () => {
    const r = vae('parity', dir, '--runtimes', 'tfjs-cpu');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /no ONNX runtime ran, so nothing was compared/);
    assert.match(r.stdout, /parity: FAILED/);
  });
});

describe('naming a model', () => {
  test('a file: URL, an http URL and bytes load; null and a file path are clear TypeErrors', async () => {
    const byUrl = await VaeModel.load(pathToFileURL(SHIPPED));
    await byUrl.dispose();
    const server = createHttpServer((req, res) => {
      const file = join(SHIPPED, (req.url ?? '').replace(/^\/m\//, ''));
      try {
        res.end(readFileSync(file));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const { port } = server.address() as AddressInfo;
      const overHttp = await VaeModel.load(`http://127.0.0.1:${port}/m/`);
      assert.equal(overHttp.latentDim, 20);
      await overHttp.dispose();
      await rejectsNaming(
        VaeModel.load(`http://127.0.0.1:${port}/nothing/`),
        /nothing\/decoder\.onnx$/,
        /it does not exist/,
      );
    } finally {
      server.close();
    }
    await assert.rejects(
      VaeModel.load(null as unknown as string),
      /"source" must be a model directory, a URL, a zipped model directory.s bytes, or \{ decoder: Uint8Array.*got null/,
    );
    await rejectsNaming(
      VaeModel.load(join(SHIPPED, 'decoder.onnx')),
      /decoder\.onnx$/,
      /it is a file; give the model directory/,
    );
  });

  test('a copied directory with an encoder from another model is refused naming encoder.onnx', async () => {
    const other = await trainTiny();
    await exportVae(other);
    const dir = tempDir('vae-mixed-');
    cpSync(SHIPPED, dir, { recursive: true });
    copyFileSync(join(other, 'encoder.onnx'), join(dir, 'encoder.onnx'));
    await rejectsNaming(
      VaeModel.load(dir),
      /encoder\.onnx$/,
      /the two files come from different models: re-export it with: vae export/,
    );
  });
});
