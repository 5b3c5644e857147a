/**
 * The trainer's checkpoint: the networks (see node/model-dir-files.ts) and, beside them, what a
 * resumed run needs (Adam's state, the epoch, the history), in a new step folder each epoch;
 * latest.json names the newest and is written last.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILES } from '../core/model-dir.js';
import { folderReader, folderWriter } from '../node/model-dir-files.js';
import {
  LATEST_FILE,
  type OptimizerWeights,
  readTrainingState,
  type TrainingState,
  type VaeNetworks,
  writeCheckpoint,
} from '../tfjs/checkpoint.js';

export type { OptimizerWeights, TrainingState } from '../tfjs/checkpoint.js';

/**
 * Writes the VAE's tfjs checkpoint into a new folder of `modelDir/tfjs`, then points `latest.json`
 * at it and removes older folders. A crash at any point leaves the previous checkpoint usable.
 */
export async function saveCheckpoint(
  modelDir: string,
  nets: VaeNetworks,
  training?: { state: Omit<TrainingState, 'optimizerSpecs'>; optimizerWeights: OptimizerWeights },
): Promise<void> {
  const written = await writeCheckpoint(folderWriter(modelDir), nets, training);
  const folder = written.slice(written.lastIndexOf('/') + 1);
  const root = join(modelDir, MODEL_FILES.tfjs);
  for (const entry of await readdir(root)) {
    if (entry !== folder && /^step-\d+$/.test(entry))
      await rm(join(root, entry), { recursive: true, force: true });
  }
}

/**
 * Loads the training state and optimizer variables saved with the newest checkpoint.
 * @throws ModelDirError naming state.json or optimizer.bin when missing or damaged.
 */
export function loadTrainingState(
  modelDir: string,
): Promise<{ state: TrainingState; optimizerWeights: OptimizerWeights }> {
  return readTrainingState(folderReader(modelDir), modelDir);
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
