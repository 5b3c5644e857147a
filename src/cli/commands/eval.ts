import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_FILES, type ModelCard, sizeOf } from '../../core/model-dir.js';
import { logStdSum, standardize } from '../../core/normalization.js';
import { VaeModel } from '../../runtime/node.js';
import {
  ACTIVE_UNIT_THRESHOLD,
  type Dataset,
  evaluateElbo,
  iwaeNll,
  loadCheckpoint,
  loadDataset,
  randomSubset,
  readCard,
  type Split,
  selectBackend,
} from '../../train/index.js';
import { iwaeNllWithModel } from '../../train/iwae-onnx.js';
import { type Command, choiceFlag, imageSizeFlag, intFlag, onePositional, type ParsedArgs } from '../args.js';
import { note, out } from '../output.js';
import { formatDuration, progressBar } from '../progress.js';

/** The split as the networks see it: standardized when the card says the model was trained so. */
function modelSpace(split: Split, card: ModelCard): Split {
  return card.normalization ? { ...split, images: standardize(split.images, card.normalization) } : split;
}

/**
 * The IWAE bound on the first `limit` examples: through onnxruntime (the model's ONNX files) when
 * the directory has them, else through the tfjs checkpoint; both draw the same noise.
 */
async function iwae(
  dir: string,
  card: ModelCard,
  split: Split,
  data: Dataset,
  k: number,
  options: { seed: number; limit: number; onProgress: (done: number, total: number) => void },
): Promise<{ nll: number; runtime: string }> {
  if (existsSync(join(dir, MODEL_FILES.encoderOnnx)) && existsSync(join(dir, MODEL_FILES.decoderOnnx))) {
    const model = await VaeModel.load(dir);
    try {
      return { nll: await iwaeNllWithModel(model, split, k, options), runtime: model.backend };
    } finally {
      await model.dispose();
    }
  }
  const nets = await loadCheckpoint(dir, card);
  const logVariance =
    card.likelihood === 'gaussian' ? tf.scalar(card.likelihoodParams?.logVariance ?? 0) : undefined;
  try {
    const nll = await iwaeNll(nets.encoder, nets.decoder, modelSpace(split, card), data.shape, k, {
      batchSize: 500,
      ...options,
      likelihood: logVariance ? { kind: 'gaussian', logVariance } : { kind: 'bernoulli' },
    });
    return {
      nll: nll + (card.normalization ? logStdSum(card.normalization) : 0),
      runtime: `tfjs-${tf.getBackend()}`,
    };
  } finally {
    logVariance?.dispose();
    nets.encoder.dispose();
    nets.decoder.dispose();
  }
}

