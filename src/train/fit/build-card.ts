/** card.json of a finished run, built from its settings, history and test figures. Pure. */
import { CARD_FORMAT, type ModelCard } from '../../core/model-dir.js';
import type { EvaluationReport } from '../evaluate.js';
import type { EpochReport, TrainOptions } from '../options.js';

function round(x: number, digits: number): number {
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
  packageVersion: string;
}

/** The model card of a finished run. */
export function buildCard(r: FinishedRun): ModelCard {
  const o = r.options;
  const seconds = r.history.reduce((t, h) => t + h.seconds, 0);
  return {
    format: CARD_FORMAT,
    arch: o.arch,
    inputShape: r.inputShape,
    latentDim: o.latentDim,
    hiddenDim: o.hiddenDim,
    likelihood: o.likelihood,
    ...(r.logVariance === undefined
      ? {}
      : { likelihoodParams: { variance: o.variance, logVariance: round(r.logVariance, 6) } }),
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
      split: 'test',
      examples: r.test.examples,
      negElbo: round(r.test.negElbo, 4),
      recon: round(r.test.recon, 4),
      kl: round(r.test.kl, 4),
      iwaeNll: r.test.iwaeNll === null ? null : round(r.test.iwaeNll, 4),
      iw: r.test.iw,
      iwExamples: r.test.iwExamples,
      activeUnits: r.test.activeUnits,
    },
    ...(o.command === undefined ? {} : { command: o.command }),
    packageVersion: r.packageVersion,
  };
}
