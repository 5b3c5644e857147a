import * as tf from '@tensorflow/tfjs';
import {
  type EvaluationReport,
  evaluate,
  loadCheckpoint,
  loadDataset,
  readCard,
  selectBackend,
} from '../../train/index.js';
import { type Command, choiceFlag, imageSizeFlag, intFlag, onePositional, type ParsedArgs } from '../args.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';

/** `vae eval DIR`: held-out figures of a trained model. */
export const evalCommand: Command = {
  name: 'eval',
  usage: 'DIR [--dataset NAME] [--split test|train] [--iw K] [--limit N] [--json]',
  flags: {
    dataset: { type: 'string', value: 'NAME', description: "dataset to evaluate on (default: the card's)" },
    split: { type: 'string', value: 'S', description: 'test or train', default: 'test' },
    iw: {
      type: 'string',
      value: 'K',
      description: 'importance samples for the IWAE bound (0: skip)',
      default: '1000',
    },
    limit: { type: 'string', value: 'N', description: 'evaluate the first N examples only' },
    seed: { type: 'string', value: 'N', description: 'seed of the z samples', default: '0' },
    'image-size': { type: 'string', value: 'HxWxC', description: 'size to convert png: images to' },
    json: { type: 'boolean', description: 'print one JSON object with the figures' },
  },
  details:
    'negElbo, recon and kl are single-sample estimates in nats per example; iwaeNll is −log p(x)\nestimated with K importance samples (a bound that tightens as K grows).',
  async run(args: ParsedArgs) {
    const dir = onePositional('eval', args, 'model directory');
    const split = choiceFlag('eval', args, 'split', ['test', 'train']);
    const iw = intFlag('eval', args, 'iw', 0);
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
    const nets = await loadCheckpoint(dir, card);
    const logVariance =
      card.likelihood === 'gaussian' ? tf.scalar(card.likelihoodParams?.logVariance ?? 0) : undefined;
    const bar = args.flags.json ? undefined : progressBar();
    let report: EvaluationReport;
    try {
      report = evaluate(nets.encoder, nets.decoder, data[split], data.shape, {
        batchSize: 500,
        seed,
        iw,
        likelihood: logVariance ? { kind: 'gaussian', logVariance } : { kind: 'bernoulli' },
        ...(limit === undefined ? {} : { limit }),
        onProgress: (done, total) => bar?.update(done / total, `IWAE k=${iw}: ${done}/${total} examples`),
      });
    } finally {
      bar?.done();
      logVariance?.dispose();
      nets.encoder.dispose();
      nets.decoder.dispose();
    }
    const result = { model: dir, dataset: data.name, split, ...report };
    if (args.flags.json) {
      out(JSON.stringify(result));
    } else {
      out(`${data.name} ${split}, ${report.examples} examples (nats per example):`);
      out(`  negElbo   ${report.negElbo.toFixed(3)}`);
      out(`  recon     ${report.recon.toFixed(3)}`);
      out(`  kl        ${report.kl.toFixed(3)}`);
      out(
        `  iwaeNll   ${report.iwaeNll === null ? 'skipped (--iw 0)' : `${report.iwaeNll.toFixed(3)} (k=${iw}, ${report.iwExamples} examples)`}`,
      );
      out(`  active units ${report.activeUnits} of ${card.latentDim}`);
      note(`(single-sample ELBO; seed ${seed})`);
    }
    return 0;
  },
};
