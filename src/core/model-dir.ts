/**
 * The model directory, the one thing train, export and runtime share: its file names, the schema of
 * card.json, how a directory (or a URL, or bytes) is read, and the errors that name the file at
 * fault and say what to do. Platform-neutral: the doors bring the way to read a file.
 *
 * ```
 * card.json      model card (optional for the runtime; the trainer and the exporter rely on it)
 * encoder.onnx   x → mu, logvar      (optional: encode, reconstruct and score need it)
 * decoder.onnx   z → x_hat [, logits]
 * decoder.fp16.onnx   the same decoder with half-float weights, for pages (optional)
 * tfjs/          the trainer's checkpoint
 * ```
 */

import { type AnomalyCalibration, checkAnomalyCalibration } from './anomaly-card.js';
import type { Normalization } from './normalization.js';

/** The card's format tag; bumped when a field changes meaning. */
export const CARD_FORMAT = 'vae-onnx/card@1';

/** Where each part of a model directory lives, relative to the directory. */
export const MODEL_FILES = Object.freeze({
  card: 'card.json',
  encoderOnnx: 'encoder.onnx',
  decoderOnnx: 'decoder.onnx',
  decoderFp16Onnx: 'decoder.fp16.onnx',
  tfjs: 'tfjs',
});

/** The networks the trainer builds from flags. */
export type BuiltinArch = 'mlp' | 'conv';
/** What card.json says of the networks: a built-in, or networks of the caller's own (`networks`). */
export type Arch = BuiltinArch | 'custom';
/** Likelihoods p(x|z) the trainer fits. */
export type Likelihood = 'bernoulli' | 'gaussian';

/** How the model was trained. */
export interface TrainingRecord {
  /** Epochs run in all (fewer than asked when early stopping ended the run). */
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  steps: number;
  backend: string;
  seconds: number;
  examplesPerSec: number;
  trainExamples: number;
  valExamples?: number;
  /** Data-parallel worker threads; 1 when the main thread trained alone. */
  workers?: number;
  stoppedEarly?: boolean;
}

/** The objective's settings: β weight on the KL term, KL warm-up and free bits. */
export interface ObjectiveRecord {
  beta: number;
  warmupEpochs: number;
  /** Nats per latent dimension below which the KL term is not pushed down (0: off). */
  freeBits: number;
}

/** Parameters of p(x|z) that live outside the decoder network. */
export interface LikelihoodParams {
  /** Gaussian only: whether the variance was fixed or learned. */
  variance?: 'fixed' | 'learned';
  /** Gaussian only: log σ², shared by every value. */
  logVariance?: number;
}

/** Figures measured on held-out data, in nats per example. */
export interface CardMetrics {
  split: string;
  examples: number;
  negElbo: number;
  recon: number;
  kl: number;
  /** Importance-weighted NLL bound with `iw` samples, on the first `iwExamples` examples. */
  iwaeNll?: number | null;
  iw?: number;
  iwExamples?: number;
  activeUnits?: number;
}

/** The contents of card.json of a model this project trained. */
export interface ModelCard {
  format: typeof CARD_FORMAT;
  origin?: undefined;
  arch: Arch;
  /** Shape of one example, [H, W, C] for images or [D]. */
  inputShape: number[];
  latentDim: number;
  /** MLP: the width of the first hidden layer (all of them in `hidden`). Conv cards from before `filters` have it too. */
  hiddenDim?: number;
  /** MLP: the hidden layers' widths, encoder order (the decoder mirrors them). */
  hidden?: number[];
  /** Conv: filters per level, encoder order (the decoder mirrors them). */
  filters?: number[];
  /** Networks of the caller's own: the layer classes of each, and their parameter count. */
  networks?: { encoder: string[]; decoder: string[]; params: number };
  likelihood: Likelihood;
  likelihoodParams?: LikelihoodParams;
  /**
   * Per-feature standardisation the model was trained under: the networks see (x − mean) / std,
   * and every runtime applies it, so values go in and come out in the data's own units. The
   * metrics are in those units too.
   */
  normalization?: Normalization;
  objective?: ObjectiveRecord;
  dataset: string;
  training: TrainingRecord;
  metrics?: CardMetrics;
  /** The command line that produced the model, when it came from the CLI. */
  command?: string;
  /**
   * The anomaly scores' reference and calibration on the model's own data (training data and
   * held-out data), so that every door gives the same percentiles and verdicts.
   */
  anomaly?: AnomalyCalibration;
  /**
   * The id of the weights the card was written for (see core/weights-id.ts); the ONNX files carry
   * the same, and a mix is refused at load.
   */
  weightsId?: string;
  packageVersion: string;
}

/**
 * card.json of a model exported by another tool, written by `vae calibrate` to hold its anomaly
 * calibration: what the runtime needs, no training record.
 */
