/**
 * p(x|z), the likelihood `score` weighs decoded outputs with: how callers name it, what card.json
 * says of it, and log p(x|decoded) in float64.
 */
import type { AnyCard } from '../core/model-dir.js';

/** p(x|z): Bernoulli over values in [0, 1], or Gaussian with one log-variance shared by every value. */
export type LikelihoodSpec = { kind: 'bernoulli' } | { kind: 'gaussian'; logVariance: number };

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * log p(x|decoded) summed over one example, in float64.
 * @param isLogits - `decoded` holds Bernoulli logits rather than probabilities (more exact).
 */
export function logLikelihood(
  likelihood: LikelihoodSpec,
  decoded: Float32Array,
  x: Float32Array,
  isLogits: boolean,
): number {
  let sum = 0;
  if (likelihood.kind === 'gaussian') {
    const inv = Math.exp(-likelihood.logVariance);
    for (let j = 0; j < x.length; j++) {
      const d = (x[j] as number) - (decoded[j] as number);
      sum -= 0.5 * (d * d * inv + likelihood.logVariance + LOG_2PI);
    }
    return sum;
  }
  for (let j = 0; j < x.length; j++) {
    const xj = x[j] as number;
    if (isLogits) {
      const l = decoded[j] as number;
      sum -= Math.max(l, 0) - l * xj + Math.log1p(Math.exp(-Math.abs(l)));
    } else {
      // Probabilities only: clamp away from 0 and 1 so that log stays finite.
      const p = Math.min(1 - 1e-7, Math.max(1e-7, decoded[j] as number));
      sum += xj * Math.log(p) + (1 - xj) * Math.log(1 - p);
    }
  }
  return sum;
}

/**
 * p(x|z) for `score`, when card.json does not say it (a model exported by another tool): `bernoulli`
 * for values in [0, 1], or `{ kind: 'gaussian', logVariance }` with log σ² shared by every value.
 */
export type LikelihoodOption = 'bernoulli' | LikelihoodSpec;

/**
 * The likelihood a caller named, checked.
 * @throws TypeError naming the option and what it may be.
 */
export function checkLikelihood(option: LikelihoodOption | undefined): LikelihoodSpec | undefined {
  if (option === undefined) return undefined;
  if (option === 'bernoulli') return { kind: 'bernoulli' };
  if (typeof option === 'object' && option !== null && option.kind === 'bernoulli') return option;
  if (
    typeof option === 'object' &&
    option !== null &&
    option.kind === 'gaussian' &&
    Number.isFinite(option.logVariance)
  ) {
    return option;
  }
  throw new TypeError(
    `load: "likelihood" must be "bernoulli", { kind: "bernoulli" } or { kind: "gaussian", logVariance: <finite number> }, got ${JSON.stringify(option)}`,
  );
}

/** The likelihood card.json describes, if it describes one completely. */
export function cardLikelihood(card: AnyCard | undefined): LikelihoodSpec | undefined {
  if (card?.likelihood === 'bernoulli') return { kind: 'bernoulli' };
  const logVariance = card?.likelihoodParams?.logVariance;
  if (card?.likelihood === 'gaussian' && logVariance !== undefined) return { kind: 'gaussian', logVariance };
  return undefined;
}
