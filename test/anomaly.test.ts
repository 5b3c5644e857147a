/**
 * The anomaly scores: the statistics as arithmetic against hand computations, the quantile tables
 * (Gaussianization, percentiles, thresholds) and their calibration as properties, the detection
 * metrics against brute force, card.json's anomaly section checked for use, and VaeModel.score on a
 * calibrated model.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CALIBRATION_P, checkAnomalyCalibration } from '../src/core/anomaly-card.js';
import { detectionFigures, ratesAt, rocCurve } from '../src/core/detection-metrics.js';
import { parseCardText } from '../src/core/model-dir.js';
import { createRng, normalArray } from '../src/core/random.js';
import { filteredRows, pngBits } from '../src/runtime/anomaly/png-bits.js';
import {
  fractionalIndex,
  gaussianize,
  normalCdf,
  percentileOf,
  quantileTable,
  referenceTable,
  thresholdAt,
} from '../src/runtime/anomaly/quantiles.js';
import { doseScores, referenceFrom } from '../src/runtime/anomaly/scores.js';
import { exampleStatistics } from '../src/runtime/anomaly/statistics.js';
import { VaeModel } from '../src/runtime/node.js';
import { loadDataset } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

const MODEL = join(import.meta.dirname, '..', 'models', 'mnist-mini');

/** log C(n, k), directly. */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

describe('the statistics, as arithmetic', () => {
  test('one draw at the prior: nll = −log p(x|z), rate 0, the 8-bit binomial likelihood and the misfit by hand', () => {
    // Three values, one latent, mu = 0 and logvar = 0 (q = p), so log p(z) − log q(z|x) = 0.
    const x = new Float32Array([1, 0, 128 / 255]);
    const p = new Float32Array([0.9, 0.2, 0.5]);
    const [x2 = 0, p0 = 0, p1 = 0] = [x[2], p[0], p[1]];
    const s = exampleStatistics({
      x,
      mu: new Float32Array([0]),
      logvar: new Float32Array([0]),
      logPzMinusLogQ: new Float64Array([0]),
      decoded: p,
      isLogits: false,
      samples: 1,
      likelihood: { kind: 'bernoulli' },
    });
    const bern = Math.log(p0) + Math.log(1 - p1) + x2 * Math.log(0.5) + (1 - x2) * Math.log(0.5);
    assert.ok(Math.abs((s.nll[0] as number) + bern) < 1e-9);
    assert.equal(s.rate[0], 0);
    assert.ok(Math.abs((s.distortion[0] as number) + bern) < 1e-9);
    // Binomial(255, p) of the 8-bit values 255, 0 and 128, in bits per value.
    const binom =
      255 * Math.log(p0) +
      255 * Math.log(1 - p1) +
      logChoose(255, 128) +
      128 * Math.log(0.5) +
      127 * Math.log(0.5);
    assert.ok(Math.abs((s.bitsPerDim?.[0] as number) - -binom / Math.LN2 / 3) < 1e-9);
    // Σ KL(Bern(x) ‖ Bern(p)) / Σ max(x, p).
    const kl = (a: number, b: number) =>
      (a > 0 ? a * Math.log(a / b) : 0) + (a < 1 ? (1 - a) * Math.log((1 - a) / (1 - b)) : 0);
    const misfit = (kl(1, p0) + kl(0, p1) + kl(x2, 0.5)) / (1 + p1 + x2);
    assert.ok(Math.abs((s.misfit[0] as number) - misfit) < 1e-5, `${s.misfit[0]} vs ${misfit}`);
  });

  test('logits and probabilities give the same statistics; K equal weights average to one', () => {
    const logits = new Float32Array([-1, 2, 0.5, -1, 2, 0.5]);
    const probs = logits.map((l) => 1 / (1 + Math.exp(-l)));
    const common = {
      x: new Float32Array([0, 1, 0.3]),
      mu: new Float32Array([0.4, -0.2]),
      logvar: new Float32Array([-1, 0.5]),
      logPzMinusLogQ: new Float64Array([0.25, 0.25]),
      samples: 2,
      likelihood: { kind: 'bernoulli' as const },
    };
    const a = exampleStatistics({ ...common, decoded: logits, isLogits: true });
    const b = exampleStatistics({ ...common, decoded: probs, isLogits: false });
    for (const key of ['nll', 'rate', 'distortion', 'misfit', 'bitsPerDim'] as const) {
      assert.ok(Math.abs((a[key]?.[0] as number) - (b[key]?.[0] as number)) < 1e-5, key);
    }
    // Two identical draws: the IWAE average is the single draw's value.
    assert.ok(Math.abs((a.nll[0] as number) - ((a.distortion[0] as number) - 0.25)) < 1e-9);
    // KL(N(mu, σ²) ‖ N(0, 1)) analytically.
    const rate = 0.5 * (0.16 + Math.exp(-1) - 1 + 1) + 0.5 * (0.04 + Math.exp(0.5) - 1 - 0.5);
    assert.ok(Math.abs((a.rate[0] as number) - rate) < 1e-6);
  });

  test('Gaussian: nll in nats, and the misfit is the largest standardized residual', () => {
    const s = exampleStatistics({
      x: new Float32Array([1, 2, 3]),
      mu: new Float32Array([0]),
      logvar: new Float32Array([0]),
      logPzMinusLogQ: new Float64Array([0]),
      decoded: new Float32Array([1, 2, 0]),
      isLogits: false,
      samples: 1,
      likelihood: { kind: 'gaussian', logVariance: Math.log(4) },
    });
    const want = 3 * 0.5 * (Math.log(4) + Math.log(2 * Math.PI)) + (0.5 * 9) / 4;
    assert.ok(Math.abs((s.nll[0] as number) - want) < 1e-9);
    assert.ok(Math.abs((s.misfit[0] as number) - 1.5) < 1e-9, 'residual 3 over σ = 2');
    assert.equal(s.bitsPerDim, undefined);
  });
});