export interface ForeignCard {
  format: typeof CARD_FORMAT;
  origin: 'foreign';
  inputShape: number[];
  latentDim: number;
  likelihood: Likelihood;
  likelihoodParams?: LikelihoodParams;
  normalization?: Normalization;
  /** The data the calibration was measured on. */
  dataset: string;
  anomaly?: AnomalyCalibration;
  packageVersion: string;
}

/** Any card.json the runtime reads: a trained model's, or a foreign model's. */
export type AnyCard = ModelCard | ForeignCard;

/** The largest |mean| and std (and the inverse of the smallest std) a standardized model may have. */
const NORMALIZATION_LIMIT = 1e30;

function fail(field: string, expected: string, got: unknown): never {
  const text = JSON.stringify(got);
  throw new TypeError(
    `card.json: "${field}" must be ${expected}, got ${text === undefined ? 'nothing' : text.length > 80 ? `${text.slice(0, 77)}...` : text}`,
  );
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    fail(field, 'a positive integer', value);
  return value;
}

/**
 * Checks a parsed card.json and returns it typed.
 * @throws TypeError naming the first field that does not fit.
 */
export function parseCard(value: unknown): AnyCard {
  if (typeof value !== 'object' || value === null) fail('(root)', 'an object', value);
  const card = value as Record<string, unknown>;
  if (card.format !== CARD_FORMAT) fail('format', `"${CARD_FORMAT}"`, card.format);
  const foreign = card.origin === 'foreign';
  if (card.origin !== undefined && !foreign) fail('origin', '"foreign" or absent', card.origin);
  if (!foreign && card.arch !== 'mlp' && card.arch !== 'conv' && card.arch !== 'custom') {
    fail('arch', '"mlp", "conv" or "custom"', card.arch);
  }
  if (!Array.isArray(card.inputShape) || card.inputShape.length === 0) {
    fail('inputShape', 'a non-empty array of positive integers', card.inputShape);
  }
  for (const [i, d] of card.inputShape.entries()) positiveInt(d, `inputShape[${i}]`);
  positiveInt(card.latentDim, 'latentDim');
  if (!foreign && card.arch === 'mlp') positiveInt(card.hiddenDim, 'hiddenDim');
  for (const key of ['hidden', 'filters'] as const) {
    const list = card[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) fail(key, 'a non-empty array of positive integers', list);
    for (const [i, d] of list.entries()) positiveInt(d, `${key}[${i}]`);
  }
  if (card.likelihood !== 'bernoulli' && card.likelihood !== 'gaussian') {
    fail('likelihood', '"bernoulli" or "gaussian"', card.likelihood);
  }
  if (!foreign && (typeof card.training !== 'object' || card.training === null))
    fail('training', 'an object', card.training);
  if (card.normalization !== undefined) {
    const n = card.normalization as { mean?: unknown; std?: unknown };
    const size = (card.inputShape as number[]).reduce((a, b) => a * b, 1);
    // Values float32 arithmetic can standardize and back: a mean past ±1e30, or a std outside
    // [1e-30, 1e30], overflows or divides to Infinity.
    for (const key of ['mean', 'std'] as const) {
      const v = n?.[key];
      const usable = (x: unknown) =>
        typeof x === 'number' &&
        Number.isFinite(x) &&
        (key === 'mean'
          ? Math.abs(x) <= NORMALIZATION_LIMIT
          : x >= 1 / NORMALIZATION_LIMIT && x <= NORMALIZATION_LIMIT);
      if (!Array.isArray(v) || v.length !== size || !v.every(usable)) {
        const bad = Array.isArray(v) ? v.findIndex((x) => !usable(x)) : -1;
        fail(
          bad >= 0 && Array.isArray(v) && v.length === size
            ? `normalization.${key}[${bad}]`
            : `normalization.${key}`,
          key === 'mean'
            ? `an array of ${size} numbers within ±1e30`
            : `an array of ${size} numbers from 1e-30 to 1e30`,
          bad >= 0 && Array.isArray(v) && v.length === size ? v[bad] : v,
        );
      }
    }
  }
  if (card.likelihoodParams !== undefined) {
    const p = card.likelihoodParams as { logVariance?: unknown; variance?: unknown };
    if (typeof p !== 'object' || p === null) fail('likelihoodParams', 'an object', p);
    if (
      p.logVariance !== undefined &&
      !(typeof p.logVariance === 'number' && Number.isFinite(p.logVariance) && Math.abs(p.logVariance) <= 40)
    ) {
      fail('likelihoodParams.logVariance', 'a number from -40 to 40 (log σ²)', p.logVariance);
    }
    if (p.variance !== undefined && p.variance !== 'fixed' && p.variance !== 'learned')
      fail('likelihoodParams.variance', '"fixed" or "learned"', p.variance);
  }
  if (card.anomaly !== undefined) checkAnomalyCalibration(card.anomaly);
  if (
    card.weightsId !== undefined &&
    !(typeof card.weightsId === 'string' && /^w-[0-9a-f]{16}$/.test(card.weightsId))
  )
    fail('weightsId', 'an id like "w-" and 16 hex digits', card.weightsId);
  return value as AnyCard;
}

