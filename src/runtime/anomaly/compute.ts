/**
 * Computing the statistics and the scores of a batch through any pair of networks (onnxruntime
 * sessions in the runtime, tfjs models in the trainer): draws from q(z|x), decodes, arithmetic.
 * The draws are the same K latent noise vectors for every example (normalArray(K·L, seed)), so an
 * example's score depends on the example, the model, K and the seed only: not on its batch or its
 * place in it.
 */
import { takeTurn } from '../../core/cooperate.js';
import { normalArray } from '../../core/random.js';
import type { LikelihoodSpec } from '../likelihood.js';
import { pngBits } from './png-bits.js';
import {
  type AnomalyCalibration,
  calibrationFrom,
  DEFAULT_FALSE_ALARM_RATE,
  referenceFrom,
  type ScoreName,
  scoresFromStatistics,
} from './scores.js';
import { type ExampleStatistics, StatisticsAccumulator } from './statistics.js';

/** What scoring asks of a model: its shapes, its likelihood, and its two networks. */
export interface ScoringNetworks {
  /** One example's shape. */
  inputShape: readonly number[];
  latentDim: number;
  likelihood: LikelihoodSpec;
  /** Added to −log p(x) to give it in the data's units (0 unless the model standardizes its data). */
  nllShift: number;
  /** The encoder on n examples as the networks see them: n × L means and log-variances. */
  encode(x: Float32Array, n: number): Promise<{ mu: Float32Array; logvar: Float32Array }>;
  /** The decoder on n latents: n × D logits (Bernoulli, `isLogits`) or means. */
  decode(z: Float32Array, n: number): Promise<{ data: Float32Array; isLogits: boolean }>;
}

/** Options of the statistics: K draws, their seed, and progress. */
export interface StatisticsOptions {
  samples: number;
  seed: number;
  /**
   * Decoder rows per run, and per slice of arithmetic (examples × draws); default 256. A slice takes
   * a few milliseconds, and slices of every computation in the process take turns (see
   * cooperate.ts), so that a server stays responsive whatever it scores.
   */
  rows?: number;
  /** Called after each group of examples: examples done, and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Default draws of q(z|x) per example for the scores: 16 (the dose score's reference uses the same). */
export const DEFAULT_SCORE_SAMPLES = 16;

/** The statistics of n examples (`x`: n × D, as the networks see them). */
export async function computeStatistics(
  nets: ScoringNetworks,
  x: Float32Array,
  options: StatisticsOptions,
): Promise<ExampleStatistics> {
  const K = options.samples;
  const L = nets.latentDim;
  const D = nets.inputShape.reduce((a, b) => a * b, 1);
  const n = x.length / D;
  const eps = normalArray(K * L, options.seed);
  const rows = Math.max(1, options.rows ?? 256);
  // Groups of examples whose draws fit in one run; an example with more draws than that goes alone,
  // its draws in slices.
  const group = Math.max(1, Math.floor(rows / K));
  const slice = Math.min(K, rows);
  const parts: ExampleStatistics[] = [];
  for (let start = 0; start < n; start += group) {
    const m = Math.min(group, n - start);
    const xs = x.subarray(start * D, (start + m) * D);
    const { mu, logvar } = await nets.encode(xs, m);
    const acc = new StatisticsAccumulator(xs, mu, logvar, m, K, nets.likelihood);
    for (let k0 = 0; k0 < K; k0 += slice) {
      const s = Math.min(slice, K - k0);
      const z = new Float32Array(m * s * L);
      const logPzMinusLogQ = new Float64Array(m * s);
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < s; k++) {
          let lp = 0;
          for (let d = 0; d < L; d++) {
            const e = eps[(k0 + k) * L + d] as number;
            const lv = logvar[i * L + d] as number;
            const zi = (mu[i * L + d] as number) + Math.exp(0.5 * lv) * e;
            z[(i * s + k) * L + d] = zi;
            // log N(z; 0, I) − log N(z; mu, σ²): the 2π terms cancel.
            lp += -0.5 * zi * zi + 0.5 * (e * e + lv);
          }
          logPzMinusLogQ[i * s + k] = lp;
        }
      }
      const decoded = await nets.decode(z, m * s);
      const done = await takeTurn();
      try {
        acc.add(decoded.data, logPzMinusLogQ, s, decoded.isLogits);
      } finally {
        done();
      }
    }
    parts.push(acc.finish());
    options.onProgress?.(start + m, n);
  }
  return concatStatistics(parts, n);
}

