/**
 * The model card: the one JSON file of a model directory that describes what the ONNX files and the
 * tfjs checkpoint hold. The runtime treats it as optional; the trainer and the exporter rely on it.
 */

/** The card's format tag; bumped when a field changes meaning. */
export const CARD_FORMAT = 'vae-onnx/card@1';

/** Where each part of a model directory lives, relative to the directory. */
export const MODEL_FILES = Object.freeze({
  card: 'card.json',
  encoderOnnx: 'encoder.onnx',
  decoderOnnx: 'decoder.onnx',
  tfjs: 'tfjs',
});

/** Architectures the trainer builds. */
export type Arch = 'mlp' | 'conv';
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

/** The contents of card.json. */
export interface ModelCard {
  format: typeof CARD_FORMAT;
  arch: Arch;
  /** Shape of one example, [H, W, C] for images or [D]. */
  inputShape: number[];
  latentDim: number;
  hiddenDim: number;
  likelihood: Likelihood;
  likelihoodParams?: LikelihoodParams;
  objective?: ObjectiveRecord;
  dataset: string;
  training: TrainingRecord;
  metrics?: CardMetrics;
  /** The command line that produced the model, when it came from the CLI. */
  command?: string;
  packageVersion: string;
}

function fail(field: string, expected: string, got: unknown): never {
  throw new TypeError(`card.json: "${field}" must be ${expected}, got ${JSON.stringify(got)}`);
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
export function parseCard(value: unknown): ModelCard {
  if (typeof value !== 'object' || value === null) fail('(root)', 'an object', value);
  const card = value as Record<string, unknown>;
  if (card.format !== CARD_FORMAT) fail('format', `"${CARD_FORMAT}"`, card.format);
  if (card.arch !== 'mlp' && card.arch !== 'conv') fail('arch', '"mlp" or "conv"', card.arch);
  if (!Array.isArray(card.inputShape) || card.inputShape.length === 0) {
    fail('inputShape', 'a non-empty array of positive integers', card.inputShape);
  }
  for (const [i, d] of card.inputShape.entries()) positiveInt(d, `inputShape[${i}]`);
  positiveInt(card.latentDim, 'latentDim');
  positiveInt(card.hiddenDim, 'hiddenDim');
  if (card.likelihood !== 'bernoulli' && card.likelihood !== 'gaussian') {
    fail('likelihood', '"bernoulli" or "gaussian"', card.likelihood);
  }
  if (typeof card.training !== 'object' || card.training === null)
    fail('training', 'an object', card.training);
  return value as ModelCard;
}

/** Number of values in one example of the given shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
