/**
 * Crash consistency as a property: `vae train` killed with SIGKILL at 20 seeded random moments and
 * resumed each time ends with the same weights and the same ONNX bytes as an uninterrupted run, and
 * leaves no temporary file behind; `vae export` killed mid-write leaves valid ONNX files.
 *
 * The moments are placed by what the process is doing, never by the clock (a test whose verdict
 * depends on the machine's speed is not a check): half are after a seeded training step
 * (VAE_ONNX_KILL_AT_STEP=n; with the worker pool the next step is then running), half are exact
 * cuts inside a write (VAE_ONNX_KILL_AT_WRITE=n: the n-th atomic write has its temporary file and is
 * not renamed yet), which land inside checkpoints, the card, the pictures and the ONNX export.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { createRng } from '../src/core/random.js';
import { committedPath } from '../src/node/commit.js';
import { VaeModel } from '../src/runtime/node.js';
import { tempDir } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const EPOCHS = 40;
const TRAIN = (
  `--dataset mnist-mini --train-limit 640 --hidden 16 --latent 4 --epochs ${EPOCHS} --batch 64 ` +
  '--eval-iw 0 --workers 1 --backend wasm'
).split(' ');
/**
 * Atomic writes per epoch: the checkpoint (two networks × model.json and weights.bin, optimizer.bin,
 * state.json, latest.json) and the training log.
 */
const WRITES_PER_EPOCH = 8;
/**
 * Writes after the last epoch, all in one commit (see src/node/commit.ts): card.json, loss.svg, the
 * two PNGs, encoder.onnx and decoder.onnx staged (6), the commit mark (7), then each moved in (8–13).
 * A cut before the mark leaves nothing of the run's end; after it, all of it.
 */
const MARK_WRITE = 7;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI with `env` added to the environment. */
function vae(args: string[], options: { env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('exit', (code, signal) => {
      resolve({ code, signal, stderr });
    });
  });
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** The bytes that must come out the same: the newest checkpoint (weights, Adam state) and the ONNX files. */
function outcome(dir: string): Map<string, Buffer> {
  const latest = (JSON.parse(readFileSync(join(dir, 'tfjs', 'latest.json'), 'utf8')) as { folder: string })
    .folder;
  const wanted = files(dir).filter(
    (f) =>
      f.endsWith('.onnx') || (f.includes(`${latest}/`) && /weights\.bin|optimizer\.bin|model\.json/.test(f)),
  );
  return new Map(wanted.map((f) => [relative(dir, f), readFileSync(f)]));
}

