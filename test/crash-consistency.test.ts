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
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { createRng } from '../src/core/random.js';
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
/** Atomic writes after the last epoch, in order: card.json, loss.svg, the two PNGs, encoder.onnx, decoder.onnx. */
const END_WRITES = 6;

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
    // Then cuts inside the ONNX export: in encoder.onnx's write, then in decoder.onnx's.
    for (const offset of [END_WRITES - 1, END_WRITES]) {
      const n = WRITES_PER_EPOCH * remainingEpochs() + offset;
      const run = await vae(again(), { env: { VAE_ONNX_KILL_AT_WRITE: String(n) } });
      assert.equal(run.signal, 'SIGKILL', run.stderr);
      assert.ok(
        files(dir).some((f) =>
          new RegExp(`\\.tmp-${offset === END_WRITES ? 'decoder' : 'encoder'}\\.onnx-`).test(f),
        ),
        'cut inside the export',
      );
      kills.push(`export write ${n}`);
    }
    const last = await vae(again());
    assert.equal(last.code, 0, last.stderr);
    t.diagnostic(`kills: ${kills.join(', ')}`);
    assert.equal(kills.length, 22);
    const got = outcome(dir);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [file, bytes] of want) assert.ok(bytes.equals(got.get(file) as Buffer), `${file} differs`);
    assert.deepEqual(
      files(dir).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file is left',
    );
    const steps = readdirSync(join(dir, 'tfjs')).filter((f) => f.startsWith('step-'));
    assert.equal(steps.length, 1, `one checkpoint folder: ${steps}`);
  });

  test('vae export killed inside each of its writes leaves ONNX files that load and run', async () => {
    const dir = tempDir('vae-crash-export-');
    const trained = await vae(['train', ...TRAIN, '--epochs', '1', '--out', dir]);
    assert.equal(trained.code, 0, trained.stderr);
    const before = new Map(['encoder.onnx', 'decoder.onnx'].map((f) => [f, readFileSync(join(dir, f))]));
    for (const write of [1, 2]) {
      // Opset 13 gives other bytes than the default 17: every file is wholly the old one or the new one.
      const run = await vae(['export', dir, '--opset', '13'], {
        env: { VAE_ONNX_KILL_AT_WRITE: String(write) },
      });
      assert.equal(run.signal, 'SIGKILL');
      for (const file of ['encoder.onnx', 'decoder.onnx']) {
        const bytes = readFileSync(join(dir, file));
        const session = await ort.InferenceSession.create(bytes);
        await session.release();
        assert.ok(statSync(join(dir, file)).size > 0);
        // Cut in its first write, nothing changed; in its second, encoder.onnx is new, decoder.onnx old.
        const unchanged = write === 1 || file === 'decoder.onnx';
        assert.equal(bytes.equals(before.get(file) as Buffer), unchanged, file);
      }
    }
  });
});
