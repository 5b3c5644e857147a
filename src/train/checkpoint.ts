/**
 * The trainer's checkpoint: the networks (see node/model-dir-files.ts) and, beside them, what a
 * resumed run needs (Adam's state, the epoch, the history), in a new step folder each epoch;
 * latest.json names the newest and is written last.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES } from '../core/model-dir.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import {
  arrayBufferOf,
  checkpointFolder,
  LATEST_FILE,
  saveLayersModel,
  toBytes,
} from '../node/model-dir-files.js';
import { DataError } from './errors.js';
import type { VaeNetworks } from './model.js';

/** What the trainer keeps besides the weights, to resume a run exactly where it stopped. */
export interface TrainingState {
  format: 'vae-onnx/training-state@1';
  /** Completed epochs. */
  epochsDone: number;
  globalStep: number;
  /** Settings that must match for a resume to continue the same run. */
  config: Record<string, unknown>;
  /** One entry per completed epoch. */
  history: Record<string, number | null>[];
  best: { epoch: number; valNegElbo: number } | null;
  /** Gaussian learned variance: log σ². */
  logVariance?: number;
  /** Optimizer variables, in `optimizer.bin`. */
  optimizerSpecs: tf.io.WeightsManifestEntry[];
}

/**
 * Writes the VAE's tfjs checkpoint into a new folder of `modelDir/tfjs`, then points `latest.json`
 * at it and removes older folders. A crash at any point leaves the previous checkpoint usable.
 */
export async function saveCheckpoint(
  modelDir: string,
  nets: VaeNetworks,
  training?: {
    state: Omit<TrainingState, 'optimizerSpecs'>;
    optimizerWeights: { name: string; tensor: tf.Tensor }[];
  },
): Promise<void> {
  const root = join(modelDir, MODEL_FILES.tfjs);
  const folder = `step-${String(training?.state.globalStep ?? 0).padStart(8, '0')}`;
  const dir = join(root, folder);
  await saveLayersModel(nets.encoder, join(dir, 'encoder'));
  await saveLayersModel(nets.decoder, join(dir, 'decoder'));
  if (training) {
    const { data, specs } = await tf.io.encodeWeights(training.optimizerWeights);
    await writeFileAtomic(join(dir, 'optimizer.bin'), toBytes(data));
    const state: TrainingState = { ...training.state, optimizerSpecs: specs };
    await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state));
  }
  await writeFileAtomic(join(root, LATEST_FILE), JSON.stringify({ folder }));
  for (const entry of await readdir(root)) {
    if (entry !== folder && /^step-\d+$/.test(entry))
      await rm(join(root, entry), { recursive: true, force: true });
  }
}

/** Loads the training state and optimizer variables saved with the newest checkpoint. */
export async function loadTrainingState(
  modelDir: string,
): Promise<{ state: TrainingState; optimizerWeights: { name: string; tensor: tf.Tensor }[] }> {
  const dir = await checkpointFolder(modelDir);
  const statePath = join(dir, 'state.json');
  let state: TrainingState;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as TrainingState;
  } catch (error) {
    throw new DataError(
      `cannot resume from ${modelDir}: cannot read ${statePath}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const bytes = await readFile(join(dir, 'optimizer.bin'));
  const map = tf.io.decodeWeights(arrayBufferOf(bytes), state.optimizerSpecs);
  return {
    state,
    optimizerWeights: state.optimizerSpecs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor })),
  };
}

export {
  checkpointFolder,
  LATEST_FILE,
  loadCheckpoint,
  loadLayersModel,
  readCard,
  saveLayersModel,
  writeCard,
} from '../node/model-dir-files.js';

/**
 * Removes what a killed run can leave behind in a model directory: temporary files of atomic writes
 * (`.tmp-*`), and checkpoint folders that latest.json does not name (a checkpoint cut off mid-write).
 * The newest complete checkpoint stays.
 */
export async function cleanLeftovers(modelDir: string): Promise<string[]> {
  const removed: string[] = [];
  const root = join(modelDir, MODEL_FILES.tfjs);
  let latest: string | undefined;
  try {
    latest = (JSON.parse(await readFile(join(root, LATEST_FILE), 'utf8')) as { folder?: string }).folder;
  } catch {
    latest = undefined;
  }
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      const staleStep =
        dir === root && latest !== undefined && /^step-\d+$/.test(e.name) && e.name !== latest;
      if (e.name.startsWith('.tmp-') || staleStep) {
        await rm(path, { recursive: true, force: true });
        removed.push(path);
      } else if (e.isDirectory() && depth < 3) {
        await walk(path, depth + 1);
      }
    }
  };
  await walk(modelDir, 0);
  return removed;
}
