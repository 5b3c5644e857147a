/**
 * The model directory on disk, for every part of the project that runs in Node: card.json (read
 * and checked, written atomically) and the tfjs networks of the newest checkpoint in tfjs/ (what
 * the exporter and the parity tools read; the trainer adds its optimizer state beside them).
 * Errors name the file and say what to do.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, type ModelCard, ModelDirError, parseCardText } from '../core/model-dir.js';
import { writeFileAtomic } from './atomic-write.js';

/** The file in `tfjs/` that names the newest complete checkpoint folder. It is written last. */
export const LATEST_FILE = 'latest.json';

/** A VAE's two tfjs networks. */
export interface VaeNetworks {
  /** x → [mu | logvar]. */
  encoder: tf.LayersModel;
  /** z → logits (Bernoulli) or the mean (Gaussian). */
  decoder: tf.LayersModel;
}

/**
 * The cpu backend prints a banner recommending tfjs-node the first time it holds data; library code
 * stays quiet, so every path that may land on it (loading a checkpoint without a chosen backend) calls this.
 */
export function silenceCpuBanner(): void {
  // The engine's own instance (created here if none is yet): findBackend alone can return one the
  // engine later replaces.
  let backend: unknown;
  try {
    backend = tf.engine().backend;
  } catch {
    return; // an asynchronous backend (wasm) is still starting: not the cpu one
  }
  if (tf.getBackend() === 'cpu') (backend as { firstUse?: boolean }).firstUse = false;
}

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

/** One buffer from tfjs's weight data (one buffer or several). */
export function toBytes(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/** The bytes of a view as an ArrayBuffer of their own. */
export function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function readRequired(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelDirError(
      path,
      `cannot load ${path}: ${missing ? 'it does not exist' : (error as Error).message}; ${what}`,
      { cause: error },
    );
  }
}

const DAMAGED =
  'the tfjs checkpoint is damaged: train the model again (vae train), or restore the tfjs/ folder';

/**
 * Loads a model saved by `saveLayersModel` (or by tfjs's own file saver).
 * @throws ModelDirError naming model.json or the weights file when one is missing, not JSON, or
 *   shorter than model.json says.
 */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  silenceCpuBanner();
  const manifestPath = join(dir, 'model.json');
  let manifest: {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    manifest = JSON.parse((await readRequired(manifestPath, DAMAGED)).toString('utf8'));
  } catch (error) {
    if (error instanceof ModelDirError) throw error;
    throw new ModelDirError(manifestPath, `cannot load ${manifestPath}: it is not valid JSON; ${DAMAGED}`, {
      cause: error,
    });
  }
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const paths = manifest.weightsManifest.flatMap((group) => group.paths.map((p) => join(dir, p)));
  const buffers = await Promise.all(paths.map((p) => readRequired(p, DAMAGED)));
  const weightData = arrayBufferOf(toBytes(buffers.map(arrayBufferOf)));
  const needed = specs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength !== needed) {
    const file = paths.join(', ');
    throw new ModelDirError(
      file,
      `cannot load ${file}: it holds ${weightData.byteLength} bytes, ${manifestPath} needs ${needed}; ${DAMAGED}`,
    );
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: specs, weightData }),
  );
}

/**
 * The folder of the newest complete checkpoint in `modelDir/tfjs`.
 * @throws ModelDirError when there is no checkpoint, or latest.json is damaged.
 */
export async function checkpointFolder(modelDir: string): Promise<string> {
  const root = join(modelDir, MODEL_FILES.tfjs);
  if (!existsSync(root)) {
    throw new ModelDirError(
      root,
      `cannot load ${root}: there is no tfjs checkpoint (vae train writes one; a model exported by another tool has none)`,
    );
  }
  const latest = join(root, LATEST_FILE);
  if (!existsSync(latest)) return root;
  let folder: unknown;
  try {
    folder = (JSON.parse(await readFile(latest, 'utf8')) as { folder?: unknown }).folder;
  } catch (error) {
    throw new ModelDirError(latest, `cannot load ${latest}: it is not valid JSON; ${DAMAGED}`, {
      cause: error,
    });
  }
  if (typeof folder !== 'string' || !/^[\w.-]+$/.test(folder))
    throw new ModelDirError(
      latest,
      `cannot load ${latest}: bad folder name ${JSON.stringify(folder)}; ${DAMAGED}`,
    );
  return join(root, folder);
}

/**
 * Loads the VAE's tfjs networks from the newest checkpoint of `modelDir`, checked against `card`
 * when one is given.
 * @throws ModelDirError naming the damaged file, or card.json when it disagrees with the networks.
 */
export async function loadCheckpoint(modelDir: string, card?: ModelCard): Promise<VaeNetworks> {
  const dir = await checkpointFolder(modelDir);
  const [encoder, decoder] = await Promise.all([
    loadLayersModel(join(dir, 'encoder')),
    loadLayersModel(join(dir, 'decoder')),
  ]);
  const nets = { encoder, decoder };
  if (card) {
    try {
      checkCardAgainstNetworks(card, nets, modelDir);
    } catch (error) {
      encoder.dispose();
      decoder.dispose();
      throw error;
    }
  }
  return nets;
}

/**
 * Checks that card.json describes the checkpoint's networks: the encoder gives 2 × latentDim values
 * (mu, logvar) from an example of inputShape's size, and the decoder takes latentDim.
 * @throws ModelDirError naming card.json and both numbers.
 */
export function checkCardAgainstNetworks(card: ModelCard, nets: VaeNetworks, modelDir: string): void {
  const path = join(modelDir, MODEL_FILES.card);
  const size = (shape: readonly (number | null)[]) =>
    shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  const found: [string, number, number][] = [
    ['latentDim', card.latentDim, (nets.encoder.outputs[0]?.shape.at(-1) ?? 0) / 2],
    ['latentDim', card.latentDim, nets.decoder.inputs[0]?.shape.at(-1) ?? 0],
    ['inputShape', card.inputShape.reduce((a, b) => a * b, 1), size(nets.encoder.inputs[0]?.shape ?? [])],
  ];
  for (const [field, inCard, inNetworks] of found) {
    if (inCard !== inNetworks) {
      throw new ModelDirError(
        path,
        `cannot load ${path}: its ${field} (${field === 'inputShape' ? `[${card.inputShape}], ${inCard} values` : inCard}) disagrees with the tfjs checkpoint's networks (${inNetworks}); the card belongs to another model: retrain, or restore the card`,
      );
    }
  }
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
  const text = await readRequired(
    path,
    'the trainer writes it (vae train); a model without one can still run, but not be exported',
  );
  return parseCardText(text.toString('utf8'), path);
}
