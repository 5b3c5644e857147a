/**
 * card.json's `anomaly` section: the anomaly scores' reference and calibration tables, measured on the
 * model's own data when it was trained (or by `vae calibrate`), so that every door gives the same
 * percentiles and verdicts. The scores themselves are computed in src/runtime/anomaly.
 */

/** Every anomaly score's name, the default first (see src/runtime/anomaly/scores.ts). */
export const SCORE_NAMES = Object.freeze(['dose', 'nll', 'neg-elbo', 'bits-per-dim', 'complexity'] as const);
/** An anomaly score's name. */
export type ScoreName = (typeof SCORE_NAMES)[number];

/** The per-example statistics the scores are made of (see src/runtime/anomaly/statistics.ts). */
export const STATISTIC_NAMES = Object.freeze(['nll', 'rate', 'distortion', 'misfit', 'bitsPerDim'] as const);
/** A statistic's name. */
export type StatisticName = (typeof STATISTIC_NAMES)[number];

/**
 * The z grid of a reference table: −2 to 2 in steps of 0.1 (41 points), the central 95 % of the
 * training data. Beyond it, values are extended along the slope of the outermost unit of z: a few
 * anomalies among the training data (common in tables of sensor readings) then cannot stretch the
 * tails so far that real anomalies look typical.
 */
export const REFERENCE_Z: readonly number[] = Object.freeze(
  Array.from({ length: 41 }, (_, i) => Math.round((-2 + 0.1 * i) * 10) / 10),
);

/**
 * The probabilities of a calibration table: every 0.5 % up to 98.5 %, every 0.1 % from 99 % to
 * 99.9 %, then 99.95 % and the maximum, so that thresholds at false-alarm rates from 10 % to 0.1 %
 * are read off finely.
 */
export const CALIBRATION_P: readonly number[] = Object.freeze([
  ...Array.from({ length: 198 }, (_, i) => (i * 5) / 1000),
  ...Array.from({ length: 10 }, (_, i) => (990 + i) / 1000),
  0.9995,
  1,
]);

/** What card.json keeps of the anomaly scores. */
export interface AnomalyCalibration {
  /** Bumped when a score's meaning changes. */
  version: 1;
  /** Draws of q(z|x) per example (K) the statistics use, and the seed of the draws. */
  samples: number;
  seed: number;
  /** The score `score` gives when the caller names none. */
  defaultScore: ScoreName;
  /**
   * The statistics the `dose` score combines, each as its values at Φ(z) for z on REFERENCE_Z,
   * measured on `examples` examples of the model's training data.
   */
  reference: { split: string; examples: number; statistics: Partial<Record<StatisticName, number[]>> };
  /**
   * Each score on `examples` held-out examples, as its values at the probabilities CALIBRATION_P:
   * percentiles and verdicts come from these.
   */
  calibration: { split: string; examples: number; scores: Partial<Record<ScoreName, number[]>> };
  /** The share of held-out examples a verdict flags, unless the caller names another. */
  falseAlarmRate: number;
}

function fail(field: string, expected: string, got: unknown): never {
  const text = JSON.stringify(got);
  throw new TypeError(
    `card.json: "anomaly.${field}" must be ${expected}, got ${text === undefined ? 'nothing' : text.length > 80 ? `${text.slice(0, 77)}...` : text} (vae calibrate DIR rewrites the anomaly section)`,
  );
}

/** A table of `length` finite, non-decreasing numbers. */
function checkTable(value: unknown, length: number, field: string): void {
  const ok =
    Array.isArray(value) &&
    value.length === length &&
    value.every(
      (v, i) => typeof v === 'number' && Number.isFinite(v) && (i === 0 || v >= (value[i - 1] as number)),
    );
  if (!ok) fail(field, `${length} finite numbers in non-decreasing order`, value);
}

function checkKeys(value: unknown, allowed: readonly string[], field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(field, `an object whose keys are among ${allowed.join(', ')}`, key);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks card.json's `anomaly` section, for use as well as for type: tables of the right length,
 * finite and ordered; a false-alarm rate strictly between 0 and 0.5.
 * @throws TypeError naming the field that does not fit.
 */
export function checkAnomalyCalibration(value: unknown): AnomalyCalibration {
  const a = checkKeys(
    value,
    ['version', 'samples', 'seed', 'defaultScore', 'reference', 'calibration', 'falseAlarmRate'],
    '(section)',
  );
  if (a.version !== 1) fail('version', '1', a.version);
  if (!Number.isInteger(a.samples) || (a.samples as number) < 1 || (a.samples as number) > 100_000)
    fail('samples', 'an integer from 1 to 100000', a.samples);
  if (!Number.isInteger(a.seed) || (a.seed as number) < 0) fail('seed', 'an integer >= 0', a.seed);
  if (!SCORE_NAMES.includes(a.defaultScore as ScoreName))
    fail('defaultScore', `one of ${SCORE_NAMES.join(', ')}`, a.defaultScore);
  const rate = a.falseAlarmRate;
  if (typeof rate !== 'number' || !(rate > 0 && rate < 0.5))
    fail('falseAlarmRate', 'a number between 0 and 0.5', rate);
  const reference = checkKeys(a.reference, ['split', 'examples', 'statistics'], 'reference');
  const statistics = checkKeys(reference.statistics, STATISTIC_NAMES, 'reference.statistics');
  if (Object.keys(statistics).length === 0) fail('reference.statistics', 'at least one table', statistics);
  for (const [name, table] of Object.entries(statistics))
    checkTable(table, REFERENCE_Z.length, `reference.statistics.${name}`);
  const calibration = checkKeys(a.calibration, ['split', 'examples', 'scores'], 'calibration');
  const scores = checkKeys(calibration.scores, SCORE_NAMES, 'calibration.scores');
  for (const [name, table] of Object.entries(scores))
    checkTable(table, CALIBRATION_P.length, `calibration.scores.${name}`);
  for (const part of [reference, calibration]) {
    if (typeof part.split !== 'string') fail('reference.split', 'a string', part.split);
    if (!Number.isInteger(part.examples) || (part.examples as number) < 1)
      fail('calibration.examples', 'a positive integer', part.examples);
  }
  return value as AnomalyCalibration;
}
