import type { BuiltinArch, Likelihood, ModelCard } from '../core/model-dir.js';
import type { VaeNetworks } from '../tfjs/checkpoint.js';
import {
  type Architecture,
  architectureIdentity,
  architectureOf,
  describeArchitecture,
} from './architecture.js';
import type { BackendName } from './backend.js';
import type { Dataset } from './dataset.js';
import type { LoadDatasetOptions } from './datasets.js';
import { gigabytes, type MemoryEstimate, parameterCount, trainingBytes } from './memory-estimate.js';

/** Progress reported after every training step. */
export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  /** Mean negative ELBO of this step's batch. */
  loss: number;
  examplesPerSec: number;
  elapsedSec: number;
  etaSec: number;
}

/** Figures reported after every epoch (also one line of training-log.jsonl). */
export interface EpochReport {
  epoch: number;
  /** Mean negative ELBO of the epoch's training batches (β = 1, no free bits), nats per example. */
  trainLoss: number;
  /** The objective actually minimized (with β, warm-up and free bits), averaged over the epoch. */
  trainObjective: number;
  /** Single-sample negative ELBO on the validation split, or null without one. */
  valNegElbo: number | null;
  /** KL weight at the end of the epoch. */
  beta: number;
  examplesPerSec: number;
  seconds: number;
}

/** Options of `trainVae`; every field but `out` has a default in `DEFAULT_TRAIN_OPTIONS`. */
export interface TrainOptions {
  /** A dataset name for `loadDataset`, or a dataset already in memory. */
  dataset: string | Dataset;
  /** The model directory to write. */
  out: string;
  /** The built-in network: an MLP or a conv stack (ignored when `networks` are given). */
  arch: BuiltinArch;
  /** The latent size L (taken from `networks` when they are given). */
  latentDim: number;
  /** Hidden units of a one-layer MLP (ignored by the conv architecture; `hidden` gives several layers). */
  hiddenDim: number;
  /** MLP: every hidden layer's width, encoder order; the decoder mirrors them ([512, 256]). */
  hidden?: readonly number[];
  /**
   * Conv: filters per level, encoder order ([32, 64], the default, is the TF tutorial's network;
   * [32, 64, 128, 256] a four-level stack for 64×64 images).
   */
  filters?: readonly number[];
  /**
   * Networks of your own, tfjs-layers models: `encoder` x → [N, 2·L] (mu then logvar) or two
   * outputs [N, L]; `decoder` z [N, L] → logits (or Gaussian means) of x's shape. Checked before the
   * run starts; trained in place. Checkpoints, resume, export and every runtime work on them as on
   * the built-ins.
   */
  networks?: VaeNetworks;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  likelihood: Likelihood;
  /** Gaussian likelihood: a fixed σ (`sigma`) or a learned one. */
  variance: 'fixed' | 'learned';
  /** Gaussian likelihood with fixed variance: σ, in data units. */
  sigma: number;
  /** Weight of the KL term (β-VAE); 1 is the ELBO. */
  beta: number;
  /** Epochs over which the KL weight ramps linearly from 0 to β; 0 is no warm-up. */
  warmupEpochs: number;
  /** Free bits: nats per latent dimension (batch-averaged) below which KL is not penalized; 0 is off. */
  freeBits: number;
  /** Fraction of the training split held out for validation, seeded. */
  valFraction: number;
  /** Stop when the validation neg-ELBO has not improved for this many epochs; 0 is off. */
  patience: number;
  /** Continue the run checkpointed in `out` (same settings; `epochs` may be raised). */
  resume: boolean;
  /** Train into an `out` that holds a trained model, replacing it as the new run checkpoints. */
  force: boolean;
  backend: BackendName | 'auto';
  /** Data-parallel worker threads, each with its own wasm backend; `auto` uses them when they pay off. */
  workers: number | 'auto';
  /**
   * Standardize each feature with the training split's mean and std (kept in card.json, applied by
   * every runtime). `auto`: for `csv:` datasets with the Gaussian likelihood.
   */
  standardize: boolean | 'auto';
  /** Importance samples for the IWAE figure in card.json (0 skips it). */
  evalIw: number;
  /** Test examples for the IWAE figure in card.json. */
  evalIwLimit: number;
  /** Train on the first `trainLimit` examples only. */
  trainLimit?: number;
  /** Stop after this many steps in all (for smoke tests). */
  maxSteps?: number;
  /** Evaluate on the first `evalLimit` test and validation examples only. */
  evalLimit?: number;
  /** How to load the dataset when it is given by name. */
  datasetOptions?: LoadDatasetOptions;
  /** Recorded in card.json: the command that made the model. */
  command?: string;
  onStep?: (progress: StepProgress) => void;
  onEpoch?: (report: EpochReport) => void;
  /**
   * Called while the run's end is measured on the test split after the last epoch (examples done of
   * the total, per figure), so that a caller can show progress where training has none.
   */
  onFinishing?: (progress: { stage: string; done: number; total: number }) => void;
  /** Stops the run between two steps; the steps taken so far are kept (see trainVae's result). */
  signal?: AbortSignal;
  /**
   * Files the caller adds to the model directory at the end of the run (pictures, the ONNX files), by
   * name: written in one commit with card.json, so that the directory never holds a mix of runs.
   * Node's trainVae only.
   */
  finish?: (result: {
    card: ModelCard;
    networks: VaeNetworks;
    history: EpochReport[];
  }) => Promise<Record<string, string | Uint8Array>>;
  /**
   * The most memory the run may need, by the estimate made before anything is allocated (see
   * memory-estimate.ts). Default: half the machine's memory in Node, unlimited elsewhere.
   */
  maxMemoryBytes?: number;
}

