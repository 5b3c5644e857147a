import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../src/core/random.js';
import { bernoulliNll, klStandardNormal, negElboBernoulli, selectBackend } from '../src/train/index.js';

/** −log p(x | logits) for a Bernoulli, summed, in float64, written directly from the definition. */
function bernoulliNll64(logits: number[], x: number[]): number {
  let sum = 0;
  logits.forEach((l, i) => {
    const xi = x[i] as number;
    // log σ(l) = −log(1 + e^−l), log(1 − σ(l)) = −log(1 + e^l); log1p keeps both exact for large |l|.
    const logP = l >= 0 ? -Math.log1p(Math.exp(-l)) : l - Math.log1p(Math.exp(l));
    const log1mP = l >= 0 ? -l - Math.log1p(Math.exp(-l)) : -Math.log1p(Math.exp(l));
    sum -= xi * logP + (1 - xi) * log1mP;
  });
  return sum;
}

function kl64(mu: number[], logvar: number[]): number {
  return mu.reduce((s, m, i) => {
    const lv = logvar[i] as number;
    return s + 0.5 * (Math.exp(lv) + m * m - 1 - lv);
  }, 0);
}

describe('negative ELBO', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  const rng = createRng(3);
  const N = 5;
  const D = 50;
  const L = 6;
  // Logits include large magnitudes, where the naive form log(sigmoid(l)) overflows in float32.
  const logits = Array.from({ length: N * D }, (_, i) =>
    i % 17 === 0 ? (i % 2 ? 60 : -60) : 6 * (rng.uniform() - 0.5),
  );
  const x = Array.from({ length: N * D }, () => rng.uniform());
  const mu = Array.from({ length: N * L }, () => 2 * (rng.uniform() - 0.5));
  const logvar = Array.from({ length: N * L }, () => 3 * (rng.uniform() - 0.5));

  test('Bernoulli NLL from logits matches a float64 computation per example', () => {
    const got = tf.tidy(() => bernoulliNll(tf.tensor2d(logits, [N, D]), tf.tensor2d(x, [N, D])).arraySync());
    for (let n = 0; n < N; n++) {
      const want = bernoulliNll64(logits.slice(n * D, (n + 1) * D), x.slice(n * D, (n + 1) * D));
      assert.ok(
        Math.abs((got[n] as number) - want) <= 1e-5 * Math.max(1, want),
        `example ${n}: ${got[n]} vs ${want}`,
      );
    }
  });

  test('Bernoulli NLL stays finite for logits of ±100', () => {
    const got = tf.tidy(() =>
      bernoulliNll(tf.tensor2d([100, -100], [1, 2]), tf.tensor2d([0, 1], [1, 2])).arraySync(),
    );
    assert.ok(Math.abs((got[0] as number) - 200) < 1e-3, String(got[0]));
  });

  test('analytic KL to N(0, I) matches a float64 computation per example', () => {
    const got = tf.tidy(() =>
      klStandardNormal(tf.tensor2d(mu, [N, L]), tf.tensor2d(logvar, [N, L])).arraySync(),
    );
    for (let n = 0; n < N; n++) {
      const want = kl64(mu.slice(n * L, (n + 1) * L), logvar.slice(n * L, (n + 1) * L));
      assert.ok(
        Math.abs((got[n] as number) - want) <= 1e-5 * Math.max(1, want),
        `example ${n}: ${got[n]} vs ${want}`,
      );
    }
  });

  test('KL is zero exactly at the prior', () => {
    const got = tf.tidy(() => klStandardNormal(tf.zeros([2, L]), tf.zeros([2, L])).arraySync());
    assert.ok(
      got.every((v) => v === 0),
      String(got),
    );
  });

  test('negElbo = recon + KL, with images shaped [N, H, W, C]', () => {
    const terms = tf.tidy(() => {
      const t = negElboBernoulli(
        tf.tensor4d(x, [N, 5, 10, 1]),
        tf.tensor4d(logits, [N, 5, 10, 1]),
        tf.tensor2d(mu, [N, L]),
        tf.tensor2d(logvar, [N, L]),
      );
      return { recon: t.recon.arraySync(), kl: t.kl.arraySync(), negElbo: t.negElbo.arraySync() };
    });
    for (let n = 0; n < N; n++) {
      const want =
        bernoulliNll64(logits.slice(n * D, (n + 1) * D), x.slice(n * D, (n + 1) * D)) +
        kl64(mu.slice(n * L, (n + 1) * L), logvar.slice(n * L, (n + 1) * L));
      assert.ok(Math.abs((terms.negElbo[n] as number) - want) <= 1e-5 * want);
      assert.ok(
        Math.abs((terms.recon[n] as number) + (terms.kl[n] as number) - (terms.negElbo[n] as number)) < 1e-3,
      );
    }
  });
});
