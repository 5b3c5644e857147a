/**
 * The anomaly score −log p(x), estimated by importance sampling with q(z|x) as the proposal (the IWAE
 * bound), as pure arithmetic in float64: draw the latents, then weigh the decoded outputs.
 */
import { normalArray } from '../core/random.js';
import { type LikelihoodSpec, logLikelihood } from './likelihood.js';

/** K latents per example drawn from q(z|x), and log p(z) − log q(z|x) for each. */
export interface ImportanceDraws {
  /** n × K × L latents, example-major. */
  z: Float32Array;
  /** n × K values of log p(z) − log q(z|x), without the constant terms that cancel. */
  logPzMinusLogQ: Float64Array;
}

/**
 * Draws `samples` latents per example z = mu + exp(logvar / 2) · eps with eps from `seed`, the same
 * seeded stream in every runtime.
 * @param mu - n × L means of q(z|x); `logvar` the same for the log-variances.
 */
export function drawImportanceSamples(
  mu: Float32Array,
  logvar: Float32Array,
  latentDim: number,
  samples: number,
  seed: number,
): ImportanceDraws {
  const L = latentDim;
  const K = samples;
  const n = mu.length / L;
  const eps = normalArray(n * K * L, seed);
  const z = new Float32Array(n * K * L);
  const logPzMinusLogQ = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let d = 0; d < L; d++) {
        const e = eps[(i * K + k) * L + d] as number;
        const lv = logvar[i * L + d] as number;
        const zi = (mu[i * L + d] as number) + Math.exp(0.5 * lv) * e;
        z[(i * K + k) * L + d] = zi;
        // log N(z; 0, I) − log N(z; mu, σ²): the 2π terms cancel.
        acc += -0.5 * zi * zi + 0.5 * (e * e + lv);
      }
      logPzMinusLogQ[i * K + k] = acc;
    }
  }
  return { z, logPzMinusLogQ };
}

/**
 * −log p(x) per example: −log of the mean over the K importance weights, computed stably
 * (log-sum-exp), in nats.
 * @param decoded - n × K decoded examples (probabilities, means, or logits when `isLogits`).
 * @param x - n examples.
 */
export function importanceScores(
  decoded: Float32Array,
  x: Float32Array,
  draws: ImportanceDraws,
  samples: number,
  likelihood: LikelihoodSpec,
  isLogits: boolean,
): Float64Array {
  const K = samples;
  const n = draws.logPzMinusLogQ.length / K;
  const D = x.length / n;
  const scores = new Float64Array(n);
  const logW = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * D, (i + 1) * D);
    for (let k = 0; k < K; k++) {
      const row = decoded.subarray((i * K + k) * D, (i * K + k + 1) * D);
      logW[k] = logLikelihood(likelihood, row, xi, isLogits) + (draws.logPzMinusLogQ[i * K + k] as number);
    }
    let max = Number.NEGATIVE_INFINITY;
    for (const w of logW) max = Math.max(max, w);
    let sum = 0;
    for (const w of logW) sum += Math.exp(w - max);
    scores[i] = -(max + Math.log(sum) - Math.log(K));
  }
  return scores;
}