describe('quantile tables', () => {
  const rng = createRng(7);
  const gaussian = Float64Array.from(normalArray(200_000, 3));

  test('Φ is the standard normal CDF', () => {
    for (const [z, p] of [
      [0, 0.5],
      [1.96, 0.975002],
      [-1, 0.158655],
      [3, 0.99865],
    ] as const) {
      assert.ok(Math.abs(normalCdf(z) - p) < 2e-6, `${z}`);
    }
  });

  test('Gaussianization through a reference of normal draws is the identity inside the table, and monotone beyond it', () => {
    const table = referenceTable(gaussian);
    for (const z of [-2.5, -1, 0, 0.7, 2.9]) assert.ok(Math.abs(gaussianize(table, z) - z) < 0.06, `${z}`);
    let last = Number.NEGATIVE_INFINITY;
    for (let v = -8; v <= 8; v += 0.05) {
      const z = gaussianize(table, v);
      assert.ok(z >= last - 1e-12, `not monotone at ${v}`);
      last = z;
    }
    assert.ok(gaussianize(table, 8) > 6 && gaussianize(table, -8) < -6, 'far values are far');
    assert.equal(gaussianize(table, Number.NaN), Number.POSITIVE_INFINITY);
  });

  test('ties map to the middle of their run; a constant reference stays finite', () => {
    assert.equal(fractionalIndex([0, 1, 1, 1, 2], 1), 2);
    assert.equal(fractionalIndex([0, 1, 2], 0.5), 0.5);
    const flat = referenceTable(new Float64Array(100).fill(3));
    assert.equal(gaussianize(flat, 3), 0);
    assert.ok(Number.isFinite(gaussianize(flat, 4)) && gaussianize(flat, 4) > 3);
  });

  test('calibration is honest: on fresh draws of the same distribution, a threshold flags its false-alarm rate', () => {
    // Property over several distributions (normal, skewed, heavy-tailed, discrete) and rates.
    const draws: Record<string, () => number> = {
      normal: () => gaussian[Math.floor(rng.uniform() * gaussian.length)] as number,
      exponential: () => -Math.log(1 - rng.uniform()),
      cauchy: () => Math.tan(Math.PI * (rng.uniform() - 0.5)),
      discrete: () => Math.floor(rng.uniform() * 20),
    };
    for (const [name, draw] of Object.entries(draws)) {
      const fit = Float64Array.from({ length: 5000 }, draw);
      const fresh = Float64Array.from({ length: 20_000 }, draw);
      const table = quantileTable(fit, CALIBRATION_P);
      for (const rate of [0.01, 0.05]) {
        const threshold = thresholdAt(table, rate);
        const flagged = fresh.filter((v) => v > threshold).length / fresh.length;
        // 3.5 standard errors of the two samples' shares; a discrete distribution puts whole atoms at
        // the threshold, so its share flagged is at most the rate.
        const se =
          Math.sqrt((rate * (1 - rate)) / fit.length) + Math.sqrt((rate * (1 - rate)) / fresh.length);
        assert.ok(
          name === 'discrete' ? flagged <= rate + 3.5 * se : Math.abs(flagged - rate) < 3.5 * se,
          `${name} at ${rate}: ${flagged}`,
        );
        assert.ok(Math.abs(percentileOf(table, threshold) - 100 * (1 - rate)) < 1e-6 || name === 'discrete');
      }
    }
  });
});

