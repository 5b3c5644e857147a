import {
  type Command,
  choiceFlag,
  intFlag,
  intListFlag,
  numberFlag,
  onePositional,
  UsageError,
} from '../args.js';
import { DATA_FLAGS, loadExamples, loadModel, MODEL_FLAGS, pathFlag, writeGrid } from '../model-data.js';
import { note, out } from '../output.js';

/**
 * Each latent dimension's mean KL from the prior over `mu` and `logvar` (n × L, row-major): the nats
 * it carries; a dimension near 0 is inactive (posterior collapse), the largest ones hold the factors.
 */
export function klPerDimension(mu: Float32Array, logvar: Float32Array, latentDim: number): Float64Array {
  const kl = new Float64Array(latentDim);
  const n = mu.length / latentDim;
  for (let i = 0; i < mu.length; i++) {
    const m = mu[i] as number;
    const lv = logvar[i] as number;
    const d = i % latentDim;
    kl[d] = (kl[d] as number) + (0.5 * (m * m + Math.exp(lv) - 1 - lv)) / n;
  }
  return kl;
}

/** `vae traverse DIR`: decode one latent dimension at a time swept across a range, one row per dimension. */
export const traverseCommand: Command = {
  name: 'traverse',
  usage:
    'DIR [--dims all|I,J,…] [--top N] [--order kl|index] [--example I] [--range 3] [--steps 9] [--png FILE]',
  flags: {
    dims: { type: 'string', value: 'D', description: 'dimensions to sweep: all, or a list', default: 'all' },
    top: {
      type: 'string',
      value: 'N',
      description: 'only the N dimensions (of --dims) that carry the most KL, in --order',
    },
    order: {
      type: 'string',
      value: 'O',
      description: 'rows by mean KL over the examples, largest first (kl), or by index',
      default: 'kl',
    },
    example: {
      type: 'string',
      value: 'I',
      description: "sweep around this example's mean code (default: the prior's mean, zero)",
    },
    range: { type: 'string', value: 'R', description: 'each dimension goes from -R to R', default: '3' },
    steps: { type: 'string', value: 'N', description: 'values per dimension', default: '9' },
    png: { type: 'string', value: 'FILE', description: 'PNG file to write', default: 'DIR/traverse.png' },
    ...DATA_FLAGS,
    limit: {
      type: 'string',
      value: 'N',
      description: 'examples (drawn at random with --seed) that measure each dimension’s KL',
      default: '500',
    },
    ...MODEL_FLAGS,
  },
  details:
    'With a β-VAE trained on --dataset shapes, each row shows what one dimension learned: position,\n' +
    'scale, rotation or shape; rows whose KL is near 0 are dimensions the model does not use.',
  async run(args) {
    const cmd = 'traverse';
    const dir = onePositional(cmd, args, 'model directory');
    const steps = intFlag(cmd, args, 'steps', 2, 100);
    const range = numberFlag(cmd, args, 'range');
    const order = choiceFlag(cmd, args, 'order', ['kl', 'index']);
    const png = pathFlag(cmd, args, 'png', dir);
    const model = await loadModel(cmd, args, dir);
    try {
      const L = model.latentDim;
      const dims =
        args.flags.dims === 'all'
          ? Array.from({ length: L }, (_, i) => i)
          : intListFlag(cmd, args, 'dims', 0, L - 1, L);
      const needsData = order === 'kl' || args.flags.example !== undefined || args.flags.top !== undefined;
      const examples = needsData ? await loadExamples(cmd, args, model) : undefined;
      let base = new Float32Array(L);
      let kl: Float64Array | undefined;
      if (examples) {
        const { mu, logvar } = await model.encode(examples.batch);
        kl = klPerDimension(mu.data, logvar.data, L);
        if (args.flags.example !== undefined) {
          const n = examples.batch.shape[0] as number;
          const i = intFlag(cmd, args, 'example', 0);
          if (i >= n) {
            throw new UsageError(`vae ${cmd}: --example must be below ${n} (the examples drawn), got ${i}`);
          }
          base = mu.data.slice(i * L, (i + 1) * L);
        }
      }
      const top = args.flags.top === undefined ? dims.length : intFlag(cmd, args, 'top', 1, L);
      const byKl = kl ? [...dims].sort((a, b) => (kl[b] as number) - (kl[a] as number)) : dims;
      const chosen = byKl.slice(0, top);
      const rows = order === 'kl' ? chosen : dims.filter((d) => chosen.includes(d));
      const values = Array.from({ length: steps }, (_, i) => -range + (2 * range * i) / (steps - 1));
      const sweeps = [];
      for (const d of rows) sweeps.push(await model.traverse(base, d, values));
      const D = sweeps[0]?.x.data.length ?? 0;
      const all = new Float32Array(D * rows.length);
      for (const [r, s] of sweeps.entries()) all.set(s.x.data, r * D);
      await writeGrid(png, { data: all, shape: [rows.length * steps, ...model.inputShape] }, steps);
      for (const [r, d] of rows.entries()) {
        out(`row ${r + 1}: dimension ${d}${kl ? `, KL ${(kl[d] as number).toFixed(3)} nats` : ''}`);
      }
      note(
        `wrote ${png}: ${rows.length} dimensions × ${steps} values from ${-range} to ${range}, around ${
          args.flags.example === undefined ? 'the zero code' : `example ${String(args.flags.example)}`
        } (${model.backend})`,
      );
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
