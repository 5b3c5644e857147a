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

/** log-mean-exp of `w`, stably. */
function logMeanExp(w: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of w) max = Math.max(max, v);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const v of w) sum += Math.exp(v - max);
  return max + Math.log(sum / w.length);
}

/** The statistics of each example (see the module's description). */
export function exampleStatistics(input: StatisticsInput): ExampleStatistics {
  const { x, mu, logvar, decoded, samples: K, likelihood } = input;
  const n = input.logPzMinusLogQ.length / K;
  const D = x.length / n;
  const L = mu.length / n;
  const bernoulli = likelihood.kind === 'bernoulli';
  const out: ExampleStatistics = {
    nll: new Float64Array(n),
    rate: new Float64Array(n),
    distortion: new Float64Array(n),
    misfit: new Float64Array(n),
    ...(bernoulli ? { bitsPerDim: new Float64Array(n) } : {}),
  };
  const logW = new Float64Array(K);
  const logWBinomial = new Float64Array(K);
  const mean = new Float64Array(D);
  const v = new Uint8Array(D);
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * D, (i + 1) * D);
    let rate = 0;
    for (let d = 0; d < L; d++) {
      const m = mu[i * L + d] as number;
      const lv = logvar[i * L + d] as number;
      rate += 0.5 * (m * m + Math.exp(lv) - 1 - lv);
    }
    let logC = 0;
    if (bernoulli) {
      for (let j = 0; j < D; j++) {
        const value = Math.min(255, Math.max(0, Math.round((xi[j] as number) * 255)));
        v[j] = value;
        logC += LOG_BINOMIAL_255[value] as number;
      }
    }
    mean.fill(0);
    let distortion = 0;
    for (let k = 0; k < K; k++) {
      const row = decoded.subarray((i * K + k) * D, (i * K + k + 1) * D);
      const prior = input.logPzMinusLogQ[i * K + k] as number;
      let ll = 0;
      if (bernoulli) {
        let llBinomial = 0;
        for (let j = 0; j < D; j++) {
          const xj = xi[j] as number;
          let logP: number;
          let log1mP: number;
          let p: number;
          if (input.isLogits) {
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
          const vj = v[j] as number;
          llBinomial += vj * logP + (255 - vj) * log1mP;
          mean[j] = (mean[j] as number) + p / K;
        }
        logWBinomial[k] = llBinomial + logC + prior;
      } else {
        const logVariance = likelihood.logVariance;
        const inv = Math.exp(-logVariance);
        for (let j = 0; j < D; j++) {
          const m = row[j] as number;
          const r = (xi[j] as number) - m;
          ll -= 0.5 * (r * r * inv + logVariance + LOG_2PI);
          mean[j] = (mean[j] as number) + m / K;
        }
      }
      logW[k] = ll + prior;
      distortion -= ll / K;
    }
    out.nll[i] = -logMeanExp(logW);
    out.rate[i] = rate;
    out.distortion[i] = distortion;
    if (bernoulli) {
      (out.bitsPerDim as Float64Array)[i] = -logMeanExp(logWBinomial) / LOG2 / D;
      out.misfit[i] = bernoulliMisfit(xi, mean);
    } else {
      const sigma = Math.exp(0.5 * likelihood.logVariance);
      let worst = 0;
      for (let j = 0; j < D; j++) worst = Math.max(worst, Math.abs((xi[j] as number) - (mean[j] as number)));
      out.misfit[i] = worst / sigma;
    }
  }
  return out;
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
