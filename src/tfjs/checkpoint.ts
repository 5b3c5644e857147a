/**
 * The tfjs checkpoint of a model directory, written and read through a file interface so that the
 * same code serves a folder on disk (Node) and files in memory (a browser, a zip):
 *
 * ```
 * tfjs/latest.json               {"folder": "step-00000630"}, written last
 * tfjs/step-N/encoder/model.json, weights.bin    the networks, as tfjs's own file loaders read them
 * tfjs/step-N/decoder/model.json, weights.bin
 * tfjs/step-N/optimizer.bin, state.json          Adam's state and the run's, to resume exactly
 * ```
 *
 * Errors name the file at fault (ModelDirError) and say what to do. This module imports no Node
 * module: node/model-dir-files.ts reads and writes it in a folder, the browser doors in memory.
 */
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, type ModelCard, ModelDirError, modelFilePath } from '../core/model-dir.js';
import { weightsIdOf } from '../core/weights-id.js';

/** A VAE's two tfjs networks. */
export interface VaeNetworks {
  /** x → [mu | logvar]. */
  encoder: tf.LayersModel;
  /** z → logits (Bernoulli) or the mean (Gaussian). */
  decoder: tf.LayersModel;
}

/** Reads a file by its path inside the model directory ('tfjs/latest.json'); undefined when absent. */
export type ReadCheckpointFile = (path: string) => Promise<Uint8Array | undefined>;
/** Writes a file by its path inside the model directory, whole (atomically, on disk). */
export type WriteCheckpointFile = (path: string, bytes: Uint8Array) => Promise<void>;

/** The file in `tfjs/` that names the newest complete checkpoint folder. It is written last. */
export const LATEST_FILE = 'latest.json';

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

/** Optimizer variables by name, as tf.train.adam saves them. */
export type OptimizerWeights = { name: string; tensor: tf.Tensor }[];

const DAMAGED =
  'the tfjs checkpoint is damaged: train the model again (vae train), or restore the tfjs/ folder';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

/** The folder name of the checkpoint taken at `step`. */
export function checkpointFolderName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** A tfjs-layers model as `model.json` and `weights.bin` (the layout tfjs's own file loaders read). */
export async function layersModelFiles(
  model: tf.LayersModel,
): Promise<{ manifest: Uint8Array; weights: Uint8Array }> {
  let files: { manifest: Uint8Array; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData === undefined ? new Uint8Array(0) : toBytes(artifacts.weightData);
      const manifest = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      files = { manifest: encoder.encode(JSON.stringify(manifest)), weights };
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  return files as { manifest: Uint8Array; weights: Uint8Array };
}

async function required(
  read: ReadCheckpointFile,
  path: string,
  where: string | undefined,
): Promise<Uint8Array> {
  const bytes = await read(path);
  if (bytes === undefined) {
    const full = modelFilePath(where, path);
    throw new ModelDirError(full, `cannot load ${full}: it does not exist; ${DAMAGED}`);
  }
  return bytes;
}

function parseJson<T>(bytes: Uint8Array, path: string, where: string | undefined): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch (error) {
    const full = modelFilePath(where, path);
    throw new ModelDirError(full, `cannot load ${full}: it is not valid JSON; ${DAMAGED}`, { cause: error });
  }
}

/**
 * Loads a model from `folder/model.json` (`folder` inside the model directory; '' for its top) and
 * the weight files it names.
 * @throws ModelDirError naming model.json or the weights file when one is missing, not JSON, or
 *   shorter than model.json says.
 */
export async function readLayersModel(
  read: ReadCheckpointFile,
  folder: string,
  where: string | undefined,
): Promise<tf.LayersModel> {
  silenceCpuBanner();
  const manifestPath = modelFilePath(folder, 'model.json');
  const manifest = parseJson<{
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  }>(await required(read, manifestPath, where), manifestPath, where);
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const paths = manifest.weightsManifest.flatMap((group) => group.paths.map((p) => modelFilePath(folder, p)));
  const buffers = await Promise.all(paths.map((p) => required(read, p, where)));
  const weightData = arrayBufferOf(toBytes(buffers.map(arrayBufferOf)));
  const needed = specs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength !== needed) {
    const file = paths.map((p) => modelFilePath(where, p)).join(', ');
    throw new ModelDirError(
      file,
      `cannot load ${file}: it holds ${weightData.byteLength} bytes, ${modelFilePath(where, manifestPath)} needs ${needed}; ${DAMAGED}`,
    );
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs: specs, weightData }),
  );
}

/**
 * The folder (inside the model directory) of the newest complete checkpoint: the one latest.json
 * names, or tfjs/ itself for a checkpoint written before latest.json existed.
 * @throws ModelDirError when latest.json is damaged.
 */
