import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, type ModelCard, parseCard } from '../core/card.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { DataError } from './errors.js';
import type { VaeNetworks } from './model.js';

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

/** Loads a model saved by `saveLayersModel` (or by tfjs's own file saver with one weights file). */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
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
  const weightData = toBytes(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: specs,
      weightData: weightData.buffer,
    }),
  );
}

/** Writes the VAE's tfjs checkpoint into `modelDir/tfjs/{encoder,decoder}`. */
export async function saveCheckpoint(modelDir: string, nets: VaeNetworks): Promise<void> {
  await saveLayersModel(nets.encoder, join(modelDir, MODEL_FILES.tfjs, 'encoder'));
  await saveLayersModel(nets.decoder, join(modelDir, MODEL_FILES.tfjs, 'decoder'));
}

/** Loads the VAE's tfjs checkpoint from `modelDir/tfjs`. */
export async function loadCheckpoint(
  modelDir: string,
): Promise<{ encoder: tf.LayersModel; decoder: tf.LayersModel }> {
  const [encoder, decoder] = await Promise.all([
    loadLayersModel(join(modelDir, MODEL_FILES.tfjs, 'encoder')),
    loadLayersModel(join(modelDir, MODEL_FILES.tfjs, 'decoder')),
  ]);
  return { encoder, decoder };
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