function concatStatistics(parts: ExampleStatistics[], n: number): ExampleStatistics {
  const keys = Object.keys(
    parts[0] ?? { nll: 0, rate: 0, distortion: 0, misfit: 0 },
  ) as (keyof ExampleStatistics)[];
  const out = {} as Record<keyof ExampleStatistics, Float64Array>;
  for (const key of keys) {
    const all = new Float64Array(n);
    let at = 0;
    for (const p of parts) {
      const v = p[key] as Float64Array;
      all.set(v, at);
      at += v.length;
    }
    out[key] = all;
  }
  return out as ExampleStatistics;
}

/** True when the model's examples are images ([H, W, C]) with values in [0, 1] (a Bernoulli model). */
export function scoresImages(nets: Pick<ScoringNetworks, 'inputShape' | 'likelihood'>): boolean {
  return nets.likelihood.kind === 'bernoulli' && nets.inputShape.length === 3;
}

/**
 * Every score of n examples that the model allows (`dose` needs `reference`; `complexity` is
 * computed only when `complexity` is true, as it compresses each image).
 */
export async function computeScores(
  nets: ScoringNetworks,
  x: Float32Array,
  options: StatisticsOptions & { reference?: AnomalyCalibration['reference']; complexity?: boolean },
): Promise<{ statistics: ExampleStatistics; scores: Partial<Record<ScoreName, Float64Array>> }> {
  const statistics = await computeStatistics(nets, x, options);
  const dims = nets.inputShape.reduce((a, b) => a * b, 1);
  const png = options.complexity && scoresImages(nets) ? await pngBits(x, nets.inputShape) : undefined;
  const scores = scoresFromStatistics(statistics, {
    nllShift: nets.nllShift,
    dims,
    ...(png ? { pngBits: png } : {}),
    ...(options.reference ? { reference: options.reference } : {}),
  });
  return { statistics, scores };
}

/** Where a calibration's data come from: examples as the networks see them, and what to call them. */
export interface CalibrationData {
  x: Float32Array;
  split: string;
}

/**
 * The anomaly section of card.json: the `dose` reference from `reference` (the model's training
 * data), then every score's table on `heldOut` (data the model did not train on).
 */
export async function calibrateAnomaly(
  nets: ScoringNetworks,
  reference: CalibrationData,
  heldOut: CalibrationData,
  options: Partial<StatisticsOptions> & {
    onStage?: (stage: string, done: number, total: number) => void;
  } = {},
): Promise<AnomalyCalibration> {
  const samples = options.samples ?? DEFAULT_SCORE_SAMPLES;
  const seed = options.seed ?? 0;
  const base = { samples, seed, ...(options.rows ? { rows: options.rows } : {}) };
  const progress = (stage: string) =>
    options.onStage ? { onProgress: (d: number, t: number) => options.onStage?.(stage, d, t) } : {};
  const refStats = await computeStatistics(nets, reference.x, { ...base, ...progress('anomaly reference') });
  const ref = referenceFrom(refStats, nets.likelihood.kind === 'bernoulli', reference.split);
  const { scores } = await computeScores(nets, heldOut.x, {
    ...base,
    reference: ref,
    complexity: true,
    ...progress('anomaly calibration'),
  });
  return {
    version: 1,
    samples,
    seed,
    defaultScore: 'dose',
    reference: ref,
    calibration: calibrationFrom(
      scores,
      heldOut.split,
      heldOut.x.length / nets.inputShape.reduce((a, b) => a * b, 1),
    ),
    falseAlarmRate: DEFAULT_FALSE_ALARM_RATE,
  };
}
