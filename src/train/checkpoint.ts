import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, type ModelCard, parseCard } from '../core/card.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { silenceCpuBanner } from './backend.js';
import { DataError } from './errors.js';
import type { VaeNetworks } from './model.js';

/** The file in `tfjs/` that names the newest complete checkpoint folder. It is written last. */
export const LATEST_FILE = 'latest.json';

/**
 * Saves a tfjs-layers model as `model.json` + `weights.bin` in `dir` (the layout tfjs's own file
 * loaders read), each file written atomically.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData;
      const bytes = weights === undefined ? new Uint8Array(0) : toBytes(weights);
      const manifest = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFileAtomic(join(dir, 'weights.bin'), bytes);
      await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

function toBytes(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Loads a model saved by `saveLayersModel` (or by tfjs's own file saver). */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  silenceCpuBanner();
  const manifestPath = join(dir, 'model.json');
  let manifest: {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (error) {
    throw new DataError(`cannot load tfjs model ${manifestPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const buffers = await Promise.all(
    manifest.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))),
  );
  const weightData = arrayBufferOf(toBytes(buffers.map(arrayBufferOf)));
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: specs, weightData }),
  );
}

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

/** The folder of the newest complete checkpoint in `modelDir/tfjs`. */
export async function checkpointFolder(modelDir: string): Promise<string> {
  const root = join(modelDir, MODEL_FILES.tfjs);
  const latest = join(root, LATEST_FILE);
  if (!existsSync(latest)) return root;
  const { folder } = JSON.parse(await readFile(latest, 'utf8')) as { folder: string };
  if (!/^[\w.-]+$/.test(folder))
    throw new DataError(`cannot read ${latest}: bad folder name ${JSON.stringify(folder)}`);
  return join(root, folder);
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

/** Loads the VAE's tfjs networks from the newest checkpoint of `modelDir`. */
export async function loadCheckpoint(modelDir: string): Promise<VaeNetworks> {
  const dir = await checkpointFolder(modelDir);
  const [encoder, decoder] = await Promise.all([
    loadLayersModel(join(dir, 'encoder')),
    loadLayersModel(join(dir, 'decoder')),
  ]);
  return { encoder, decoder };
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

/** Writes card.json atomically. */
export async function writeCard(modelDir: string, card: ModelCard): Promise<void> {
  await writeFileAtomic(join(modelDir, MODEL_FILES.card), `${JSON.stringify(card, null, 2)}\n`);
}

/** Reads and checks card.json. */
export async function readCard(modelDir: string): Promise<ModelCard> {
  const path = join(modelDir, MODEL_FILES.card);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read model card ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseCard(JSON.parse(text));
  } catch (error) {
    throw new DataError(`cannot read model card ${path}: ${(error as Error).message}`, { cause: error });
  }
}
