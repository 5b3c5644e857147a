import { exportVae } from '../../export/index.js';
import {
  type BackendName,
  DEFAULT_TRAIN_OPTIONS,
  selectBackend,
  type TrainOptions,
  type TrainResult,
  trainVae,
} from '../../train/index.js';
import { type Command, choiceFlag, intFlag, numberFlag, type ParsedArgs, stringFlag } from '../args.js';
import { note, thousands } from '../output.js';
import { formatDuration, progressBar } from '../progress.js';

const d = DEFAULT_TRAIN_OPTIONS;

/**
 * Trains with a progress bar on stderr and a line per epoch; prints the backend first.
 */
export async function trainWithProgress(
  options: Partial<TrainOptions> & Pick<TrainOptions, 'out'>,
): Promise<TrainResult> {
  const choice = await selectBackend(options.backend ?? 'auto');
  const skipped = choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  note(`backend: tfjs ${choice.name}${skipped ? ` (not available: ${skipped})` : ''}`);
  const bar = progressBar();
  const result = await trainVae({
    ...options,
    backend: choice.name,
    onStep: (p) => {
      const done = (p.epoch - 1) * p.stepsPerEpoch + p.step;
      const total = p.epochs * p.stepsPerEpoch;
      bar.update(
        done / total,
        `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(2)} ${thousands(p.examplesPerSec)} ex/s ETA ${formatDuration(p.etaSec)}`,
      );
    },
    onEpoch: (e) => {
      bar.done(
        `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(3)}, test neg-ELBO ${e.testNegElbo.toFixed(3)} nats, ${thousands(e.examplesPerSec)} ex/s, ${e.seconds.toFixed(1)} s`,
      );
    },
  });
  return result;
}

/** Flags shared by `train` and `demo`. */
export const TRAIN_FLAGS = {
  dataset: {
    type: 'string',
    value: 'NAME',
    description: 'mnist-mini, fashion-mnist, mnist or idx:DIR',
    default: d.dataset,
  },
  latent: { type: 'string', value: 'N', description: 'latent dimensions', default: String(d.latentDim) },
  hidden: { type: 'string', value: 'N', description: 'hidden units', default: String(d.hiddenDim) },
  epochs: {
    type: 'string',
    value: 'N',
    description: 'passes over the training set',
    default: String(d.epochs),
  },
  batch: { type: 'string', value: 'N', description: 'examples per step', default: String(d.batchSize) },
  lr: { type: 'string', value: 'X', description: 'Adam learning rate', default: String(d.learningRate) },
  seed: {
    type: 'string',
    value: 'N',
    description: 'seed for weights, shuffling and noise',
    default: String(d.seed),
  },
  backend: {
    type: 'string',
    value: 'NAME',
    description: 'tfjs backend: auto, tensorflow, wasm, cpu',
    default: 'auto',
  },
} as const satisfies Command['flags'];

/** Reads the training flags into trainVae options. */
export function trainOptionsFrom(cmd: string, args: ParsedArgs): Omit<TrainOptions, 'out'> {
  return {
    dataset: stringFlag(cmd, args, 'dataset'),
    latentDim: intFlag(cmd, args, 'latent', 1),
    hiddenDim: intFlag(cmd, args, 'hidden', 1),
    epochs: intFlag(cmd, args, 'epochs', 1),
    batchSize: intFlag(cmd, args, 'batch', 1),
    learningRate: numberFlag(cmd, args, 'lr'),
    seed: intFlag(cmd, args, 'seed', 0),
    backend: choiceFlag<BackendName | 'auto'>(cmd, args, 'backend', ['auto', 'tensorflow', 'wasm', 'cpu']),
    command: `vae ${cmd} ${args.argv.join(' ')}`.trim(),
  };
}

/** `vae train`: fit a VAE, write card.json and the tfjs checkpoint, then the ONNX files. */
export const trainCommand: Command = {
  name: 'train',
  summary: 'train a VAE and write its model directory (card.json, tfjs/, encoder.onnx, decoder.onnx)',
  usage: '--out DIR [options]',
  flags: {
    ...TRAIN_FLAGS,
    out: { type: 'string', value: 'DIR', description: 'model directory to write (required)' },
    'no-export': { type: 'boolean', description: 'skip writing the ONNX files' },
    opset: { type: 'string', value: 'N', description: 'ONNX opset of the exported files', default: '13' },
  },
  async run(args) {
    const outDir = stringFlag('train', args, 'out');
    const options = trainOptionsFrom('train', args);
    const opset = intFlag('train', args, 'opset', 13, 21);
    const started = performance.now();
    const result = await trainWithProgress({ ...options, out: outDir });
    const m = result.card.metrics;
    if (m) {
      note(
        `test neg-ELBO ${m.negElbo.toFixed(3)} nats (recon ${m.recon.toFixed(3)}, KL ${m.kl.toFixed(3)}) on ${m.examples} examples`,
      );
    }
    if (!args.flags['no-export']) {
      await exportVae(outDir, { opset });
      note(`wrote ${outDir}/encoder.onnx and decoder.onnx (opset ${opset})`);
    }
    note(`wrote ${outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  },
};
