/**
 * How well a score tells two sets apart (out-of-distribution detection, the positive class being the
 * out-of-distribution set and higher scores meaning "more unusual"): AUROC, AUPRC, the false-positive
 * rate at 95 % true-positive rate, and the rates at a given threshold. Ties count half, as the
 * Mann–Whitney statistic counts them. Pure arithmetic.
 */

/** The detection figures of a score on an in-distribution and an out-of-distribution set. */
export interface DetectionFigures {
  /** Area under the ROC curve: P(score of an OOD example > score of an in-distribution one). */
  auroc: number;
  /** Area under the precision-recall curve (average precision), OOD positive. */
  auprc: number;
  /** The share of in-distribution examples flagged at the threshold that flags 95 % of the OOD set. */
  fpr95: number;
}

/** Values sorted descending with their class (1: OOD), ties kept together. */
function ranked(inSet: ArrayLike<number>, oodSet: ArrayLike<number>): { value: number; ood: number }[] {
  const all: { value: number; ood: number }[] = [];
  // NaN means "cannot be scored": the most unusual of all.
  const v = (x: number) => (Number.isNaN(x) ? Number.POSITIVE_INFINITY : x);
  for (let i = 0; i < inSet.length; i++) all.push({ value: v(inSet[i] as number), ood: 0 });
  for (let i = 0; i < oodSet.length; i++) all.push({ value: v(oodSet[i] as number), ood: 1 });
  return all.sort((a, b) => b.value - a.value);
}

/**
 * The ROC curve, from the highest threshold down: (false-positive rate, true-positive rate) after
 * each group of tied values.
 */
export function rocCurve(
  inSet: ArrayLike<number>,
  oodSet: ArrayLike<number>,
): { fpr: number[]; tpr: number[] } {
  const all = ranked(inSet, oodSet);
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; ) {
    const value = all[i]?.value;
    while (i < all.length && all[i]?.value === value) {
      if (all[i]?.ood) tp++;
      else fp++;
      i++;
    }
    fpr.push(fp / Math.max(1, inSet.length));
    tpr.push(tp / Math.max(1, oodSet.length));
  }
  return { fpr, tpr };
}

/**
 * AUROC, AUPRC and FPR at 95 % TPR of a score (OOD positive).
 * @throws RangeError when either set is empty.
 */
export function detectionFigures(inSet: ArrayLike<number>, oodSet: ArrayLike<number>): DetectionFigures {
  if (inSet.length === 0 || oodSet.length === 0) {
    throw new RangeError(
      `detectionFigures: both sets need examples, got ${inSet.length} in-distribution and ${oodSet.length} out-of-distribution`,
    );
  }
  const all = ranked(inSet, oodSet);
  let tp = 0;
  let fp = 0;
  let auroc = 0;
  let auprc = 0;
  let fpr95 = Number.NaN;
  const P = oodSet.length;
  const N = inSet.length;
  for (let i = 0; i < all.length; ) {
    const value = all[i]?.value;
    let groupTp = 0;
    let groupFp = 0;
    while (i < all.length && all[i]?.value === value) {
      if (all[i]?.ood) groupTp++;
      else groupFp++;
      i++;
    }
    // Each in-distribution example of the group ranks below every OOD one before it, and ties with
    // (half counts) the group's own.
    auroc += groupFp * (tp + groupTp / 2);
    tp += groupTp;
    fp += groupFp;
    // Average precision: precision at this threshold for each positive it adds.
    if (groupTp > 0) auprc += (groupTp / P) * (tp / (tp + fp));
    if (Number.isNaN(fpr95) && tp / P >= 0.95) fpr95 = fp / N;
  }
  return { auroc: auroc / (P * N), auprc, fpr95 };
}

/** The shares of each set past `threshold`: false alarms among in-distribution, detections among OOD. */
export function ratesAt(
  inSet: ArrayLike<number>,
  oodSet: ArrayLike<number>,
  threshold: number,
): { falseAlarms: number; detections: number } {
  const past = (xs: ArrayLike<number>) => {
    let n = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      if (Number.isNaN(x) || x > threshold) n++;
    }
    return n / Math.max(1, xs.length);
  };
  return { falseAlarms: past(inSet), detections: past(oodSet) };
}
