/** card.json of a finished run, built from its settings, history and test figures. Pure. */

import type { AnomalyCalibration } from '../../core/anomaly-card.js';
import { CARD_FORMAT, type ModelCard } from '../../core/model-dir.js';
import { logStdSum, type Normalization } from '../../core/normalization.js';
import { type Architecture, architectureOf, networksSummary } from '../architecture.js';
import type { EvaluationReport } from '../evaluate.js';
import type { EpochReport, TrainOptions } from '../options.js';

/** x rounded to `digits` decimals, as card.json keeps it. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** What a finished run contributes to its card. */
export interface FinishedRun {
  options: TrainOptions;
  datasetName: string;
  inputShape: number[];
  backend: string;
  workers: number;
  history: readonly EpochReport[];
  epochsDone: number;
  globalStep: number;
  trainExamples: number;
  valExamples: number;
  stoppedEarly: boolean;
  /** log σ² of a Gaussian likelihood, when there is one. */
  logVariance: number | undefined;
  test: EvaluationReport;
  /** Which split `test` was measured on (default `test`). */
  testSplit?: 'test' | 'validation' | 'train';
  /** The standardisation the networks were trained under, when there was one. */
  normalization: Normalization | undefined;
  /** The anomaly scores' reference and calibration on the run's own data. */
  anomaly?: AnomalyCalibration;
  /** The id of the trained weights (see core/weights-id.ts). */
  weightsId?: string;
  packageVersion: string;
}

/** What card.json records of the networks: the built-in and its sizes, or a summary of the caller's. */
function architectureRecord(
  a: Architecture,
): Pick<ModelCard, 'arch' | 'hiddenDim' | 'hidden' | 'filters' | 'networks'> {
  if (a.kind === 'mlp') return { arch: 'mlp', hiddenDim: a.hidden[0] as number, hidden: a.hidden };
  if (a.kind === 'conv') return { arch: 'conv', filters: a.filters };
  return { arch: 'custom', networks: networksSummary(a.networks) };
}

/**
 * The model card of a finished run. With standardized data, the figures that hold −log p(x|z)
 * (negElbo, recon, iwaeNll) are moved into the data's own units by Σ log std; KL is unchanged.
 */
export function buildCard(r: FinishedRun): ModelCard {
  const o = r.options;
  const seconds = r.history.reduce((t, h) => t + h.seconds, 0);
  const shift = r.normalization ? logStdSum(r.normalization) : 0;
  return {
    format: CARD_FORMAT,
    ...architectureRecord(architectureOf(o)),
    inputShape: r.inputShape,
    latentDim: o.latentDim,
    likelihood: o.likelihood,
    ...(r.logVariance === undefined
      ? {}
      : { likelihoodParams: { variance: o.variance, logVariance: round(r.logVariance, 6) } }),
    ...(r.normalization ? { normalization: r.normalization } : {}),
    objective: { beta: o.beta, warmupEpochs: o.warmupEpochs, freeBits: o.freeBits },
    dataset: r.datasetName,
    training: {
      epochs: r.epochsDone,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      seed: o.seed,
      steps: r.globalStep,
      backend: r.backend,
      seconds: round(seconds, 3),
      examplesPerSec: seconds > 0 ? round((r.globalStep * o.batchSize) / seconds, 1) : 0,
      trainExamples: r.trainExamples,
      valExamples: r.valExamples,
      workers: r.workers,
      stoppedEarly: r.stoppedEarly,
    },
    metrics: {
      split: r.testSplit ?? 'test',
      examples: r.test.examples,
      negElbo: round(r.test.negElbo + shift, 4),
      recon: round(r.test.recon + shift, 4),
      kl: round(r.test.kl, 4),
      iwaeNll: r.test.iwaeNll === null ? null : round(r.test.iwaeNll + shift, 4),
      iw: r.test.iw,
      iwExamples: r.test.iwExamples,
      activeUnits: r.test.activeUnits,
    },
    ...(o.command === undefined ? {} : { command: o.command }),
    ...(r.anomaly ? { anomaly: r.anomaly } : {}),
    ...(r.weightsId ? { weightsId: r.weightsId } : {}),
    packageVersion: r.packageVersion,
  };
}
