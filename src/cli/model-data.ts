/**
 * What the runtime commands (encode, decode, reconstruct, score, interpolate) share: loading a model
 * with onnxruntime-node, reading examples from a dataset, and writing PNG grids and CSV files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type AnyCard, MODEL_FILES, parseCardText, sizeOf } from '../core/model-dir.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { imageGrid } from '../node/png.js';
import { type LikelihoodOption, type NodeBackend, VaeModel } from '../runtime/node.js';
import type { Batch } from '../runtime/tensor-input.js';
import { randomSubset, type Split } from '../train/dataset.js';
import { loadDataset } from '../train/datasets.js';
import {
  choiceFlag,
  type FlagSpec,
  imageSizeFlag,
  intFlag,
  type ParsedArgs,
  stringFlag,
  UsageError,
} from './args.js';

/** Flags of every runtime command. */
export const MODEL_FLAGS: Record<string, FlagSpec> = Object.freeze({
  backend: {
    type: 'string',
    value: 'NAME',
    description:
      'auto (onnxruntime-node on the CPU when installed, else wasm), cpu, cuda, or wasm (onnxruntime-web in Node)',
    default: 'auto',
  },
});

/** Flags of the commands that read examples. */
export const DATA_FLAGS: Record<string, FlagSpec> = Object.freeze({
  dataset: {
    type: 'string',
    value: 'NAME',
    description: "dataset to read examples from (default: the card's)",
  },
  split: {
    type: 'string',
    value: 'S',
    description: 'test, train, or all (train then test: every row of a csv: file, in order)',
    default: 'test',
  },
  limit: {
    type: 'string',
    value: 'N',
    description: 'use N examples drawn at random (with --seed) from the split, kept in its order',
  },
  seed: { type: 'string', value: 'S', description: 'seed of --limit', default: '0' },
  'image-size': { type: 'string', value: 'HxWxC', description: 'size to convert png: images to' },
});

/** The flag that names p(x|z) for models whose card.json does not (a model exported by another tool). */
export const LIKELIHOOD_FLAG: Record<string, FlagSpec> = Object.freeze({
  likelihood: {
    type: 'string',
    value: 'L',
    description:
      'p(x|z) when card.json does not say it: bernoulli, or gaussian:LOGVAR with log σ² shared by every value',
  },
});

/**
 * The likelihood `--likelihood` names, or undefined when the flag is absent.
 * @throws UsageError for anything but `bernoulli` and `gaussian:<finite number>`.
 */
export function likelihoodFlag(cmd: string, args: ParsedArgs): LikelihoodOption | undefined {
  const raw = args.flags.likelihood;
  if (raw === undefined) return undefined;
  if (raw === 'bernoulli') return 'bernoulli';
  const m = /^gaussian:(.+)$/.exec(String(raw));
  const logVariance = Number(m?.[1]);
  if (m && m[1]?.trim() !== '' && Number.isFinite(logVariance)) return { kind: 'gaussian', logVariance };
  throw new UsageError(
    `vae ${cmd}: --likelihood must be bernoulli or gaussian:LOGVAR (log σ², e.g. gaussian:-2.3), got "${String(raw)}"`,
  );
}

/** Loads the model in DIR on the backend (and with the likelihood) the flags name. */
export async function loadModel(
  cmd: string,
  args: ParsedArgs,
  dir: string,
  options: { withoutAnomaly?: boolean } = {},
): Promise<VaeModel> {
  const backend = choiceFlag<NodeBackend>(cmd, args, 'backend', ['auto', 'cpu', 'cuda', 'wasm']);
  const likelihood = likelihoodFlag(cmd, args);
  const load = { backend, ...(likelihood ? { likelihood } : {}) };
  if (!options.withoutAnomaly) return VaeModel.load(dir, load);
  // The card without its anomaly section (which may be what is broken), the ONNX files as they are.
  const cardPath = join(dir, MODEL_FILES.card);
  const read = (file: string) =>
    existsSync(join(dir, file)) ? new Uint8Array(readFileSync(join(dir, file))) : undefined;
  const decoder = read(MODEL_FILES.decoderOnnx);
  if (!existsSync(cardPath) || decoder === undefined) return VaeModel.load(dir, load);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
  } catch {
    return VaeModel.load(dir, load);
  }
  delete raw.anomaly;
  const encoder = read(MODEL_FILES.encoderOnnx);
  return VaeModel.load(
    {
      decoder,
      ...(encoder ? { encoder } : {}),
      card: parseCardText(JSON.stringify(raw), cardPath),
      where: dir,
    },
    load,
  );
}

