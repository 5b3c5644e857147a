import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { VaeModel } from '../src/runtime/node.js';
import { readCard } from '../src/train/index.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';

const root = join(import.meta.dirname, '..', 'models');

/** The models shipped in models/ load and run right after install, and say how they were made. */
describe('shipped models', () => {
  const names = readdirSync(root).sort();
  test('mnist-mini and fashion-mnist are there', () => {
    assert.deepEqual(names, ['fashion-mnist', 'mnist-mini']);
  });
  for (const name of names) {
    test(name, async () => {
      const dir = join(root, name);
      const card = await readCard(dir);
      assert.match(card.command ?? '', new RegExp(`^vae train --dataset ${name} --out models/${name}`));
      assert.equal(card.dataset, name);
      checkWithReferenceChecker(join(dir, 'encoder.onnx'), join(dir, 'decoder.onnx'));
      const model = await VaeModel.load(dir);
      try {
        const { x } = await model.sample(4, { seed: 1 });
        assert.deepEqual(x.shape, [4, 28, 28, 1]);
        const scores = await model.score(x);
        // Every shipped model is calibrated: its default score is dose, with percentiles and verdicts.
        assert.equal(scores.score, 'dose');
        assert.ok(scores.values.every((s) => Number.isFinite(s) && s >= 0));
        assert.equal(scores.percentiles?.length, 4);
        assert.equal(card.anomaly?.calibration.split, 'validation');
      } finally {
        await model.dispose();
      }
    });
  }
});
