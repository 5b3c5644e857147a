/**
 * The model's own statistics of each example, from one encoder pass and K decoded draws of q(z|x):
 * what every anomaly score is made of. Pure arithmetic in float64; the same numbers in every door.
 *
 * - `nll`: −log p(x) by importance sampling (the IWAE bound with K draws), nats.
 * - `rate`: KL(q(z|x) ‖ p(z)), nats (analytic).
 * - `distortion`: E_q[−log p(x|z)] over the K draws, nats. −ELBO = distortion + rate.
 * - `bitsPerDim` (Bernoulli only): −log₂ p(v) / D for the 8-bit image v = round(255·x) under a
 *   Binomial(255, x̂) per value, x̂ the decoder's Bernoulli mean: a likelihood of 8-bit images, in the
 *   same units as a compressor's bits. The Bernoulli density of continuous values is not one: it
 *   carries each value's own entropy, which makes grey, textured images look unlikely and near-binary
 *   ones (digits) likely whatever the model knows.
 * - `misfit`: how badly the expected reconstruction x̄ = E_q[x̂] fits, per unit of content.
 *   Bernoulli: Σ KL(Bern(x_j) ‖ Bern(x̄_j)) / Σ max(x_j, x̄_j) (the cross-entropy less the values'
 *   own entropy, per unit of ink in the image or its reconstruction). Gaussian: the largest
 *   |x_j − x̄_j| / σ (one value far off, as in a faulty sensor reading).
 */
import type { LikelihoodSpec } from '../likelihood.js';

/** The statistics of a batch of examples, one value per example each. */
export interface ExampleStatistics {
  nll: Float64Array;
  rate: Float64Array;
  distortion: Float64Array;
  misfit: Float64Array;
  /** Bernoulli models only. */
  bitsPerDim?: Float64Array;
}

/** What the statistics are computed from, for n examples of D values, L latents and K draws. */
export interface StatisticsInput {
  /** n × D examples, as the networks see them (standardized when the model is). */
  x: Float32Array;
  /** n × L means and log-variances of q(z|x). */
  mu: Float32Array;
  logvar: Float32Array;
  /** n × K values of log p(z) − log q(z|x) for the draws (constants that cancel left out). */
  logPzMinusLogQ: Float64Array;
  /** n × K × D decoded draws: Bernoulli logits when `isLogits`, else means (probabilities). */
  decoded: Float32Array;
  isLogits: boolean;
  samples: number;
  likelihood: LikelihoodSpec;
}

const LOG_2PI = Math.log(2 * Math.PI);
const LOG2 = Math.log(2);
/** log C(255, v) for v = 0…255: the binomial coefficient of an 8-bit value. */
const LOG_BINOMIAL_255 = (() => {
  const logFactorial = new Float64Array(256);
  for (let i = 1; i < 256; i++) logFactorial[i] = (logFactorial[i - 1] as number) + Math.log(i);
  return Float64Array.from(
    { length: 256 },
    (_, v) => (logFactorial[255] as number) - (logFactorial[v] as number) - (logFactorial[255 - v] as number),
  );
})();

/** Adds log-weight `w` to a running log-sum-exp kept as (largest so far, Σ exp(w − largest)). */
function addLogWeight(max: Float64Array, sum: Float64Array, i: number, w: number): void {
  const m = max[i] as number;
  if (w > m) {
    sum[i] = (sum[i] as number) * Math.exp(m - w) + 1;
    max[i] = w;
  } else {
    sum[i] = (sum[i] as number) + Math.exp(w - m);
  }
}

/**
 * The statistics of a group of n examples, accumulated over slices of their K draws, so that a score
 * with many draws is computed in slices short enough to leave the event loop free between them. Add
 * every draw once, in slices of any size, then `finish`.
 */
export class StatisticsAccumulator {
  private readonly D: number;
  private readonly bernoulli: boolean;
  private readonly rate: Float64Array;
  private readonly logC: Float64Array;
  private readonly values8: Uint8Array;
  // Running log-sum-exp of each example's importance weights (Bernoulli, and 8-bit binomial).
  private readonly maxW: Float64Array;
  private readonly sumW: Float64Array;
  private readonly maxB: Float64Array;
  private readonly sumB: Float64Array;
  private readonly distortion: Float64Array;
  private readonly mean: Float64Array;
  private draws = 0;

  /**
   * @param x - n × D examples, as the networks see them; `mu` and `logvar` their n × L moments.
   * @param samples - K, the draws each example gets in all.
   */
  constructor(
    private readonly x: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    private readonly n: number,
    private readonly samples: number,
    private readonly likelihood: LikelihoodSpec,
  ) {
    const D = x.length / n;
    const L = mu.length / n;
    this.D = D;
    this.bernoulli = likelihood.kind === 'bernoulli';
    this.rate = new Float64Array(n);
    this.logC = new Float64Array(n);
    this.values8 = new Uint8Array(this.bernoulli ? n * D : 0);
    for (let i = 0; i < n; i++) {
      let rate = 0;
      for (let d = 0; d < L; d++) {
        const m = mu[i * L + d] as number;
        const lv = logvar[i * L + d] as number;
        rate += 0.5 * (m * m + Math.exp(lv) - 1 - lv);
      }
      this.rate[i] = rate;
      if (this.bernoulli) {
        let logC = 0;
        for (let j = 0; j < D; j++) {
          const value = Math.min(255, Math.max(0, Math.round((x[i * D + j] as number) * 255)));
          this.values8[i * D + j] = value;
          logC += LOG_BINOMIAL_255[value] as number;
        }
        this.logC[i] = logC;
      }
    }
    this.maxW = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.sumW = new Float64Array(n);
    this.maxB = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.sumB = new Float64Array(n);
    this.distortion = new Float64Array(n);
    this.mean = new Float64Array(n * D);
  }

