import { join } from 'node:path';
import { type AnyCard, CARD_FORMAT, MODEL_FILES, sizeOf } from '../../core/model-dir.js';
import { createRng, deriveSeed, permutation } from '../../core/random.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { recoverCommits } from '../../node/commit.js';
import { lockModelDir } from '../../node/dir-lock.js';
import { writeAnyCard } from '../../node/model-dir-files.js';
import { thresholdAt } from '../../runtime/anomaly/quantiles.js';
import type { VaeModel } from '../../runtime/node.js';
import type { Dataset } from '../../train/dataset.js';
import { loadDataset } from '../../train/datasets.js';
import { type Command, imageSizeFlag, intFlag, onePositional, UsageError } from '../args.js';
import { LIKELIHOOD_FLAG, loadModel, MODEL_FLAGS } from '../model-data.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';

/** Examples in each of the reference and the calibration, unless told otherwise (as training uses). */
const DEFAULT_EXAMPLES = 5000;

/** The rows of the training split the model fitted and those it held out, when its card says how it split them. */
function trainingRows(
  model: VaeModel,
  data: Dataset,
): { fit: Uint32Array; heldOut: Uint32Array } | undefined {
  const card = model.card;
  if (!card || card.origin === 'foreign' || card.dataset !== data.name) return undefined;
  const valCount = card.training.valExamples ?? 0;
  const usable = card.training.trainExamples + valCount;
  if (valCount === 0 || usable > data.train.count) return undefined;
  // The trainer's split (prepareSplits): a seeded permutation whose first valCount rows are held out.
  const order = permutation(usable, createRng(deriveSeed(card.training.seed, 0x7a1)));
  return { fit: order.subarray(valCount), heldOut: order.subarray(0, valCount) };
}

function gather(data: Dataset, rows: ArrayLike<number>, limit: number): Float32Array {
  const size = sizeOf(data.shape);
  const n = Math.min(limit, rows.length);
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    out.set(data.train.images.subarray(r * size, (r + 1) * size), i * size);
  }
  return out;
}

/** `vae calibrate DIR`: measure the anomaly scores on data like the model's, into card.json. */
export const calibrateCommand: Command = {
  name: 'calibrate',
  usage: 'DIR [--dataset NAME] [--examples 5000] [--samples 16] [--seed 0] [--likelihood L]',
  flags: {
    dataset: {
      type: 'string',
      value: 'NAME',
      description: "data like the model's training data (default: the card's dataset)",
    },
    'image-size': { type: 'string', value: 'HxWxC', description: 'size to convert png: images to' },
    examples: {
      type: 'string',
      value: 'N',
      description: 'examples in each of the reference and the calibration',
      default: String(DEFAULT_EXAMPLES),
    },
    samples: { type: 'string', value: 'K', description: 'draws of q(z|x) per example', default: '16' },
    seed: { type: 'string', value: 'S', description: 'seed of the draws and of the split', default: '0' },
    ...MODEL_FLAGS,
    ...LIKELIHOOD_FLAG,
  },
  details: [
    "Writes card.json's anomaly section: the dose score's reference (its statistics on training data) and",
    "every score's calibration (its values on held-out data, for percentiles and verdicts). For a model this",
    'project trained on that dataset, the rows it fitted and the rows it held out are those of its training',
    "run; otherwise the dataset's train split is divided at random into a reference and a held-out half.",
    'A model exported by another tool gets a card.json with origin "foreign" that holds the calibration.',
  ].join('\n'),
  async run(args) {
    const dir = onePositional('calibrate', args, 'model directory');
    const examples = intFlag('calibrate', args, 'examples', 100, 1_000_000);
    const samples = intFlag('calibrate', args, 'samples', 1, 100_000);
    const seed = intFlag('calibrate', args, 'seed', 0);
    if (/\.zip$/i.test(dir)) {
      throw new UsageError(
        `vae calibrate: ${dir} is a zip, which cannot be written into: calibrate the model directory, then zip it again`,
      );
    }
    const lock = await lockModelDir(dir, 'vae calibrate');
    await recoverCommits(dir);
    // Without the card's anomaly section: recalibrating replaces it, whatever state it is in.
    const model = await loadModel('calibrate', args, dir, { withoutAnomaly: true }).catch(async (error) => {
      await lock.release();
      throw error;
    });
    try {
      const name = (args.flags.dataset as string | undefined) ?? model.card?.dataset;
      if (name === undefined) {
        throw new Error(`vae calibrate: ${dir} has no card.json to name its dataset; pass --dataset`);
      }
      const imageShape = imageSizeFlag('calibrate', args);
      const data = await loadDataset(name, imageShape ? { imageShape } : {});
      if (sizeOf(data.shape) !== sizeOf(model.inputShape)) {
        throw new Error(
          `cannot calibrate: the model takes examples of shape [${model.inputShape}], "${data.name}" has [${data.shape}]`,
        );
      }
      const trained = trainingRows(model, data);
      let rows: { fit: ArrayLike<number>; heldOut: ArrayLike<number> };
      let heldOutSplit: string;
      if (trained) {
        rows = trained;
        heldOutSplit = 'validation';
      } else {
        const order = permutation(data.train.count, createRng(deriveSeed(seed, 0xca1)));
        const half = Math.min(examples, Math.floor(data.train.count / 2));
        rows = { heldOut: order.subarray(0, half), fit: order.subarray(half) };
        heldOutSplit = 'train (half held out by vae calibrate)';
      }
      const reference = gather(data, rows.fit, examples);
      const heldOut = gather(data, rows.heldOut, examples);
      const bar = progressBar();
      let stage = '';
      const anomaly = await model.calibrate(
        { data: reference, shape: [reference.length / sizeOf(data.shape), ...model.inputShape] },
        { data: heldOut, shape: [heldOut.length / sizeOf(data.shape), ...model.inputShape] },
        {
          samples,
          seed,
          referenceSplit: 'train',
          heldOutSplit,
          onStage: (s, done, total) => {
            if (s !== stage && stage !== '') bar.done();
            stage = s;
            bar.update(done / total, `${s}: ${done}/${total} examples`);
          },
        },
      );
      bar.done();
      const likelihood = model.card?.likelihood ?? (model.likelihoodKind as 'bernoulli' | 'gaussian');
      const card: AnyCard = model.card
        ? { ...model.card, anomaly }
        : {
            format: CARD_FORMAT,
            origin: 'foreign',
            inputShape: model.inputShape,
            latentDim: model.latentDim,
            likelihood,
            ...(model.likelihoodSpec?.kind === 'gaussian'
              ? { likelihoodParams: { logVariance: model.likelihoodSpec.logVariance } }
              : {}),
            dataset: data.name,
            anomaly,
            packageVersion: PACKAGE_VERSION,
          };
      await writeAnyCard(dir, card);
      const dose = anomaly.calibration.scores.dose;
      out(
        `calibrated ${dir} on ${data.name}: reference ${anomaly.reference.examples} training examples, calibration ${anomaly.calibration.examples} ${heldOutSplit} examples, K=${samples}`,
      );
      if (dose) {
        out(
          `dose threshold at a ${anomaly.falseAlarmRate * 100} % false-alarm rate: ${thresholdAt(dose, anomaly.falseAlarmRate).toFixed(3)}`,
        );
      }
      note(`wrote ${join(dir, MODEL_FILES.card)}`);
    } finally {
      await model.dispose();
      await lock.release();
    }
    return 0;
  },
};
