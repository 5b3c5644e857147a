import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../src/core/random.js';
import { selectBackend } from '../src/train/backend.js';
import type { LikelihoodSpec } from '../src/train/elbo.js';
import { isSeedMlp, mlpLossAndGrads } from '../src/train/mlp-grad.js';
import { buildConvVae, buildMlpVae } from '../src/train/model.js';
import { autodiffLossAndGrads, trainableVariables } from '../src/train/step.js';

/**
 * The hand-derived MLP gradient against tfjs's autodiff of the same objective, on the wasm backend
 * the trainer uses: every gradient within 1e-5 of the largest value of its tensor.
 */
describe('the MLP gradient derived by hand equals tfjs autodiff', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  const cases: {
    name: string;
    shape: number[];
    likelihood: 'bernoulli' | 'gaussian-fixed' | 'gaussian-learned';
    beta: number;
    freeBits: number;
    hidden?: number[];
  }[] = [
    { name: 'Bernoulli, images', shape: [28, 28, 1], likelihood: 'bernoulli', beta: 1, freeBits: 0 },
    {
      name: 'Bernoulli, β = 0.3 with free bits',
      shape: [28, 28, 1],
      likelihood: 'bernoulli',
      beta: 0.3,
      freeBits: 0.4,
    },
    {
      name: 'Gaussian with fixed σ, rows of features',
      shape: [16],
      likelihood: 'gaussian-fixed',
      beta: 1,
      freeBits: 0,
    },
    {
      name: 'Gaussian with learned σ, β = 2',
      shape: [16],
      likelihood: 'gaussian-learned',
      beta: 2,
      freeBits: 0,
    },
    {
      name: 'two hidden layers (784-32-16-5), Bernoulli',
      shape: [28, 28, 1],
      likelihood: 'bernoulli',
      beta: 1,
      freeBits: 0,
      hidden: [32, 16],
    },
    {
      name: 'three hidden layers, Gaussian with learned σ and free bits',
      shape: [16],
      likelihood: 'gaussian-learned',
      beta: 0.5,
      freeBits: 0.3,
      hidden: [24, 20, 12],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const nets = buildMlpVae(
        { inputShape: c.shape, hiddenDim: 24, latentDim: 5, ...(c.hidden ? { hidden: c.hidden } : {}) },
        3,
      );
      assert.equal(isSeedMlp(nets), true);
      const learned = c.likelihood === 'gaussian-learned';
      const logVariance =
        c.likelihood === 'bernoulli' ? undefined : tf.variable(tf.scalar(-0.7), learned, `lv_${c.name}`);
      const likelihood: LikelihoodSpec = logVariance
        ? { kind: 'gaussian', logVariance: logVariance as tf.Variable<tf.Rank.R0> }
        : { kind: 'bernoulli' };
      const variables = trainableVariables(nets, learned && logVariance ? [logVariance] : []);
      const rng = createRng(11);
      const n = 9;
      const size = c.shape.reduce((a, b) => a * b, 1);
      const settings = { likelihood, beta: c.beta, freeBits: c.freeBits };
      tf.tidy(() => {
        const x = tf.tensor(
          Float32Array.from({ length: n * size }, () =>
            c.likelihood === 'bernoulli' ? rng.uniform() : rng.normal(),
          ),
          [n, ...c.shape],
        );
        const eps = tf.tensor2d(
          Float32Array.from({ length: n * 5 }, () => rng.normal()),
          [n, 5],
        );
        const byHand = mlpLossAndGrads(variables, x, eps, settings);
        const auto = autodiffLossAndGrads(nets, variables, x, eps, settings);
        const close = (a: number, b: number, what: string) =>
          assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
        close(byHand.objective.dataSync()[0] as number, auto.objective.dataSync()[0] as number, 'objective');
        close(byHand.negElbo.dataSync()[0] as number, auto.negElbo.dataSync()[0] as number, 'negElbo');
        assert.deepEqual(Object.keys(byHand.grads).sort(), Object.keys(auto.grads).sort());
        for (const v of variables) {
          const a = (byHand.grads[v.name] as tf.Tensor).dataSync() as Float32Array;
          const b = (auto.grads[v.name] as tf.Tensor).dataSync() as Float32Array;
          assert.equal(a.length, b.length, v.name);
          const scale = b.reduce((m, y) => Math.max(m, Math.abs(y)), 0);
          const worst = a.reduce((m, y, i) => Math.max(m, Math.abs(y - (b[i] as number))), 0);
          assert.ok(
            worst <= 1e-5 * Math.max(scale, 1e-6),
            `${v.name}: max |Δ| ${worst}, largest |g| ${scale}`,
          );
        }
      });
      logVariance?.dispose();
      nets.encoder.dispose();
      nets.decoder.dispose();
    });
  }

  test("an MLP of the caller's own with another activation is not taken for the built-in", () => {
    const encoder = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [4, 4] }),
        tf.layers.dense({ units: 8, activation: 'tanh', name: 'own_hidden' }),
        tf.layers.dense({ units: 10, name: 'enc_out' }),
      ],
    });
    const decoder = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [5], units: 8, activation: 'relu' }),
        tf.layers.dense({ units: 16, name: 'dec_out' }),
      ],
    });
    assert.equal(isSeedMlp({ encoder, decoder }), false);
    encoder.dispose();
    decoder.dispose();
  });

  test('the conv VAE is not taken for the MLP (it keeps tfjs autodiff)', () => {
    const nets = buildConvVae({ inputShape: [28, 28, 1], hiddenDim: 0, latentDim: 4 }, 1);
    assert.equal(isSeedMlp(nets), false);
    nets.encoder.dispose();
    nets.decoder.dispose();
  });
});