describe('detection metrics', () => {
  test('AUROC equals the pairwise count with ties as halves; AUPRC and FPR at 95 % TPR by hand', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 20; trial++) {
      const a = Array.from({ length: 30 }, () => Math.floor(rng.uniform() * 10));
      const b = Array.from({ length: 25 }, () => Math.floor(rng.uniform() * 10) + 2);
      let wins = 0;
      for (const x of a) for (const y of b) wins += y > x ? 1 : y === x ? 0.5 : 0;
      const f = detectionFigures(a, b);
      assert.ok(Math.abs(f.auroc - wins / (a.length * b.length)) < 1e-12);
      const roc = rocCurve(a, b);
      assert.equal(roc.fpr.at(-1), 1);
      assert.equal(roc.tpr.at(-1), 1);
    }
    assert.deepEqual(detectionFigures([1, 2], [3, 4]), { auroc: 1, auprc: 1, fpr95: 0 });
    assert.equal(detectionFigures([1, 2], [1, 2]).auroc, 0.5);
    // Ranked 4 (ood), 3 (in), 2 (ood): precision 1 at the first positive, 2/3 at the second.
    assert.ok(Math.abs(detectionFigures([3], [4, 2]).auprc - 5 / 6) < 1e-12);
    assert.equal(detectionFigures([3], [4, 2]).fpr95, 1);
    assert.deepEqual(ratesAt([1, 2, 3, 4], [5, Number.NaN], 3), { falseAlarms: 0.25, detections: 1 });
    assert.throws(() => detectionFigures([], [1]), /both sets need examples, got 0 in-distribution/);
  });
});

describe('PNG bits', () => {
  test('rows are filtered as PNG does (filter byte first), and simpler images take fewer bits', async () => {
    const rows = filteredRows(Uint8Array.from([1, 2, 3, 4]), 2, 2, 1);
    assert.equal(rows.length, 6);
    const blank = new Float32Array(784);
    const noise = Float32Array.from(normalArray(784, 1), (v) => Math.abs(v) % 1);
    const [a, b] = await pngBits(Float32Array.from([...blank, ...noise]), [28, 28, 1]);
    assert.ok((a as number) < 200 && (b as number) > 4000, `${a} ${b}`);
  });
});

describe("card.json's anomaly section", () => {
  const card = () => JSON.parse(readFileSync(join(MODEL, 'card.json'), 'utf8')) as Record<string, unknown>;

  test('the shipped card passes; tables that cannot work are refused naming the field', () => {
    checkAnomalyCalibration(card().anomaly);
    const broken = (edit: (a: Record<string, unknown>) => void) => {
      const c = card();
      edit(c.anomaly as Record<string, unknown>);
      return () => parseCardText(JSON.stringify(c), 'x/card.json');
    };
    assert.throws(
      broken((a) => {
        (a.reference as { statistics: { rate: number[] } }).statistics.rate[3] = Number.POSITIVE_INFINITY;
      }),
      /"anomaly\.reference\.statistics\.rate" must be 41 finite numbers in non-decreasing order/,
    );
    assert.throws(
      broken((a) => {
        (a.calibration as { scores: { dose: number[] } }).scores.dose.reverse();
      }),
      /"anomaly\.calibration\.scores\.dose" must be 210 finite numbers in non-decreasing order/,
    );
    assert.throws(
      broken((a) => {
        a.falseAlarmRate = 'abc';
      }),
      /"anomaly\.falseAlarmRate" must be a number between 0 and 0\.5, got "abc"/,
    );
    assert.throws(
      broken((a) => {
        (a.reference as { statistics: Record<string, unknown> }).statistics.entropy = [];
      }),
      /"anomaly\.reference\.statistics" must be an object whose keys are among/,
    );
  });
});