/** Examples of one split, checked against the model's input shape. */
export interface Examples {
  name: string;
  split: 'test' | 'train' | 'all';
  batch: Batch;
  labels: Uint8Array | undefined;
  /** Each example's name where the source names them (a PNG folder's files). */
  ids: string[] | undefined;
  /** Each example's index in the split (a random subset's are not 0, 1, 2…). */
  indices: Uint32Array;
}

/** Reads the examples the flags name, in the model's input shape. */
export async function loadExamples(cmd: string, args: ParsedArgs, model: VaeModel): Promise<Examples> {
  const card: AnyCard | undefined = model.card;
  const name = args.flags.dataset ?? card?.dataset;
  if (typeof name !== 'string') {
    throw new Error(`vae ${cmd}: the model has no card.json to name its dataset; pass --dataset`);
  }
  const split = choiceFlag(cmd, args, 'split', ['test', 'train', 'all']);
  const limit = args.flags.limit === undefined ? undefined : intFlag(cmd, args, 'limit', 1);
  const imageShape = imageSizeFlag(cmd, args);
  return examplesOf(cmd, model, name, split, {
    ...(limit === undefined ? {} : { limit }),
    seed: intFlag(cmd, args, 'seed', 0),
    ...(imageShape ? { imageShape } : {}),
  });
}

/**
 * The examples of one split of a dataset, in the model's input shape: all of them, or `limit` drawn
 * at random with `seed`.
 * @throws Error when the dataset's examples do not fit the model.
 */
export async function examplesOf(
  cmd: string,
  model: VaeModel,
  name: string,
  split: Examples['split'],
  options: { limit?: number; seed: number; imageShape?: [number, number, number] },
): Promise<Examples> {
  const data = await loadDataset(name, options.imageShape ? { imageShape: options.imageShape } : {});
  if (sizeOf(data.shape) !== sizeOf(model.inputShape)) {
    throw new Error(
      `cannot ${cmd}: the model takes examples of shape [${model.inputShape}], "${data.name}" has [${data.shape}]`,
    );
  }
  const whole = split === 'all' ? concatSplits(data.train, data.test, sizeOf(data.shape)) : data[split];
  const part = randomSubset(whole, sizeOf(data.shape), options.limit, options.seed);
  return {
    name: data.name,
    split,
    // A copy when the split lives in shared memory, which onnxruntime refuses.
    batch: { data: part.images.slice(), shape: [part.count, ...model.inputShape] },
    labels: part.labels,
    ids: part.ids,
    indices: part.indices,
  };
}

/** The train split followed by the test split (for sources split by holding out their last tenth: the file's order). */
function concatSplits(a: Split, b: Split, size: number): Split {
  const images = new Float32Array((a.count + b.count) * size);
  images.set(a.images.subarray(0, a.count * size));
  images.set(b.images.subarray(0, b.count * size), a.count * size);
  const labels =
    a.labels && b.labels
      ? Uint8Array.from([...a.labels.subarray(0, a.count), ...b.labels.subarray(0, b.count)])
      : undefined;
  const ids = a.ids && b.ids ? [...a.ids, ...b.ids] : undefined;
  return { images, count: a.count + b.count, ...(labels ? { labels } : {}), ...(ids ? { ids } : {}) };
}

/** Writes images with values in [0, 1] as a PNG grid, or says why the model's examples are not images. */
export async function writeGrid(path: string, images: Batch, columns?: number): Promise<void> {
  const [, ...example] = images.shape;
  if (example.length !== 3 && example.length !== 2) {
    throw new Error(`cannot draw ${path}: the model's examples have shape [${example}], not [H, W, C]`);
  }
  await writeFileAtomic(path, imageGrid(images.data, images.shape, columns === undefined ? {} : { columns }));
}

/**
 * A path flag whose default starts with DIR/, resolved against the model directory; for a zipped
 * model, beside the zip (`x.zip` → `x-samples.png`), since nothing can be written inside it.
 */
export function pathFlag(cmd: string, args: ParsedArgs, name: string, dir: string): string {
  const zipped = /\.zip$/i.test(dir) && existsSync(dir) && statSync(dir).isFile();
  return stringFlag(cmd, args, name).replace(/^DIR\//, zipped ? `${dir.replace(/\.zip$/i, '')}-` : `${dir}/`);
}

/** A text cell for CSV: quoted when it holds a comma, a quote or a line break. */
export function csvText(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Writes rows of numbers as CSV with a header, atomically. */
export async function writeCsv(
  path: string,
  header: readonly string[],
  rows: readonly (readonly (number | string)[])[],
): Promise<void> {
  const lines = [header.join(','), ...rows.map((r) => r.join(','))];
  await writeFileAtomic(path, `${lines.join('\n')}\n`);
}
