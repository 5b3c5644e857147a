import { MODEL_FILES } from '../../core/model-dir.js';
import { DEFAULT_OPSET, vaeToOnnx } from '../../export/index.js';
import { failpointStep } from '../../node/failpoints.js';
import { thresholdAt } from '../../runtime/anomaly/quantiles.js';
import {
  type BackendName,
  DEFAULT_FILTERS,
  DEFAULT_TRAIN_OPTIONS,
  kernelsFor,
  loadDataset,
  selectBackend,
  type TrainOptions,
  type TrainResult,
  trainVae,
} from '../../train/index.js';
import {
  type Command,
  choiceFlag,
  imageSizeFlag,
  intFlag,
  intListFlag,
  numberFlag,
  type ParsedArgs,
  stringFlag,
  UsageError,
} from '../args.js';
import { note, out, thousands } from '../output.js';
import { trainingPictures } from '../pictures.js';
import { formatDuration, progressBar } from '../progress.js';

const d = DEFAULT_TRAIN_OPTIONS;

/**
 * Trains with a progress bar on stderr and a line per epoch (or, with `json`, one JSON object per
 * epoch on stdout and no bar); prints the backend first.
 */
export async function trainWithProgress(
  options: Partial<TrainOptions> & Pick<TrainOptions, 'out'>,
  json = false,
): Promise<TrainResult> {
  const choice = await selectBackend(options.backend ?? 'auto', {
    kernels: kernelsFor(options.arch ?? 'mlp'),
  });
  const skipped = choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  note(`backend: tfjs ${choice.name}${skipped ? ` (not available: ${skipped})` : ''}`);
  const bar = progressBar();
  let finishing: string | undefined;
  return trainVae({
    ...options,
    backend: choice.name,
    onStep: (p) => {
      failpointStep();
      if (json) return;
      const done = (p.epoch - 1) * p.stepsPerEpoch + p.step;
      bar.update(
        done / (p.epochs * p.stepsPerEpoch),
        `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(2)} ${thousands(p.examplesPerSec)} ex/s ETA ${formatDuration(p.etaSec)}`,
      );
    },
    onEpoch: (e) => {
      if (json) {
        out(JSON.stringify(e));
        return;
      }
      const val = e.valNegElbo === null ? '' : `, validation neg-ELBO ${e.valNegElbo.toFixed(3)}`;
      bar.done(
        `epoch ${e.epoch}: train neg-ELBO ${e.trainLoss.toFixed(3)}${val} nats, ${thousands(e.examplesPerSec)} ex/s, ${e.seconds.toFixed(1)} s`,
      );
    },
    onFinishing: (p) => {
      if (json) return;
      if (p.stage !== finishing) {
        if (finishing !== undefined) bar.done();
        finishing = p.stage;
      }
      bar.update(p.done / p.total, `${p.stage} on ${thousands(p.done)}/${thousands(p.total)} examples`);
      if (p.done === p.total) {
        bar.done();
        finishing = undefined;
      }
    },
  });
}

