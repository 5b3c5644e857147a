import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainVae } from '../../src/train/index.js';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'vae-onnx-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The tiny model's size: small enough to train in a second, real in every part. */
export const TINY = Object.freeze({ hiddenDim: 32, latentDim: 4, batchSize: 32 });

/**
 * Trains a tiny VAE on mnist-mini for a few steps into a new temporary folder (card.json + tfjs/).
 */
export async function trainTiny(options: { seed?: number; steps?: number } = {}): Promise<string> {
  const dir = tempDir();
  await trainVae({
    out: dir,
    ...TINY,
    epochs: 1,
    maxSteps: options.steps ?? 5,
    seed: options.seed ?? 7,
    evalLimit: 64,
    backend: 'wasm',
  });
  return dir;
}
