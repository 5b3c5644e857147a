/**
 * Feature standardisation for tabular data: the trainer fits a model to (x − mean) / std, card.json
 * keeps mean and std, and every runtime applies them, so callers give and get values in their own
 * units. −log p(x) in those units is −log p of the standardized x plus Σ log std.
 */

/** Per-feature mean and standard deviation, as card.json stores them. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** Standard deviations below this are taken as 1: a constant feature is left centred, not divided by ~0. */
const MIN_STD = 1e-8;

/**
 * The mean and standard deviation of each of the `columns` features over `count` rows of `values`
 * (float64 sums; population std).
 */
export function fitNormalization(values: Float32Array, count: number, columns: number): Normalization {
  const mean = new Float64Array(columns);
  const sq = new Float64Array(columns);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < columns; j++) mean[j] = (mean[j] as number) + (values[i * columns + j] as number);
  }
  for (let j = 0; j < columns; j++) mean[j] = (mean[j] as number) / count;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < columns; j++) {
      const d = (values[i * columns + j] as number) - (mean[j] as number);
      sq[j] = (sq[j] as number) + d * d;
    }
  }
  const std = Array.from(sq, (s) => {
    const v = Math.sqrt(s / count);
    return v < MIN_STD ? 1 : v;
  });
  return { mean: Array.from(mean), std };
}

/** (x − mean) / std, row by row, into a new array. */
export function standardize(values: Float32Array, n: Normalization): Float32Array {
  const D = n.mean.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const j = i % D;
    out[i] = ((values[i] as number) - (n.mean[j] as number)) / (n.std[j] as number);
  }
  return out;
}

/** x · std + mean, row by row, into a new array. */
export function destandardize(values: Float32Array, n: Normalization): Float32Array {
  const D = n.mean.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const j = i % D;
    out[i] = (values[i] as number) * (n.std[j] as number) + (n.mean[j] as number);
  }
  return out;
}

/** Σ log std: what −log p(x) gains from the standardized space to the data's own units. */
export function logStdSum(n: Normalization): number {
  return n.std.reduce((s, v) => s + Math.log(v), 0);
}