/** Defaults: the seed's MLP (784-400-20), Bernoulli, batch 128, Adam 1e-3, on the embedded mnist-mini. */
export const DEFAULT_TRAIN_OPTIONS = Object.freeze({
  dataset: 'mnist-mini',
  arch: 'mlp' as BuiltinArch,
  latentDim: 20,
  hiddenDim: 400,
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  seed: 0,
  likelihood: 'bernoulli' as Likelihood,
  variance: 'fixed' as 'fixed' | 'learned',
  sigma: 1,
  beta: 1,
  warmupEpochs: 0,
  freeBits: 0,
  valFraction: 0.1,
  patience: 0,
  resume: false,
  force: false,
  backend: 'auto' as BackendName | 'auto',
  workers: 'auto' as number | 'auto',
  standardize: 'auto' as boolean | 'auto',
  evalIw: 100,
  evalIwLimit: 1000,
});

function positiveInt(o: TrainOptions, key: 'latentDim' | 'hiddenDim' | 'epochs' | 'batchSize'): void {
  if (!Number.isInteger(o[key]) || o[key] <= 0) {
    throw new RangeError(`trainVae: "${key}" must be a positive integer, got ${o[key]}`);
  }
}

function nonNegative(
  o: TrainOptions,
  key: 'beta' | 'warmupEpochs' | 'freeBits' | 'patience' | 'evalIw' | 'evalIwLimit',
): void {
  if (!Number.isFinite(o[key]) || o[key] < 0)
    throw new RangeError(`trainVae: "${key}" must be a number >= 0, got ${o[key]}`);
}

/**
 * With `networks`, the latent size is the decoder's input width; a `latentDim` given beside them
 * must agree.
 * @throws TypeError for networks that are not two tfjs-layers models, RangeError for a disagreement.
 */
export function withNetworkLatent<T extends Partial<TrainOptions>>(options: T, where = 'trainVae'): T {
  const nets = options.networks;
  if (nets === undefined) return options;
  const decoder = (nets as Partial<VaeNetworks>).decoder;
  const width = (decoder as { inputs?: { shape: (number | null)[] }[] } | undefined)?.inputs?.[0]?.shape?.[1];
  if (typeof width !== 'number') {
    throw new TypeError(
      `${where}: "networks.decoder" must be a tfjs-layers model taking [N, L] (the latent code), got ${decoder === undefined ? 'nothing' : 'something else'}`,
    );
  }
  if (options.latentDim !== undefined && options.latentDim !== width) {
    throw new RangeError(
      `${where}: "latentDim" is ${options.latentDim}, but "networks.decoder" takes codes of ${width}; leave latentDim out, or make them agree`,
    );
  }
  return { ...options, latentDim: width };
}