export async function latestCheckpointFolder(
  read: ReadCheckpointFile,
  where: string | undefined,
): Promise<string> {
  const latestPath = `${MODEL_FILES.tfjs}/${LATEST_FILE}`;
  const latest = await read(latestPath);
  if (latest === undefined) return MODEL_FILES.tfjs;
  const folder = parseJson<{ folder?: unknown }>(latest, latestPath, where).folder;
  if (typeof folder !== 'string' || !/^[\w.-]+$/.test(folder)) {
    const full = modelFilePath(where, latestPath);
    throw new ModelDirError(
      full,
      `cannot load ${full}: bad folder name ${JSON.stringify(folder)}; ${DAMAGED}`,
    );
  }
  return `${MODEL_FILES.tfjs}/${folder}`;
}

/** Loads the VAE's two networks from the newest checkpoint. */
export async function readCheckpointNetworks(
  read: ReadCheckpointFile,
  where: string | undefined,
): Promise<VaeNetworks> {
  const folder = await latestCheckpointFolder(read, where);
  const [enc, dec] = await Promise.all([
    readLayersModel(read, `${folder}/encoder`, where),
    readLayersModel(read, `${folder}/decoder`, where),
  ]);
  return { encoder: enc, decoder: dec };
}

/**
 * Loads the training state and optimizer variables saved with the newest checkpoint.
 * @throws ModelDirError naming state.json or optimizer.bin when missing or damaged.
 */
export async function readTrainingState(
  read: ReadCheckpointFile,
  where: string | undefined,
): Promise<{ state: TrainingState; optimizerWeights: OptimizerWeights }> {
  const folder = await latestCheckpointFolder(read, where);
  const statePath = `${folder}/state.json`;
  const state = parseJson<TrainingState>(await required(read, statePath, where), statePath, where);
  const bytes = await required(read, `${folder}/optimizer.bin`, where);
  const map = tf.io.decodeWeights(arrayBufferOf(bytes), state.optimizerSpecs);
  return {
    state,
    optimizerWeights: state.optimizerSpecs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor })),
  };
}

/**
 * Writes a checkpoint: the networks (and the training state, when given) into a new step folder,
 * then latest.json, last, so that a crash at any point leaves the previous checkpoint usable.
 * @returns the new folder's path inside the model directory.
 */
export async function writeCheckpoint(
  write: WriteCheckpointFile,
  nets: VaeNetworks,
  training?: { state: Omit<TrainingState, 'optimizerSpecs'>; optimizerWeights: OptimizerWeights },
): Promise<string> {
  const name = checkpointFolderName(training?.state.globalStep ?? 0);
  const folder = `${MODEL_FILES.tfjs}/${name}`;
  for (const [part, model] of [
    ['encoder', nets.encoder],
    ['decoder', nets.decoder],
  ] as const) {
    const files = await layersModelFiles(model);
    await write(`${folder}/${part}/weights.bin`, files.weights);
    await write(`${folder}/${part}/model.json`, files.manifest);
  }
  if (training) {
    const { data, specs } = await tf.io.encodeWeights(training.optimizerWeights);
    await write(`${folder}/optimizer.bin`, toBytes(data));
    const state: TrainingState = { ...training.state, optimizerSpecs: specs };
    await write(`${folder}/state.json`, encoder.encode(JSON.stringify(state)));
  }
  await write(`${MODEL_FILES.tfjs}/${LATEST_FILE}`, encoder.encode(JSON.stringify({ folder: name })));
  return folder;
}

/**
 * Checks that card.json describes the checkpoint's networks: the encoder gives 2 × latentDim values
 * (mu, logvar; in one output or two) from an example of inputShape's size, and the decoder takes latentDim.
 * @throws ModelDirError naming card.json and both numbers.
 */
export function checkCardAgainstNetworks(
  card: ModelCard,
  nets: VaeNetworks,
  where: string | undefined,
): void {
  const path = modelFilePath(where, MODEL_FILES.card);
  const size = (shape: readonly (number | null)[]) =>
    shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  const found: [string, number, number][] = [
    // One output [N, 2L] (mu then logvar), or two outputs [N, L] (networks of the user's own).
    [
      'latentDim',
      card.latentDim,
      nets.encoder.outputs.length === 2
        ? (nets.encoder.outputs[0]?.shape.at(-1) ?? 0)
        : (nets.encoder.outputs[0]?.shape.at(-1) ?? 0) / 2,
    ],
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

/**
 * The id of the networks' weights (see core/weights-id.ts): the encoder's weights then the
 * decoder's, in their layers' order, read asynchronously (GPU backends too).
 */
export async function weightsIdOfNetworks(nets: VaeNetworks): Promise<string> {
  const values: Float32Array[] = [];
  for (const model of [nets.encoder, nets.decoder]) {
    for (const w of model.weights) values.push((await w.read().data()) as Float32Array);
  }
  return weightsIdOf(values);
}