/** Flags shared by `train` and `demo`. */
export const TRAIN_FLAGS = {
  dataset: {
    type: 'string',
    value: 'NAME',
    description: 'mnist-mini, fashion-mnist, mnist, shapes[:N], idx:DIR, png:DIR or csv:FILE',
    default: d.dataset,
  },
  arch: {
    type: 'string',
    value: 'A',
    description: `mlp or conv (default: conv with --filters, else ${d.arch})`,
  },
  latent: { type: 'string', value: 'N', description: 'latent dimensions', default: String(d.latentDim) },
  hidden: {
    type: 'string',
    value: 'N[,N…]',
    description: 'hidden layer widths of the mlp, encoder order (512,256 is two layers)',
    default: String(d.hiddenDim),
  },
  filters: {
    type: 'string',
    value: 'F[,F…]',
    description: `conv filters per stride-2 level (H and W multiples of 2^levels; default ${DEFAULT_FILTERS.join(',')})`,
  },
  epochs: {
    type: 'string',
    value: 'N',
    description: 'passes over the training set',
    default: String(d.epochs),
  },
  batch: { type: 'string', value: 'N', description: 'examples per step', default: String(d.batchSize) },
  lr: { type: 'string', value: 'X', description: 'Adam learning rate', default: String(d.learningRate) },
  likelihood: { type: 'string', value: 'L', description: 'bernoulli or gaussian', default: d.likelihood },
  variance: {
    type: 'string',
    value: 'V',
    description: 'gaussian variance: fixed or learned',
    default: d.variance,
  },
  sigma: {
    type: 'string',
    value: 'S',
    description: 'gaussian σ when the variance is fixed',
    default: String(d.sigma),
  },
  beta: { type: 'string', value: 'B', description: 'weight of the KL term', default: String(d.beta) },
  warmup: {
    type: 'string',
    value: 'E',
    description: 'epochs of linear KL warm-up',
    default: String(d.warmupEpochs),
  },
  'free-bits': {
    type: 'string',
    value: 'λ',
    description: 'free bits, nats per latent dimension',
    default: String(d.freeBits),
  },
  'val-fraction': {
    type: 'string',
    value: 'F',
    description: 'share of the training split held out for validation',
    default: String(d.valFraction),
  },
  patience: {
    type: 'string',
    value: 'N',
    description: 'early stopping after N epochs without validation progress (0: off)',
    default: String(d.patience),
  },
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
  workers: {
    type: 'string',
    value: 'N',
    description:
      'data-parallel training threads, each with its own wasm backend (auto: one per core on wasm)',
    default: 'auto',
  },
  'image-size': {
    type: 'string',
    value: 'HxWxC',
    description: 'size to convert png: images to, e.g. 28x28x1',
  },
  'eval-iw': {
    type: 'string',
    value: 'K',
    description: 'importance samples for the IWAE figure in card.json (0: skip)',
    default: String(d.evalIw),
  },
  standardize: {
    type: 'string',
    value: 'S',
    description:
      'standardize each feature with the training mean and std, kept in card.json and applied by every runtime: auto (csv: data with --likelihood gaussian), yes, no',
    default: 'auto',
  },
  'train-limit': {
    type: 'string',
    value: 'N',
    description: 'train on the first N examples of the training split only',
  },
  'max-memory': {
    type: 'string',
    value: 'GB',
    description: "refuse a run whose estimated memory is over this (default: half the machine's memory)",
  },
} as const satisfies Command['flags'];

function nonNegativeNumber(cmd: string, args: ParsedArgs, name: string): number {
  const raw = stringFlag(cmd, args, name);
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0)
    throw new UsageError(`vae ${cmd}: --${name} must be a number >= 0, got "${raw}"`);
  return v;
}

/**
 * --arch, --hidden and --filters: the built-in network and its layer sizes. Without --arch, --filters
 * means the conv network (`--filters 32,64,128,256` alone asks for it), and anything else the default.
 */
function architectureFlags(
  cmd: string,
  args: ParsedArgs,
): Pick<TrainOptions, 'arch' | 'hiddenDim' | 'hidden' | 'filters'> {
  const arch =
    args.flags.arch === undefined
      ? args.flags.filters === undefined
        ? d.arch
        : 'conv'
      : choiceFlag(cmd, args, 'arch', ['mlp', 'conv']);
  const hidden = intListFlag(cmd, args, 'hidden', 1, 10_000_000, 16);
  if (arch === 'conv' && hidden.length > 1) {
    throw new UsageError(`vae ${cmd}: --hidden with several widths is for --arch mlp, got --arch conv`);
  }
  if (args.flags.filters === undefined) {
    return { arch, hiddenDim: hidden[0] as number, ...(hidden.length > 1 ? { hidden } : {}) };
  }
  if (arch !== 'conv') {
    throw new UsageError(`vae ${cmd}: --filters is for --arch conv, got --arch ${String(arch)}`);
  }
  return { arch, hiddenDim: hidden[0] as number, filters: intListFlag(cmd, args, 'filters', 1, 4096, 8) };
}

/** Reads the training flags into trainVae options. */
export function trainOptionsFrom(cmd: string, args: ParsedArgs): Omit<TrainOptions, 'out'> {
  const valFraction = nonNegativeNumber(cmd, args, 'val-fraction');
  if (valFraction >= 1)
    throw new UsageError(`vae ${cmd}: --val-fraction must be below 1, got "${valFraction}"`);
  const imageShape = imageSizeFlag(cmd, args);
  return {
    ...d,
    dataset: stringFlag(cmd, args, 'dataset'),
    latentDim: intFlag(cmd, args, 'latent', 1, 65_536),
    ...architectureFlags(cmd, args),
    epochs: intFlag(cmd, args, 'epochs', 1),
    batchSize: intFlag(cmd, args, 'batch', 1),
    learningRate: numberFlag(cmd, args, 'lr'),
    likelihood: choiceFlag(cmd, args, 'likelihood', ['bernoulli', 'gaussian']),
    variance: choiceFlag(cmd, args, 'variance', ['fixed', 'learned']),
    sigma: numberFlag(cmd, args, 'sigma'),
    beta: nonNegativeNumber(cmd, args, 'beta'),
    warmupEpochs: nonNegativeNumber(cmd, args, 'warmup'),
    freeBits: nonNegativeNumber(cmd, args, 'free-bits'),
    valFraction,
    patience: intFlag(cmd, args, 'patience', 0),
    seed: intFlag(cmd, args, 'seed', 0),
    backend: choiceFlag<BackendName | 'auto'>(cmd, args, 'backend', ['auto', 'tensorflow', 'wasm', 'cpu']),
    evalIw: intFlag(cmd, args, 'eval-iw', 0),
    standardize: { auto: 'auto' as const, yes: true, no: false }[
      choiceFlag(cmd, args, 'standardize', ['auto', 'yes', 'no'])
    ],
    ...(args.flags['train-limit'] === undefined ? {} : { trainLimit: intFlag(cmd, args, 'train-limit', 1) }),
    workers: args.flags.workers === 'auto' ? 'auto' : intFlag(cmd, args, 'workers', 1, 64),
    ...(args.flags['max-memory'] === undefined
      ? {}
      : { maxMemoryBytes: numberFlag(cmd, args, 'max-memory') * 1e9 }),
    ...(imageShape ? { datasetOptions: { imageShape } } : {}),
    command: `vae ${cmd} ${args.argv.join(' ')}`.trim(),
  };
}

