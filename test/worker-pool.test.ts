import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createRng } from '../src/core/random.js';
import { selectBackend } from '../src/train/backend.js';
import { buildVae } from '../src/train/model.js';
import { type SharedState, sharedStateFrom } from '../src/train/parallel/adam.js';
import { type WorkerPlan, WorkerPool } from '../src/train/parallel/coordinator.js';
import { trainableVariables } from '../src/train/step.js';

/** Two workers on a small MLP over 200 random rows of 12 features in [0, 1]. */
const shape = { inputShape: [12], hiddenDim: 16, latentDim: 3 };
const rng = createRng(4);
const plan: WorkerPlan = {
  workers: 2,
  architecture: { kind: 'mlp', hidden: [shape.hiddenDim] },
  inputShape: shape.inputShape,
  latentDim: shape.latentDim,
  seed: 7,
  learningRate: 1e-2,
  likelihood: 'bernoulli',
  learnVariance: false,
  logVariance: 0,
  freeBits: 0,
  batchSize: 32,
  images: Float32Array.from({ length: 200 * 12 }, () => rng.uniform()),
};
const batches = Array.from({ length: 7 }, (_, k) =>
  Uint32Array.from({ length: 32 }, (_, i) => (k * 29 + i * 3) % 200),
);

let initial: SharedState;
const copy = (s: SharedState): SharedState => ({
  weights: s.weights.slice(),
  firstMoment: s.firstMoment.slice(),
  secondMoment: s.secondMoment.slice(),
  t: s.t,
});

describe('WorkerPool', () => {
  before(async () => {
    await selectBackend('wasm');
    initial = await sharedStateFrom(trainableVariables(buildVae('mlp', shape, plan.seed)));
  });

  test('steps posted while the one before runs end in the same bits as steps awaited one by one', async () => {
    const oneByOne = await WorkerPool.start(plan, copy(initial));
    const ahead = await WorkerPool.start(plan, copy(initial));
    try {
      const lossesOneByOne = [];
      for (const [k, rows] of batches.entries()) lossesOneByOne.push(await oneByOne.step(rows, 100 + k, 1));
      // Post the next step before awaiting the current one, as the fit loop does.
      const lossesAhead = [];
      let pending = ahead.step(batches[0] as Uint32Array, 100, 1);
      for (let k = 1; k <= batches.length; k++) {
        const next = k < batches.length ? ahead.step(batches[k] as Uint32Array, 100 + k, 1) : undefined;
        lossesAhead.push(await pending);
        if (next) pending = next;
      }
      assert.deepEqual(lossesAhead, lossesOneByOne);
      const [a, b] = [ahead.state(), oneByOne.state()];
      assert.equal(a.t, batches.length);
      assert.deepEqual(a, b);
      assert.notDeepEqual(a.weights, initial.weights, 'the steps changed the weights');
    } finally {
      await Promise.all([oneByOne.close(), ahead.close()]);
    }
  });

  test('a third step posted while two are running is refused', async () => {
    const pool = await WorkerPool.start(plan, copy(initial));
    try {
      const first = pool.step(batches[0] as Uint32Array, 1, 1);
      const second = pool.step(batches[1] as Uint32Array, 2, 1);
      await assert.rejects(
        pool.step(batches[2] as Uint32Array, 3, 1),
        /step: 2 steps are already running, wait for one before posting another/,
      );
      await Promise.all([first, second]);
      await pool.step(batches[2] as Uint32Array, 3, 1);
      assert.equal(pool.state().t, 3);
    } finally {
      await pool.close();
    }
  });

  test('a worker that dies ends the step waiting for it with an error naming the exit', async () => {
    const pool = await WorkerPool.start(plan, copy(initial));
    try {
      await pool.step(batches[0] as Uint32Array, 1, 1);
      // Kill one thread (from the private list, as a crash would) while the step waits for it.
      const threads = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
      const dying = threads[1]?.terminate();
      await assert.rejects(pool.step(batches[1] as Uint32Array, 2, 1), /training worker exited with code 1/);
      await dying;
      await assert.rejects(pool.step(batches[2] as Uint32Array, 3, 1), /training worker exited with code 1/);
    } finally {
      await pool.close();
    }
  });

  test("a worker's failure rejects the start with the worker's own error", async () => {
    const tooFew = { ...copy(initial), weights: initial.weights.slice(0, 10) };
    tooFew.firstMoment = tooFew.firstMoment.slice(0, 10);
    tooFew.secondMoment = tooFew.secondMoment.slice(0, 10);
    await assert.rejects(
      WorkerPool.start({ ...plan, architecture: { kind: 'mlp', hidden: [4000] } }, tooFew),
      /training worker failed: RangeError: adam memory: \d+ parameters in 2 slots need \d+ bytes/,
    );
  });
});
