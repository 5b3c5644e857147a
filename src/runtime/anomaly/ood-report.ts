/**
 * How well each anomaly score of a model tells an in-distribution set from an out-of-distribution
 * one (what `vae ood` prints): AUROC, AUPRC and FPR at 95 % TPR for every score the model offers,
 * beside the PNG size of the images (a statistic that uses no model), and the rates at the model's
 * calibrated threshold.
 */
import type { ScoreName } from '../../core/anomaly-card.js';
import { type DetectionFigures, detectionFigures, ratesAt } from '../../core/detection-metrics.js';
import type { Batch } from '../tensor-input.js';
import type { AnomalyResult, ScoreOptions, VaeModel } from '../vae-model.js';
import { pngBits } from './png-bits.js';
import { thresholdAt } from './quantiles.js';

/** The baseline that uses no model: the PNG-compressed size of the image, in bits. */
export const PNG_SIZE = 'png-size';

/** One score's figures on the two sets, and its rates at the model's calibrated threshold. */
export interface OodRow extends DetectionFigures {
  name: ScoreName | typeof PNG_SIZE;
  threshold?: number;
  /** Share of the in-distribution set past the threshold. */
  falseAlarms?: number;
  /** Share of the out-of-distribution set past the threshold. */
  detections?: number;
  /** The no-model baseline was turned around (lower is more unusual) because that separates the sets better. */
  reversed?: boolean;
}

/** A score's values on the two sets. */
export interface OodPair {
  name: OodRow['name'];
  in: Float64Array;
  ood: Float64Array;
}

/** Everything `oodReport` measured. */
export interface OodReport {
  /** The default score first, then every other score, then the baseline (images only). */
  rows: OodRow[];
  pairs: OodPair[];
  results: { in: AnomalyResult; ood: AnomalyResult };
}

/**
 * Scores both sets with every score the model offers (the default one first) and measures how well
 * each separates them, the out-of-distribution set being the positive class. For images with values
 * in [0, 1], the PNG size is added as a baseline, in whichever direction separates the sets better
 * (chosen with hindsight, which flatters it).
 */
export async function oodReport(
  model: VaeModel,
  inSet: Batch,
  oodSet: Batch,
  options: Omit<ScoreOptions, 'variants' | 'onProgress'> & {
    onProgress?: (set: 'in' | 'ood', done: number, total: number) => void;
  } = {},
): Promise<OodReport> {
  const { onProgress, ...rest } = options;
  const scoreSet = (set: 'in' | 'ood', batch: Batch) =>
    model.score(batch, {
      ...rest,
      variants: true,
      ...(onProgress ? { onProgress: (d: number, t: number) => onProgress(set, d, t) } : {}),
    });
  const results = { in: await scoreSet('in', inSet), ood: await scoreSet('ood', oodSet) };
  const main = results.in.score;
  const names = [main, ...(Object.keys(results.in.variants ?? {}) as ScoreName[]).filter((n) => n !== main)];
  const pairs: OodPair[] = names.map((name) => ({
    name,
    in: results.in.variants?.[name] as Float64Array,
    ood: results.ood.variants?.[name] as Float64Array,
  }));
  if (model.inputShape.length === 3 && model.likelihoodKind === 'bernoulli') {
    pairs.push({
      name: PNG_SIZE,
      in: await pngBits(inSet.data, model.inputShape),
      ood: await pngBits(oodSet.data, model.inputShape),
    });
  }
  const calibration = model.card?.anomaly;
  const rate = options.falseAlarmRate ?? calibration?.falseAlarmRate;
  const rows = pairs.map((p): OodRow => {
    const raw = detectionFigures(p.in, p.ood);
    if (p.name === PNG_SIZE) {
      const turned = detectionFigures(
        p.in.map((v) => -v),
        p.ood.map((v) => -v),
      );
      return turned.auroc > raw.auroc
        ? { name: p.name, ...turned, reversed: true }
        : { name: p.name, ...raw };
    }
    const table = calibration?.calibration.scores[p.name];
    if (table === undefined || rate === undefined || results.in.samples !== calibration?.samples) {
      return { name: p.name, ...raw };
    }
    const threshold = thresholdAt(table, rate);
    return { name: p.name, ...raw, threshold, ...ratesAt(p.in, p.ood, threshold) };
  });
  return { rows, pairs, results };
}