/** `vae eval DIR`: held-out figures of a trained model. */
export const evalCommand: Command = {
  name: 'eval',
  usage: 'DIR [--dataset NAME] [--split test|train] [--iw K] [--iw-limit N] [--limit N] [--json]',
  flags: {
    dataset: { type: 'string', value: 'NAME', description: "dataset to evaluate on (default: the card's)" },
    split: { type: 'string', value: 'S', description: 'test or train', default: 'test' },
    iw: {
      type: 'string',
      value: 'K',
      description: 'importance samples for the IWAE bound (0: skip)',
      default: '1000',
    },
    'iw-limit': {
      type: 'string',
      value: 'N',
      description: 'the IWAE bound on the first N examples (as the IWAE literature reports it)',
      default: '1000',
    },
    limit: {
      type: 'string',
      value: 'N',
      description: 'evaluate N examples drawn at random (with --seed) from the split (default: all)',
    },
    seed: { type: 'string', value: 'N', description: 'seed of the z samples and of --limit', default: '0' },
    'image-size': { type: 'string', value: 'HxWxC', description: 'size to convert png: images to' },
    json: { type: 'boolean', description: 'print one JSON object with the figures' },
  },
  details: [
    'negElbo, recon and kl are single-sample estimates in nats per example over the whole split (or',
    '--limit examples drawn at random); iwaeNll is −log p(x) estimated with K importance samples on the',
    'first --iw-limit of them,',
    'decoded by onnxruntime from the ONNX files when the directory has them (else by tfjs). Progress',
    'and its ETA go to stderr when it is a terminal, --json or not.',
  ].join('\n'),
  async run(args: ParsedArgs) {
    const dir = onePositional('eval', args, 'model directory');
    const split = choiceFlag('eval', args, 'split', ['test', 'train']);
    const iw = intFlag('eval', args, 'iw', 0);
    const iwLimit = intFlag('eval', args, 'iw-limit', 1);
    const seed = intFlag('eval', args, 'seed', 0);
    const limit = args.flags.limit === undefined ? undefined : intFlag('eval', args, 'limit', 1);
    const card = await readCard(dir);
    await selectBackend('auto');
    const imageShape = imageSizeFlag('eval', args);
    const data = await loadDataset(
      String(args.flags.dataset ?? card.dataset),
      imageShape ? { imageShape } : {},
    );
    if (data.shape.join() !== card.inputShape.join()) {
      throw new Error(
        `cannot evaluate: the model takes examples of shape [${card.inputShape}], "${data.name}" has [${data.shape}]`,
      );
    }
    const part = randomSubset(data[split], sizeOf(data.shape), limit, seed);
    const started = performance.now();
    const show = !args.flags.json || process.stderr.isTTY === true;
    const bar = show ? progressBar() : undefined;
    const nets = await loadCheckpoint(dir, card);
    const logVariance =
      card.likelihood === 'gaussian' ? tf.scalar(card.likelihoodParams?.logVariance ?? 0) : undefined;
    let elbo: Awaited<ReturnType<typeof evaluateElbo>>;
    try {
      bar?.update(0, 'ELBO…');
      elbo = await evaluateElbo(nets.encoder, nets.decoder, modelSpace(part, card), data.shape, {
        batchSize: 500,
        seed,
        likelihood: logVariance ? { kind: 'gaussian', logVariance } : { kind: 'bernoulli' },
      });
    } finally {
      logVariance?.dispose();
      nets.encoder.dispose();
      nets.decoder.dispose();
    }
    // Figures in the data's own units: −log p(x|z) gains Σ log std from the standardized space.
    const shift = card.normalization ? logStdSum(card.normalization) : 0;
    const iwExamples = Math.min(elbo.examples, iwLimit);
    const iwStarted = performance.now();
    const bound =
      iw > 0
        ? await iwae(dir, card, part, data, iw, {
            seed,
            limit: iwExamples,
            onProgress: (done, total) => {
              const perExample = (performance.now() - iwStarted) / 1000 / done;
              bar?.update(
                done / total,
                `IWAE k=${iw}: ${done}/${total} examples, ETA ${formatDuration(perExample * (total - done))}`,
              );
            },
          })
        : undefined;
    bar?.done();
    const report = {
      model: dir,
      dataset: data.name,
      split,
      examples: elbo.examples,
      negElbo: elbo.negElbo + shift,
      recon: elbo.recon + shift,
      kl: elbo.kl,
      iwaeNll: bound?.nll ?? null,
      iw,
      iwExamples: bound ? iwExamples : 0,
      iwRuntime: bound?.runtime ?? null,
      activeUnits: elbo.muVariance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
      seconds: (performance.now() - started) / 1000,
    };
    if (args.flags.json) {
      out(JSON.stringify(report));
    } else {
      out(`${data.name} ${split}, ${report.examples} examples (nats per example):`);
      out(`  negElbo   ${report.negElbo.toFixed(3)}`);
      out(`  recon     ${report.recon.toFixed(3)}`);
      out(`  kl        ${report.kl.toFixed(3)}`);
      out(
        `  iwaeNll   ${bound ? `${bound.nll.toFixed(3)} (k=${iw}, first ${iwExamples} examples, ${bound.runtime})` : 'skipped (--iw 0)'}`,
      );
      out(`  active units ${report.activeUnits} of ${card.latentDim}`);
      note(`(single-sample ELBO; seed ${seed}; ${report.seconds.toFixed(1)} s)`);
    }
    return 0;
  },
};
