/**
 * The model directory on disk, for every part of the project that runs in Node: card.json (read
 * and checked, written atomically) and the tfjs checkpoint in tfjs/ (what the exporter and the
 * parity tools read; the trainer adds its optimizer state beside the networks). The checkpoint's
 * format lives in tfjs/checkpoint.ts; this module gives it a folder to read and write.
 * Errors name the file and say what to do.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {
  type AnyCard,
  MODEL_FILES,
  type ModelCard,
  ModelDirError,
  parseCardText,
} from '../core/model-dir.js';
import {
  checkCardAgainstNetworks,
  latestCheckpointFolder,
  layersModelFiles,
  type ReadCheckpointFile,
  readCheckpointNetworks,
  readLayersModel,
  type VaeNetworks,
  type WriteCheckpointFile,
} from '../tfjs/checkpoint.js';
import { writeFileAtomic } from './atomic-write.js';

export {
  arrayBufferOf,
  checkCardAgainstNetworks,
  LATEST_FILE,
  silenceCpuBanner,
  toBytes,
  type VaeNetworks,
} from '../tfjs/checkpoint.js';

/** Reads files of the folder `dir` by their relative paths; undefined for a file that does not exist. */
export function folderReader(dir: string): ReadCheckpointFile {
  return async (path) => {
    const full = join(dir, path);
    try {
      return await readFile(full);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ModelDirError(full, `cannot load ${full}: ${(error as Error).message}`, { cause: error });
    }
  };
}

/** Writes files into the folder `dir` by their relative paths, each atomically. */
export function folderWriter(dir: string): WriteCheckpointFile {
  return (path, bytes) => writeFileAtomic(join(dir, path), bytes);
}

/**
 * Saves a tfjs-layers model as `model.json` + `weights.bin` in `dir` (the layout tfjs's own file
 * loaders read), each file written atomically.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  const files = await layersModelFiles(model);
  await writeFileAtomic(join(dir, 'weights.bin'), files.weights);
  await writeFileAtomic(join(dir, 'model.json'), files.manifest);
}

/**
 * Loads a model saved by `saveLayersModel` (or by tfjs's own file saver).
 * @throws ModelDirError naming model.json or the weights file when one is missing, not JSON, or
 *   shorter than model.json says.
 */
export function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  return readLayersModel(folderReader(dir), '', dir);
}

/** @throws ModelDirError when `modelDir` has no tfjs/ folder. */
function requireCheckpoint(modelDir: string): void {
  const root = join(modelDir, MODEL_FILES.tfjs);
  if (!existsSync(root)) {
    throw new ModelDirError(
      root,
      `cannot load ${root}: there is no tfjs checkpoint (vae train writes one; a model exported by another tool has none)`,
    );
  }
}

/**
 * The folder of the newest complete checkpoint in `modelDir/tfjs`.
 * @throws ModelDirError when there is no checkpoint, or latest.json is damaged.
 */
export async function checkpointFolder(modelDir: string): Promise<string> {
  requireCheckpoint(modelDir);
  return join(modelDir, await latestCheckpointFolder(folderReader(modelDir), modelDir));
}

/**
 * Loads the VAE's tfjs networks from the newest checkpoint of `modelDir`, checked against `card`
 * when one is given.
 * @throws ModelDirError naming the damaged file, or card.json when it disagrees with the networks.
 */
export async function loadCheckpoint(modelDir: string, card?: ModelCard): Promise<VaeNetworks> {
  requireCheckpoint(modelDir);
  const nets = await readCheckpointNetworks(folderReader(modelDir), modelDir);
  if (card) {
    try {
      checkCardAgainstNetworks(card, nets, modelDir);
    } catch (error) {
      nets.encoder.dispose();
      nets.decoder.dispose();
      throw error;
    }
  }
  return nets;
}

/** Writes card.json atomically. */
export async function writeCard(modelDir: string, card: ModelCard): Promise<void> {
  await writeFileAtomic(join(modelDir, MODEL_FILES.card), `${JSON.stringify(card, null, 2)}\n`);
}

/**
 * Reads and checks card.json.
 * @throws ModelDirError naming the file when it is missing, not JSON, or a field does not fit.
 */
export async function readCard(modelDir: string): Promise<ModelCard> {
  const path = join(modelDir, MODEL_FILES.card);
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelDirError(
      path,
      `cannot load ${path}: ${missing ? 'it does not exist' : (error as Error).message}; the trainer writes it (vae train); a model without one can still run, but not be exported`,
      { cause: error },
    );
  }
  const card = parseCardText(text.toString('utf8'), path);
  if (card.origin === 'foreign') {
    throw new ModelDirError(
      path,
      `cannot use ${path} for training or export: it describes a model exported by another tool (origin "foreign", written by vae calibrate), which has no vae-onnx checkpoint`,
    );
  }
  return card;
}

/** Writes any card.json (a trained model's or a foreign model's) atomically. */
export async function writeAnyCard(modelDir: string, card: AnyCard): Promise<void> {
  await writeFileAtomic(join(modelDir, MODEL_FILES.card), `${JSON.stringify(card, null, 2)}\n`);
}
