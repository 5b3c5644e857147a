/**
 * A model directory is one unit: one writer at a time (a second is refused, naming the first), a
 * replacement (--force) that switches in whole or not at all, files from different weights refused
 * at load, and one piece of advice for a run killed before its first checkpoint.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ModelDirError } from '../src/core/model-dir.js';
import { readOnnxMetadata } from '../src/core/onnx-metadata.js';
import { WEIGHTS_ID_KEY } from '../src/core/weights-id.js';
import { VaeModel } from '../src/runtime/node.js';
import { tempDir } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const TRAIN =
  '--dataset mnist-mini --train-limit 640 --hidden 16 --latent 4 --batch 64 --eval-iw 0 --workers 1 --backend wasm'.split(
    ' ',
  );

function vae(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The weights ids card.json and the two ONNX files carry. */
function ids(dir: string): string[] {
  const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as { weightsId: string };
  return [
    card.weightsId,
    ...['encoder.onnx', 'decoder.onnx'].map(
      (f) => readOnnxMetadata(readFileSync(join(dir, f)))[WEIGHTS_ID_KEY],
    ),
  ] as string[];
}

describe('model directories as one unit', () => {
  test('two vae train on one --out: the second is refused naming the first; the model is wholly the first run', async () => {
    const dir = tempDir('vae-lock-');
    // The first run pauses after its third step (a failpoint) until the second has been refused.
    const release = join(tempDir(), 'go');
    const first = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'train', ...TRAIN, '--epochs', '2', '--seed', '1', '--out', dir],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, VAE_ONNX_PAUSE_AT_STEP: `3:${release}` },
      },
    );
    let stderr = '';
    first.stderr.on('data', (d) => {
      stderr += d;
    });
    for (let i = 0; i < 1200 && !existsSync(`${release}.paused`); i++)
      await new Promise((r) => setTimeout(r, 50));
    const second = vae(['train', ...TRAIN, '--epochs', '1', '--seed', '2', '--out', dir, '--force']);
    writeFileSync(release, '');
    const code = await new Promise((r) => first.once('exit', r));
    assert.equal(code, 0, stderr);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      /cannot write .*: another process is writing it \(vae train .*pid \d+ on this machine, since /,
    );
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as { training: { seed: number } };
    assert.equal(card.training.seed, 1);
    const [a, b, c] = ids(dir);
    assert.ok(a && a === b && b === c, `${a} ${b} ${c}`);
    assert.equal(existsSync(join(dir, '.lock')), false, 'the lock is gone with its writer');
  });

  test("a lock whose process is gone is taken over; a live process's lock is not", () => {
    const dir = tempDir('vae-stale-lock-');
    const lock = (pid: number) =>
      writeFileSync(
        join(dir, '.lock'),
        JSON.stringify({ pid, host: hostname(), command: 'vae train', started: 'then' }),
      );
    lock(process.pid);
    const refused = vae(['train', ...TRAIN, '--epochs', '1', '--out', dir]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `another process is writing it \\(vae train, pid ${process.pid} on this machine, since then\\)`,
      ),
    );
    // A pid no process has (past the kernel's pid_max default of 2^22).
    lock(2 ** 22 + 12_345);
    const taken = vae(['train', ...TRAIN, '--epochs', '1', '--out', dir]);
    assert.equal(taken.code, 0, taken.stderr);
    assert.equal(existsSync(join(dir, '.lock')), false);
  });

  test('vae train --force killed mid-run leaves the old model whole and loadable; run again, the new one switches in whole', async () => {
    const dir = tempDir('vae-force-');
    assert.equal(vae(['train', ...TRAIN, '--epochs', '1', '--seed', '1', '--out', dir]).code, 0);
    const before = new Map(
      ['card.json', 'encoder.onnx', 'decoder.onnx'].map((f) => [f, readFileSync(join(dir, f))]),
    );
    // Killed after the second epoch's checkpoint: the new run is in .next/, the old model untouched.
    const killed = vae(['train', ...TRAIN, '--epochs', '4', '--seed', '2', '--out', dir, '--force'], {
      VAE_ONNX_KILL_AT_WRITE: '17',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    for (const [f, bytes] of before)
      assert.ok(readFileSync(join(dir, f)).equals(bytes), `${f} is the old model's`);
    assert.ok(existsSync(join(dir, '.next', 'tfjs', 'latest.json')), 'the new run waits in .next/');
    const model = await VaeModel.load(dir);
    await model.dispose();
    // --resume continues the replacement; when it ends, everything is the new run's.
    const resumed = vae(['train', ...TRAIN, '--epochs', '4', '--seed', '2', '--out', dir, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as {
      training: { seed: number; epochs: number };
    };
    assert.deepEqual([card.training.seed, card.training.epochs], [2, 4]);
    const [a, b, c] = ids(dir);
    assert.ok(a === b && b === c);
    assert.notEqual(a, JSON.parse(before.get('card.json')?.toString() ?? '{}').weightsId);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.')),
      [],
    );
  });

  test('files from different weights are refused at load, naming them, instead of giving wrong answers', async () => {
    const a = tempDir('vae-mix-a-');
    const b = tempDir('vae-mix-b-');
    assert.equal(vae(['train', ...TRAIN, '--epochs', '1', '--seed', '1', '--out', a]).code, 0);
    assert.equal(vae(['train', ...TRAIN, '--epochs', '1', '--seed', '2', '--out', b]).code, 0);
    copyFileSync(join(b, 'decoder.onnx'), join(a, 'decoder.onnx'));
    await assert.rejects(VaeModel.load(a), (error: unknown) => {
      assert.ok(error instanceof ModelDirError);
      assert.match(
        error.message,
        /its files come from different weights \(card\.json: w-[0-9a-f]{16}, decoder\.onnx: w-[0-9a-f]{16}, encoder\.onnx: w-/,
      );
      return true;
    });
    const run = vae(['sample', a]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /come from different weights.*vae export/);
  });

  test('a run killed in its first checkpoint: --resume and a plain run give one piece of advice, and the plain run works', () => {
    const dir = tempDir('vae-first-');
    const killed = vae(['train', ...TRAIN, '--epochs', '1', '--out', dir], { VAE_ONNX_KILL_AT_WRITE: '1' });
    assert.equal(killed.signal, 'SIGKILL');
    const resume = vae(['train', ...TRAIN, '--epochs', '1', '--out', dir, '--resume']);
    assert.equal(resume.code, 1);
    assert.match(
      resume.stderr,
      /holds no complete checkpoint .*start the run again with the same flags, without --resume/,
    );
    const again = vae(['train', ...TRAIN, '--epochs', '1', '--out', dir]);
    assert.equal(again.code, 0, again.stderr);
  });
});