/** `vae train`: fit a VAE, write card.json, the tfjs checkpoint, pictures, then the ONNX files. */
export const trainCommand: Command = {
  name: 'train',
  usage: '--out DIR [options]',
  flags: {
    ...TRAIN_FLAGS,
    out: { type: 'string', value: 'DIR', description: 'model directory to write (required)' },
    resume: {
      type: 'boolean',
      description: 'continue the run checkpointed in DIR (after Ctrl-C or a crash)',
    },
    force: {
      type: 'boolean',
      description: 'train into a DIR that holds a trained model, replacing it',
    },
    json: {
      type: 'boolean',
      description: 'print one JSON object per epoch on stdout instead of the progress bar',
    },
    'no-export': { type: 'boolean', description: 'skip writing the ONNX files' },
    opset: {
      type: 'string',
      value: 'N',
      description: 'ONNX opset of the exported files',
      default: String(DEFAULT_OPSET),
    },
  },
  details:
    'A checkpoint is written after every epoch; --resume continues it to the same result as an\n' +
    'uninterrupted run. card.json gets the test figures (neg-ELBO, recon, KL, IWAE NLL, active units).',
  async run(args) {
    const outDir = stringFlag('train', args, 'out');
    const options = trainOptionsFrom('train', args);
    const opset = intFlag('train', args, 'opset', 13, 21);
    const json = args.flags.json === true;
    const started = performance.now();
    // Loaded once here and handed to the trainer, so the pictures do not load it a second time.
    const data = await loadDataset(String(options.dataset), options.datasetOptions);
    const exporting = !args.flags['no-export'];
    const written: string[] = [];
    const result = await trainWithProgress(
      {
        ...options,
        dataset: data,
        out: outDir,
        resume: args.flags.resume === true,
        force: args.flags.force === true,
        // The pictures and the ONNX files go into the model directory in one commit with card.json.
        finish: async ({ card, networks, history }) => {
          const files = await trainingPictures(networks, card, data, history);
          if (exporting) {
            const onnx = vaeToOnnx(networks, card, { opset });
            files[MODEL_FILES.encoderOnnx] = onnx.encoder;
            files[MODEL_FILES.decoderOnnx] = onnx.decoder;
          }
          written.push(...Object.keys(files));
          return files;
        },
      },
      json,
    );
    const m = result.card.metrics;
    if (m) {
      const iwae =
        m.iwaeNll === null || m.iwaeNll === undefined
          ? ''
          : `, IWAE NLL ${m.iwaeNll.toFixed(3)} (k=${m.iw}, ${m.iwExamples} examples)`;
      note(
        `test neg-ELBO ${m.negElbo.toFixed(3)} nats (recon ${m.recon.toFixed(3)}, KL ${m.kl.toFixed(3)})${iwae}, ${m.activeUnits} active units, on ${m.examples} examples`,
      );
    }
    const anomaly = result.card.anomaly;
    const dose = anomaly?.calibration.scores.dose;
    if (anomaly && dose) {
      note(
        `anomaly scores calibrated: dose reference on ${anomaly.reference.examples} training examples, percentiles on ${anomaly.calibration.examples} ${anomaly.calibration.split} examples; threshold ${thresholdAt(dose, anomaly.falseAlarmRate).toFixed(3)} flags ${100 * anomaly.falseAlarmRate} % of them`,
      );
    }
    note(
      `wrote ${[MODEL_FILES.card, ...written].map((f) => `${outDir}/${f}`).join(', ')}${exporting ? ` (ONNX opset ${opset})` : ''}`,
    );
    note(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  },
};