/** Number of values in one example of the given shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A model directory that cannot be used: `file` is the path (or URL) of the file at fault, and the
 * message says what is wrong with it and what to do.
 */
export class ModelDirError extends Error {
  override name = 'ModelDirError';
  /** The file at fault, e.g. `models/digits/decoder.onnx`. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

/** `where` joined with a file name: a path, a URL, or just the name when the bytes came from memory. */
export function modelFilePath(where: string | undefined, file: string): string {
  if (where === undefined || where === '') return file;
  return where.endsWith('/') ? `${where}${file}` : `${where}/${file}`;
}

/** What to tell a user whose ONNX file is unusable. */
export function reexportHint(where: string | undefined): string {
  if (where !== undefined && /\.zip$/i.test(where)) {
    return 're-export the model directory it was made from (vae export DIR) and zip it again';
  }
  return where === undefined || /^[a-z]+:/i.test(where)
    ? 're-export the model (vae export DIR) and load the new files'
    : `re-export it with: vae export ${where}`;
}

/**
 * Parses the text of card.json.
 * @param path - where the text came from, for messages.
 * @throws ModelDirError naming the file, for invalid JSON or a field that does not fit.
 */
export function parseCardText(text: string, path: string): AnyCard {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelDirError(
      path,
      `cannot read ${path}: it is not valid JSON (${(error as Error).message}); fix or delete it (the runtime works without card.json)`,
      { cause: error },
    );
  }
  try {
    return parseCard(value);
  } catch (error) {
    throw new ModelDirError(path, `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads one file of a model directory: its bytes, or undefined when it does not exist. */
export type ReadModelFile = (file: string) => Promise<Uint8Array | undefined>;

/** The bytes of a model: decoder.onnx is required, encoder.onnx and the card are optional. */
export interface ModelBytes {
  /** encoder.onnx, or a function that fetches it when first needed (undefined when it does not exist). */
  encoder?: Uint8Array | (() => Promise<Uint8Array | undefined>);
  decoder: Uint8Array;
  /** The decoder's file name (decoder.onnx, or a variant such as decoder.fp16.onnx). */
  decoderFile?: string;
  card?: AnyCard;
  /** Where the files came from (a directory or a URL), for messages. */
  where?: string;
}

/**
 * Reads a model directory through `read`: decoder.onnx (required), card.json and encoder.onnx
 * (optional), in parallel. `preferDecoder` names a variant (such as decoder.fp16.onnx) read instead
 * when the directory has it. With `lazyEncoder`, encoder.onnx is read when first needed instead.
 * @throws ModelDirError naming the missing or unreadable file.
 */
export async function readModelFiles(
  read: ReadModelFile,
  where: string,
  options: { lazyEncoder?: boolean; preferDecoder?: string } = {},
): Promise<ModelBytes> {
  const readDecoder = async (): Promise<[Uint8Array | undefined, string]> => {
    const preferred = options.preferDecoder ? await read(options.preferDecoder) : undefined;
    if (preferred) return [preferred, options.preferDecoder as string];
    return [await read(MODEL_FILES.decoderOnnx), MODEL_FILES.decoderOnnx];
  };
  const [[decoder, decoderFile], cardBytes, encoder] = await Promise.all([
    readDecoder(),
    read(MODEL_FILES.card),
    options.lazyEncoder ? undefined : read(MODEL_FILES.encoderOnnx),
  ]);
  if (decoder === undefined) {
    const path = modelFilePath(where, decoderFile);
    throw new ModelDirError(path, `cannot load ${path}: it does not exist; ${reexportHint(where)}`);
  }
  const card =
    cardBytes === undefined
      ? undefined
      : parseCardText(new TextDecoder().decode(cardBytes), modelFilePath(where, MODEL_FILES.card));
  return {
    decoder,
    decoderFile,
    where,
    ...(card ? { card } : {}),
    ...(options.lazyEncoder ? { encoder: () => read(MODEL_FILES.encoderOnnx) } : encoder ? { encoder } : {}),
  };
}

/** One file of a model and the id of the weights it says it came from (undefined: it does not say). */
export interface WeightsClaim {
  file: string;
  id: string | undefined;
}

/**
 * Refuses files that came from different weights: card.json and the ONNX files each say which
 * weights they came from, and all that say must agree.
 * @throws ModelDirError naming the files and their ids, and what to do.
 */
export function checkWeightsIds(where: string | undefined, claims: readonly WeightsClaim[]): void {
  const said = claims.filter((c): c is { file: string; id: string } => c.id !== undefined);
  if (said.every((c) => c.id === said[0]?.id)) return;
  const path = modelFilePath(where, said[said.length - 1]?.file ?? MODEL_FILES.decoderOnnx);
  throw new ModelDirError(
    path,
    `cannot load ${where ?? 'the model'}: its files come from different weights (${said.map((c) => `${c.file}: ${c.id}`).join(', ')}); a write was interrupted or files were copied from another model: ${reexportHint(where)}`,
  );
}
