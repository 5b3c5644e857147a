import { CALIBRATION_P, REFERENCE_Z } from '../../core/anomaly-card.js';

/**
 * Distributions kept as quantile tables (what card.json stores of the model's own data), and the
 * two things done with them: mapping a value to a standard-normal z through a reference
 * distribution (for the density of states), and to a percentile through a calibration one.
 */

/** Φ, the standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The q-quantile of sorted values (linear interpolation between order statistics). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const at = Math.min(n - 1, Math.max(0, q * (n - 1)));
  const lo = Math.floor(at);
  const hi = Math.min(n - 1, lo + 1);
  return (sorted[lo] as number) + (at - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/** Values rounded to 7 significant digits: what card.json keeps (small, and the same text everywhere). */
function compact(v: number): number {
  return Number(v.toPrecision(7));
}

/** The table of `values` at `probabilities` (non-finite values are left out). */
export function quantileTable(values: ArrayLike<number>, probabilities: readonly number[]): number[] {
  const sorted = Float64Array.from(values)
    .filter((v) => Number.isFinite(v))
    .sort();
  return probabilities.map((p) => compact(quantileOfSorted(sorted, p)));
}

/** A reference table: the values at Φ(z) for z on REFERENCE_Z. */
export function referenceTable(values: ArrayLike<number>): number[] {
  return quantileTable(
    values,
    REFERENCE_Z.map((z) => normalCdf(z)),
  );
}

/**
 * Where `v` sits in a non-decreasing `table`, as a fractional index: interpolated between the two
 * entries around it, the middle of a run of entries equal to it, clamped to [0, length − 1].
 */
export function fractionalIndex(table: readonly number[], v: number): number {
  const last = table.length - 1;
  // lower: the first entry ≥ v; upper: the last entry ≤ v.
  let a = 0;
  let b = table.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if ((table[m] as number) < v) a = m + 1;
    else b = m;
  }
  const lower = a;
  a = 0;
  b = table.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if ((table[m] as number) <= v) a = m + 1;
    else b = m;
  }
  const upper = a - 1;
  if (upper < 0) return 0;
  if (lower > last) return last;
  if (lower <= upper) return (lower + upper) / 2;
  const t0 = table[upper] as number;
  const t1 = table[lower] as number;
  return upper + (v - t0) / (t1 - t0);
}

/** Linear interpolation of `grid` at a fractional index. */
function at(grid: readonly number[], index: number): number {
  const i = Math.min(grid.length - 2, Math.floor(index));
  const f = index - i;
  return (grid[i] as number) + f * ((grid[i + 1] as number) - (grid[i] as number));
}

/** The spread used where a table's tail is flat, so that extrapolation stays finite. */
function tailScale(table: readonly number[]): number {
  const spread = (table[table.length - 1] as number) - (table[0] as number);
  return spread > 0 ? spread / (table.length - 1) : Math.max(1e-12, Math.abs(table[0] as number) * 1e-6);
}

/** Points of a reference table over which its tails' slope is measured: one unit of z. */
const TAIL_POINTS = 10;

/**
 * The standard-normal z of `v` under a reference table (see referenceTable): interpolated inside
 * it, and beyond its ends extended linearly with the slope of its outermost unit of z, so
 * that farther values get larger |z|. NaN counts as infinitely far.
 */
export function gaussianize(table: readonly number[], v: number): number {
  const last = table.length - 1;
  const first = table[0] as number;
  const end = table[last] as number;
  if (Number.isNaN(v)) return Number.POSITIVE_INFINITY;
  if (v < first || v > end) {
    const low = v < first;
    const width = low ? (table[TAIL_POINTS] as number) - first : end - (table[last - TAIL_POINTS] as number);
    const perZ = width > 0 ? width / (TAIL_POINTS * 0.1) : tailScale(table);
    const z = low
      ? (REFERENCE_Z[0] as number) - (first - v) / perZ
      : (REFERENCE_Z[last] as number) + (v - end) / perZ;
    return Number.isFinite(z) ? z : low ? -1e12 : 1e12;
  }
  return at(REFERENCE_Z, fractionalIndex(table, v));
}

/** The percentile (0–100) of `v` under a calibration table (see CALIBRATION_P); NaN is 100. */
export function percentileOf(table: readonly number[], v: number): number {
  if (Number.isNaN(v)) return 100;
  if (v < (table[0] as number)) return 0;
  if (v > (table[table.length - 1] as number)) return 100;
  return 100 * at(CALIBRATION_P, fractionalIndex(table, v));
}

/** The threshold under a calibration table above which a share `rate` of the calibration data lies. */
export function thresholdAt(table: readonly number[], rate: number): number {
  const p = 1 - rate;
  let i = 0;
  while (i < CALIBRATION_P.length - 2 && (CALIBRATION_P[i + 1] as number) < p) i++;
  const pa = CALIBRATION_P[i] as number;
  const pb = CALIBRATION_P[i + 1] as number;
  const a = table[i] as number;
  const b = table[i + 1] as number;
  return a + ((p - pa) / (pb - pa)) * (b - a);
}