describe('crash consistency', () => {
  test('vae train killed at 20 seeded moments, and twice inside its export, resumed each time, ends bit-identical to an uninterrupted run', async (t) => {
    const reference = tempDir('vae-crash-ref-');
    const straight = await vae(['train', ...TRAIN, '--out', reference]);
    assert.equal(straight.code, 0, straight.stderr);
    const want = outcome(reference);
    const card = JSON.parse(readFileSync(join(reference, 'card.json'), 'utf8')) as {
      training: { steps: number };
    };
    const stepsPerEpoch = card.training.steps / EPOCHS;

    const dir = tempDir('vae-crash-');
    const rng = createRng(20261128);
    const latest = () => join(dir, 'tfjs', 'latest.json');
    const again = () => ['train', ...TRAIN, '--out', dir, existsSync(latest()) ? '--resume' : '--force'];
    const remainingEpochs = () => {
      if (!existsSync(latest())) return EPOCHS;
      const folder = (JSON.parse(readFileSync(latest(), 'utf8')) as { folder: string }).folder;
      const state = JSON.parse(readFileSync(join(dir, 'tfjs', folder, 'state.json'), 'utf8')) as {
        epochsDone: number;
      };
      return EPOCHS - state.epochsDone;
    };
    const kills: string[] = [];
    // 20 kills while training goes on: every other one after a step within the next two epochs
    // (before, between or after checkpoints), the others exact cuts inside one of the next two
    // epochs' writes. Each lands before the run could end, whatever the machine's speed.
    for (let attempt = 0; attempt < 20; attempt++) {
      const inWrite = attempt % 2 === 1;
      const n = inWrite
        ? 1 + Math.floor(rng.uniform() * Math.min(2 * WRITES_PER_EPOCH, WRITES_PER_EPOCH * remainingEpochs()))
        : 1 + Math.floor(rng.uniform() * Math.min(2 * stepsPerEpoch, stepsPerEpoch * remainingEpochs() - 1));
      const failpoint = inWrite ? 'VAE_ONNX_KILL_AT_WRITE' : 'VAE_ONNX_KILL_AT_STEP';
      const run = await vae(again(), { env: { [failpoint]: String(n) } });
      assert.equal(run.signal, 'SIGKILL', `${failpoint}=${n}: ${run.stderr}`);
      kills.push(`${inWrite ? 'write' : 'step'} ${n}`);
      assert.ok(remainingEpochs() > 0, 'the run is long enough for 20 kills');
    }
    // Then cuts inside the end's commit: while it stages its files, at its mark, and while it moves
    // them in (the next run finishes a marked commit, and a reader sees it whole meanwhile).
    for (const offset of [3, MARK_WRITE, MARK_WRITE + 3]) {
      const n = WRITES_PER_EPOCH * remainingEpochs() + offset;
      const run = await vae(again(), { env: { VAE_ONNX_KILL_AT_WRITE: String(n) } });
      assert.equal(run.signal, 'SIGKILL', run.stderr);
      const staged = readdirSync(dir).filter((f) => f.startsWith('.commit-'));
      assert.equal(staged.length, 1, `cut inside the end's commit: ${staged}`);
      if (offset > MARK_WRITE) {
        // Committed, half moved in: the model loads, whole and new.
        const model = await VaeModel.load(dir);
        await model.dispose();
      }
      kills.push(`end commit write ${offset}`);
    }
    const last = await vae(again());
    assert.equal(last.code, 0, last.stderr);
    t.diagnostic(`kills: ${kills.join(', ')}`);
    assert.equal(kills.length, 23);
    const got = outcome(dir);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [file, bytes] of want) assert.ok(bytes.equals(got.get(file) as Buffer), `${file} differs`);
    assert.deepEqual(
      files(dir).filter((f) => f.includes('.tmp-') || f.includes('.commit-') || f.endsWith('.lock')),
      [],
      'no temporary file, staging folder or lock is left',
    );
    const steps = readdirSync(join(dir, 'tfjs')).filter((f) => f.startsWith('step-'));
    assert.equal(steps.length, 1, `one checkpoint folder: ${steps}`);
  });

  test('vae export killed at every one of its writes leaves the old ONNX files or the new ones, never a mix', async () => {
    const dir = tempDir('vae-crash-export-');
    const trained = await vae(['train', ...TRAIN, '--epochs', '1', '--out', dir]);
    assert.equal(trained.code, 0, trained.stderr);
    const names = ['encoder.onnx', 'decoder.onnx'];
    const before = new Map(names.map((f) => [f, readFileSync(join(dir, f))]));
    // Opset 13 gives other bytes than the default 17: each file is wholly the old one or the new one.
    const fresh = tempDir('vae-crash-export-new-');
    for (const f of readdirSync(dir)) cpSync(join(dir, f), join(fresh, f), { recursive: true });
    assert.equal((await vae(['export', fresh, '--opset', '13'])).code, 0);
    const after = new Map(names.map((f) => [f, readFileSync(join(fresh, f))]));
    // Two files staged, the mark, two moved in.
    for (let write = 1; write <= 5; write++) {
      const run = await vae(['export', dir, '--opset', '13'], {
        env: { VAE_ONNX_KILL_AT_WRITE: String(write) },
      });
      assert.equal(run.signal, 'SIGKILL', `write ${write}: ${run.stderr}`);
      // What a reader sees: the files, or a committed staging folder's.
      const seen = names.map((f) => readFileSync(committedPath(dir, f)));
      const old = seen.every((b, i) => b.equals(before.get(names[i] as string) as Buffer));
      const neu = seen.every((b, i) => b.equals(after.get(names[i] as string) as Buffer));
      assert.ok(old !== neu, `write ${write}: the files are ${old ? 'old' : neu ? 'new' : 'a mix'}`);
      assert.equal(neu, write >= 4, `write ${write}`);
      const model = await VaeModel.load(dir);
      await model.dispose();
      // The next export (any writer) finishes or discards what was cut, then writes the old bytes back.
      assert.equal((await vae(['export', dir])).code, 0);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.startsWith('.commit-') || f === '.lock'),
        [],
      );
      for (const f of names) assert.ok(readFileSync(join(dir, f)).equals(before.get(f) as Buffer), f);
    }
  });
});