  /**
   * Adds `draws` draws of every example: `decoded` holds n × draws × D decoded rows (example-major:
   * example 0's draws first), `logPzMinusLogQ` their n × draws values.
   */
  add(decoded: Float32Array, logPzMinusLogQ: Float64Array, draws: number, isLogits: boolean): void {
    const { D, samples: K } = this;
    for (let i = 0; i < this.n; i++) {
      const xi = this.x.subarray(i * D, (i + 1) * D);
      for (let k = 0; k < draws; k++) {
        const row = decoded.subarray((i * draws + k) * D, (i * draws + k + 1) * D);
        const prior = logPzMinusLogQ[i * draws + k] as number;
        let ll = 0;
        if (this.bernoulli) {
          let llBinomial = 0;
          for (let j = 0; j < D; j++) {
            const xj = xi[j] as number;
            let logP: number;
            let log1mP: number;
            let p: number;
            if (isLogits) {
              const l = row[j] as number;
              // log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l), written to stay finite.
              const e = Math.exp(-Math.abs(l));
              const soft = Math.log1p(e);
              logP = -(Math.max(-l, 0) + soft);
              log1mP = -(Math.max(l, 0) + soft);
              p = l >= 0 ? 1 / (1 + e) : e / (1 + e);
            } else {
              p = Math.min(1 - 1e-7, Math.max(1e-7, row[j] as number));
              logP = Math.log(p);
              log1mP = Math.log1p(-p);
            }
            ll += xj * logP + (1 - xj) * log1mP;
            const vj = this.values8[i * D + j] as number;
            llBinomial += vj * logP + (255 - vj) * log1mP;
            this.mean[i * D + j] = (this.mean[i * D + j] as number) + p / K;
          }
          addLogWeight(this.maxB, this.sumB, i, llBinomial + (this.logC[i] as number) + prior);
        } else {
          const logVariance = (this.likelihood as { logVariance: number }).logVariance;
          const inv = Math.exp(-logVariance);
          for (let j = 0; j < D; j++) {
            const m = row[j] as number;
            const r = (xi[j] as number) - m;
            ll -= 0.5 * (r * r * inv + logVariance + LOG_2PI);
            this.mean[i * D + j] = (this.mean[i * D + j] as number) + m / K;
          }
        }
        addLogWeight(this.maxW, this.sumW, i, ll + prior);
        this.distortion[i] = (this.distortion[i] as number) - ll / K;
      }
    }
    this.draws += draws;
  }

  /**
   * The statistics, once every draw is in.
   * @throws Error when fewer or more than K draws were added.
   */
  finish(): ExampleStatistics {
    if (this.draws !== this.samples) {
      throw new Error(`StatisticsAccumulator: ${this.draws} draws were added, ${this.samples} expected`);
    }
    const { n, D } = this;
    const logK = Math.log(this.samples);
    const logMean = (max: Float64Array, sum: Float64Array, i: number) =>
      (max[i] as number) + Math.log(sum[i] as number) - logK;
    const nll = Float64Array.from({ length: n }, (_, i) => -logMean(this.maxW, this.sumW, i));
    const misfit = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const xi = this.x.subarray(i * D, (i + 1) * D);
      const mi = this.mean.subarray(i * D, (i + 1) * D);
      if (this.bernoulli) {
        misfit[i] = bernoulliMisfit(xi, mi);
      } else {
        const sigma = Math.exp(0.5 * (this.likelihood as { logVariance: number }).logVariance);
        let worst = 0;
        for (let j = 0; j < D; j++) worst = Math.max(worst, Math.abs((xi[j] as number) - (mi[j] as number)));
        misfit[i] = worst / sigma;
      }
    }
    return {
      nll,
      rate: this.rate,
      distortion: this.distortion,
      misfit,
      ...(this.bernoulli
        ? {
            bitsPerDim: Float64Array.from(
              { length: n },
              (_, i) => -logMean(this.maxB, this.sumB, i) / LOG2 / D,
            ),
          }
        : {}),
    };
  }
}

/** The statistics of each example with all its K draws at once (see the module's description). */
export function exampleStatistics(input: StatisticsInput): ExampleStatistics {
  const n = input.logPzMinusLogQ.length / input.samples;
  const acc = new StatisticsAccumulator(input.x, input.mu, input.logvar, n, input.samples, input.likelihood);
  acc.add(input.decoded, input.logPzMinusLogQ, input.samples, input.isLogits);
  return acc.finish();
}

/** Σ KL(Bern(x_j) ‖ Bern(m_j)) / Σ max(x_j, m_j): the reconstruction's misfit per unit of content. */
function bernoulliMisfit(x: Float32Array, m: Float64Array): number {
  const EPS = 1e-6;
  let kl = 0;
  let mass = 0;
  for (let j = 0; j < x.length; j++) {
    const xj = x[j] as number;
    const p = Math.min(1 - EPS, Math.max(EPS, m[j] as number));
    const xc = Math.min(1 - EPS, Math.max(EPS, xj));
    kl += xj * Math.log(xc / p) + (1 - xj) * Math.log((1 - xc) / (1 - p));
    mass += Math.max(xj, m[j] as number);
  }
  return kl / Math.max(mass, EPS);
}
