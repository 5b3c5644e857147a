/**
 * The anomaly scores, each from the model's own statistics of an example (see statistics.ts), higher
 * meaning more unusual, and their calibration on the model's own data (card.json's `anomaly`).
 *
 * - `dose` (the default): how atypical the example's statistics are among the model's training
 *   data, after the "density of states" of Morningstar et al. (2021). Each statistic is mapped through
 *   its reference distribution to a standard-normal z, and the score is (Σ z⁴)^¼: two-sided, so an
 *   example the model finds too easy (a blank or blurred image, a digit under a clothing model, which
 *   raw likelihood ranks as more normal than clothes) is as unusual as one it fits badly.
 * - `nll`: −log p(x) by importance sampling, nats (in the data's units for standardized models).
 * - `neg-elbo`: the negative ELBO, distortion + rate, nats.
 * - `bits-per-dim`: −log₂ p(x) of the 8-bit image per value (Bernoulli models).
 * - `complexity`: −log₂ p(x) of the 8-bit image minus its PNG size in bits, the input-complexity
 *   correction of Serrà et al. (2020) (Bernoulli models of images).
 */
import {
  type AnomalyCalibration,
  CALIBRATION_P,
  SCORE_NAMES,
  type ScoreName,
  type StatisticName,
} from '../../core/anomaly-card.js';
import { gaussianize, percentileOf, quantileTable, referenceTable, thresholdAt } from './quantiles.js';
import type { ExampleStatistics } from './statistics.js';

export type { AnomalyCalibration, ScoreName } from '../../core/anomaly-card.js';
export { SCORE_NAMES } from '../../core/anomaly-card.js';

/** The default false-alarm rate of a verdict: 1 % of the model's own held-out data is flagged. */
export const DEFAULT_FALSE_ALARM_RATE = 0.01;

/** The statistics `dose` combines, per likelihood. */
export function doseStatistics(bernoulli: boolean): StatisticName[] {
  return bernoulli ? ['nll', 'bitsPerDim', 'rate', 'misfit'] : ['nll', 'rate', 'distortion', 'misfit'];
}

/** What scoring needs besides the statistics. */
export interface ScoreContext {
  /** Added to −log p(x) to give it in the data's units (Σ log std of a standardized model; else 0). */
  nllShift: number;
  /** Values per example. */
  dims: number;
  /** PNG bits of each example, for `complexity` (undefined: that score is not computed). */
  pngBits?: Float64Array;
  /** The dose reference (undefined: `dose` is not computed). */
  reference?: AnomalyCalibration['reference'];
}

/** Which scores can be computed for a model with this likelihood (complexity: of images only). */
export function availableScores(bernoulli: boolean, hasReference: boolean, isImage: boolean): ScoreName[] {
  return SCORE_NAMES.filter((name) => {
    if (name === 'dose') return hasReference;
    if (name === 'bits-per-dim') return bernoulli;
    if (name === 'complexity') return bernoulli && isImage;
    return true;
  });
}

/**
 * The `dose` score of each example: (Σ z⁴)^¼ over its statistics' z under the reference tables, a
 * 4-norm in units of z. An example far out on one statistic (z = 5) scores about 5 whatever the
 * others say, where a sum of squares would let three typical statistics dilute it; several
 * moderately unusual ones still add up.
 */
export function doseScores(
  stats: ExampleStatistics,
  reference: AnomalyCalibration['reference'],
): Float64Array {
  const n = stats.nll.length;
  const out = new Float64Array(n);
  for (const [name, table] of Object.entries(reference.statistics) as [StatisticName, number[]][]) {
    const values = stats[name];
    if (values === undefined)
      throw new Error(`cannot compute the dose score: no "${name}" statistic for this model`);
    for (let i = 0; i < n; i++) {
      const z = gaussianize(table, values[i] as number);
      out[i] = (out[i] as number) + z * z * z * z;
    }
  }
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(Math.sqrt(out[i] as number));
  return out;
}

/** Every score that `ctx` allows, from the statistics of a batch. */
export function scoresFromStatistics(
  stats: ExampleStatistics,
  ctx: ScoreContext,
): Partial<Record<ScoreName, Float64Array>> {
  const n = stats.nll.length;
  const out: Partial<Record<ScoreName, Float64Array>> = {
    nll: stats.nll.map((v) => v + ctx.nllShift),
    'neg-elbo': Float64Array.from(
      { length: n },
      (_, i) => (stats.distortion[i] as number) + (stats.rate[i] as number) + ctx.nllShift,
    ),
  };
  if (ctx.reference) out.dose = doseScores(stats, ctx.reference);
  if (stats.bitsPerDim) {
    out['bits-per-dim'] = stats.bitsPerDim;
    if (ctx.pngBits) {
      const bits = ctx.pngBits;
      const D = stats.bitsPerDim;
      // bits per dim × dims: the whole image's bits under the model, less the compressor's.
      out.complexity = Float64Array.from(
        { length: n },
        (_, i) => (D[i] as number) * ctx.dims - (bits[i] as number),
      );
    }
  }
  return out;
}

/** The reference tables of the `dose` statistics, from the statistics of the model's training data. */
export function referenceFrom(
  stats: ExampleStatistics,
  bernoulli: boolean,
  split: string,
): AnomalyCalibration['reference'] {
  const statistics: Partial<Record<StatisticName, number[]>> = {};
  for (const name of doseStatistics(bernoulli))
    statistics[name] = referenceTable(stats[name] as Float64Array);
  return { split, examples: stats.nll.length, statistics };
}

/** The calibration tables of each score, from its values on held-out data. */
export function calibrationFrom(
  scores: Partial<Record<ScoreName, Float64Array>>,
  split: string,
  examples: number,
): AnomalyCalibration['calibration'] {
  const tables: Partial<Record<ScoreName, number[]>> = {};
  for (const name of SCORE_NAMES) {
    const values = scores[name];
    if (values) tables[name] = quantileTable(values, CALIBRATION_P);
  }
  return { split, examples, scores: tables };
}

/** A score's percentiles among the held-out data and its verdicts at `falseAlarmRate`. */
export interface Verdicts {
  percentiles: Float64Array;
  anomalous: boolean[];
  threshold: number;
  falseAlarmRate: number;
}

/** Percentiles and verdicts of `values` under a score's calibration table. */
export function verdicts(values: Float64Array, table: readonly number[], falseAlarmRate: number): Verdicts {
  const threshold = thresholdAt(table, falseAlarmRate);
  return {
    percentiles: values.map((v) => percentileOf(table, v)),
    anomalous: Array.from(values, (v) => Number.isNaN(v) || v > threshold),
    threshold,
    falseAlarmRate,
  };
}