describe('VaeModel.score on a calibrated model', () => {
  test('dose by default, with percentiles and verdicts; an example scores the same alone or in a batch', async () => {
    const model = await VaeModel.load(MODEL);
    try {
      const digits = (await loadDataset('mnist-mini')).test.images;
      const batch = { data: digits.slice(0, 50 * 784), shape: [50, 28, 28, 1] };
      const all = await model.score(batch);
      assert.equal(all.score, 'dose');
      assert.equal(all.samples, 16);
      assert.equal(all.falseAlarmRate, 0.01);
      const alone = await model.score({ data: digits.slice(7 * 784, 8 * 784), shape: [1, 28, 28, 1] });
      assert.equal(alone.values[0], all.values[7]);
      for (let i = 0; i < 50; i++) {
        assert.equal(all.anomalous?.[i], (all.values[i] as number) > (all.threshold as number));
      }
      // The dose score from its statistics and the card's reference, recomputed.
      const ref = model.card?.anomaly?.reference;
      assert.ok(ref);
      const again = doseScores(all.statistics, ref);
      assert.ok(Math.abs((again[3] as number) - (all.values[3] as number)) < 1e-9);
      // A scribble of noise is past the threshold; a tighter rate moves the threshold up.
      const noise = {
        data: Float32Array.from(normalArray(784, 5), (v) => Math.min(1, Math.abs(v) / 3)),
        shape: [1, 28, 28, 1],
      };
      const scored = await model.score(noise, { variants: true });
      assert.equal(scored.anomalous?.[0], true);
      assert.ok((scored.percentiles?.[0] as number) > 99.9);
      assert.deepEqual(Object.keys(scored.variants ?? {}).sort(), [
        'bits-per-dim',
        'complexity',
        'dose',
        'neg-elbo',
        'nll',
      ]);
      const strict = await model.score(noise, { falseAlarmRate: 0.001 });
      assert.ok((strict.threshold as number) > (scored.threshold as number));
      await assert.rejects(
        model.score(noise, { score: 'what' as 'nll' }),
        /score: "score" must be one of dose, nll/,
      );
      await assert.rejects(
        model.score(noise, { falseAlarmRate: 2 }),
        /"falseAlarmRate" must be between 0 and 1, got 2/,
      );
    } finally {
      await model.dispose();
    }
  });

  test('without calibration: nll by default, no percentiles; dose says how to calibrate; calibrate() makes one', async () => {
    const dir = tempDir();
    for (const f of ['encoder.onnx', 'decoder.onnx']) copyFileSync(join(MODEL, f), join(dir, f));
    const model = await VaeModel.load(dir);
    try {
      const digits = (await loadDataset('mnist-mini')).test.images;
      const x = { data: digits.slice(0, 4 * 784), shape: [4, 28, 28, 1] };
      const plain = await model.score(x);
      assert.equal(plain.score, 'nll');
      assert.equal(plain.percentiles, undefined);
      await assert.rejects(
        model.score(x, { score: 'dose' }),
        /the dose score needs the model's calibration .*vae calibrate DIR --dataset NAME/,
      );
      const train = (await loadDataset('mnist-mini')).train.images;
      const made = await model.calibrate(
        { data: train.slice(0, 400 * 784), shape: [400, 28, 28, 1] },
        { data: train.slice(400 * 784, 800 * 784), shape: [400, 28, 28, 1] },
        { samples: 4 },
      );
      checkAnomalyCalibration(made);
      assert.equal(made.samples, 4);
      assert.deepEqual(Object.keys(made.reference.statistics), ['nll', 'bitsPerDim', 'rate', 'misfit']);
      writeFileSync(join(dir, 'card.json'), 'not json');
      assert.ok(referenceFrom(plain.statistics, true, 'x').statistics.nll?.length === 41);
    } finally {
      await model.dispose();
    }
  });
});