/** Checks every option and throws a RangeError or TypeError naming the first that does not fit. */
export function checkTrainOptions(o: TrainOptions): void {
  for (const key of ['latentDim', 'hiddenDim', 'epochs', 'batchSize'] as const) positiveInt(o, key);
  for (const key of ['beta', 'warmupEpochs', 'freeBits', 'patience', 'evalIw', 'evalIwLimit'] as const)
    nonNegative(o, key);
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate)) {
    throw new RangeError(`trainVae: "learningRate" must be a positive number, got ${o.learningRate}`);
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0)
    throw new RangeError(`trainVae: "seed" must be an integer >= 0, got ${o.seed}`);
  if (o.arch !== 'mlp' && o.arch !== 'conv')
    throw new TypeError(`trainVae: "arch" must be "mlp" or "conv", got ${JSON.stringify(o.arch)}`);
  if (o.likelihood !== 'bernoulli' && o.likelihood !== 'gaussian') {
    throw new TypeError(
      `trainVae: "likelihood" must be "bernoulli" or "gaussian", got ${JSON.stringify(o.likelihood)}`,
    );
  }
  if (o.variance !== 'fixed' && o.variance !== 'learned') {
    throw new TypeError(
      `trainVae: "variance" must be "fixed" or "learned", got ${JSON.stringify(o.variance)}`,
    );
  }
  if (!(o.sigma > 0) || !Number.isFinite(o.sigma))
    throw new RangeError(`trainVae: "sigma" must be a positive number, got ${o.sigma}`);
  if (!(o.valFraction >= 0 && o.valFraction < 1)) {
    throw new RangeError(`trainVae: "valFraction" must be in [0, 1), got ${o.valFraction}`);
  }
  if (o.standardize !== 'auto' && typeof o.standardize !== 'boolean') {
    throw new TypeError(
      `trainVae: "standardize" must be true, false or "auto", got ${JSON.stringify(o.standardize)}`,
    );
  }
  if (!(o.sigma >= 1e-4 && o.sigma <= 1e4)) {
    throw new RangeError(
      `trainVae: "sigma" (--sigma) must be from 1e-4 to 1e4, got ${o.sigma}: the Gaussian likelihood divides by σ², so a tinier σ makes every loss overflow`,
    );
  }
  for (const key of ['hidden', 'filters'] as const) {
    const list = o[key];
    if (list === undefined) continue;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > 32 ||
      !list.every((v) => Number.isInteger(v) && v > 0 && v <= 10_000_000)
    ) {
      throw new RangeError(
        `trainVae: "${key}" (--${key}) must be a list of 1 to 32 positive integers such as ${key === 'hidden' ? '[512, 256]' : '[32, 64, 128, 256]'}, got ${JSON.stringify(list)}`,
      );
    }
  }
  if (o.latentDim > 65_536 || o.hiddenDim > 10_000_000) {
    throw new RangeError(
      `trainVae: "latentDim" (--latent) must be at most 65536 and "hiddenDim" (--hidden) at most 10000000, got ${o.latentDim} and ${o.hiddenDim}`,
    );
  }
  if (o.workers !== 'auto' && !(Number.isInteger(o.workers) && o.workers >= 1)) {
    throw new RangeError(
      `trainVae: "workers" must be "auto" or a positive integer, got ${String(o.workers)}`,
    );
  }
}

/** The settings a resumed run must share with the run it continues. */
export function runIdentity(o: TrainOptions, dataset: string): Record<string, unknown> {
  const a = architectureOf(o);
  return {
    dataset,
    arch: a.kind === 'custom' ? 'custom' : o.arch,
    latentDim: o.latentDim,
    hiddenDim: a.kind === 'mlp' ? a.hidden[0] : o.hiddenDim,
    ...architectureIdentity(a),
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    likelihood: o.likelihood,
    variance: o.variance,
    sigma: o.sigma,
    beta: o.beta,
    warmupEpochs: o.warmupEpochs,
    freeBits: o.freeBits,
    valFraction: o.valFraction,
    trainLimit: o.trainLimit ?? null,
  };
}

/**
 * Refuses a run whose estimated memory (see trainingBytes) is over `limit`, naming the options (and
 * their flags) that set the model's size, the estimate and the limit.
 * @throws RangeError before anything is allocated.
 */
export function checkTrainingMemory(
  o: TrainOptions,
  inputShape: readonly number[],
  workers: number,
  limit: number,
): MemoryEstimate {
  const a: Architecture = architectureOf(o);
  const params = parameterCount(a, inputShape, o.latentDim);
  const bytes = trainingBytes(params, workers);
  if (bytes > limit) {
    const flags =
      a.kind === 'mlp'
        ? `"hidden" (--hidden) ${a.hidden.join(',')}, `
        : a.kind === 'conv'
          ? `"filters" (--filters) ${a.filters.join(',')}, `
          : '';
    throw new RangeError(
      `trainVae: a VAE of ${Math.round(params / 1e6).toLocaleString('en-US')} M parameters (${describeArchitecture(a, inputShape, o.latentDim)}: ${flags}"latentDim" (--latent) ${o.latentDim}, inputs of [${inputShape.join(', ')}]) needs about ${gigabytes(bytes)} to train with ${workers} worker${workers === 1 ? '' : 's'}, more than the ${gigabytes(limit)} allowed ("maxMemoryBytes", --max-memory; default half this machine's memory): make the network smaller, or raise the limit`,
    );
  }
  return { params, bytes, limit };
}
