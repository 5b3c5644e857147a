import { normalArray } from '../../core/random.js';
import type { InterpolationMethod } from '../../runtime/node.js';
import { type Command, choiceFlag, intFlag, onePositional, stringFlag, UsageError } from '../args.js';
import { DATA_FLAGS, loadExamples, loadModel, MODEL_FLAGS, pathFlag, writeGrid } from '../model-data.js';
import { note } from '../output.js';

function pair(cmd: string, flag: string, raw: string): [number, number] {
  const m = /^(\d+),(\d+)$/.exec(raw.trim());
  if (!m) throw new UsageError(`vae ${cmd}: --${flag} must be two integers "A,B", got "${raw}"`);
  return [Number(m[1]), Number(m[2])];
}

/** `vae interpolate DIR`: decode the path between two codes (from seeds or from two examples). */
export const interpolateCommand: Command = {
  name: 'interpolate',
  usage: 'DIR (--seeds A,B | --examples I,J [--dataset NAME]) [--steps 10] [--method spherical] [--png FILE]',
  flags: {
    seeds: {
      type: 'string',
      value: 'A,B',
      description: 'codes drawn from N(0, I) with these seeds (as vae sample)',
    },
    examples: {
      type: 'string',
      value: 'I,J',
      description: 'mean codes of these two examples of the dataset',
    },
    steps: { type: 'string', value: 'N', description: 'codes on the path, ends included', default: '10' },
    method: { type: 'string', value: 'M', description: 'linear or spherical', default: 'spherical' },
    png: { type: 'string', value: 'FILE', description: 'PNG file to write', default: 'DIR/interpolate.png' },
    ...DATA_FLAGS,
    ...MODEL_FLAGS,
  },
  async run(args) {
    const dir = onePositional('interpolate', args, 'model directory');
    const steps = intFlag('interpolate', args, 'steps', 2, 1000);
    const method = choiceFlag<InterpolationMethod>('interpolate', args, 'method', ['linear', 'spherical']);
    const png = pathFlag('interpolate', args, 'png', dir);
    if ((args.flags.seeds === undefined) === (args.flags.examples === undefined)) {
      throw new UsageError('vae interpolate: give either --seeds A,B or --examples I,J');
    }
    const model = await loadModel('interpolate', args, dir);
    try {
      let path: Awaited<ReturnType<typeof model.interpolate>>;
      let what: string;
      if (args.flags.seeds !== undefined) {
        const [a, b] = pair('interpolate', 'seeds', stringFlag('interpolate', args, 'seeds'));
        const L = model.latentDim;
        path = await model.interpolate(normalArray(L, a), normalArray(L, b), { steps, method });
        what = `codes of seeds ${a} and ${b}`;
      } else {
        const [i, j] = pair('interpolate', 'examples', stringFlag('interpolate', args, 'examples'));
        const ex = await loadExamples('interpolate', args, model);
        const n = ex.batch.shape[0] as number;
        for (const k of [i, j]) {
          if (k >= n)
            throw new RangeError(`interpolate: example ${k} does not exist; the ${ex.split} split has ${n}`);
        }
        const size = ex.batch.data.length / n;
        const row = (k: number) => ex.batch.data.subarray(k * size, (k + 1) * size);
        path = await model.interpolate(row(i), row(j), { steps, method, from: 'examples' });
        what = `${ex.name} ${ex.split} examples ${i} and ${j}`;
      }
      await writeGrid(png, path.x, steps);
      note(`wrote ${png}: ${steps} ${method} steps between the ${what} (${model.backend})`);
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
