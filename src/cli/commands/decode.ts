import { readFile } from 'node:fs/promises';
import { parseNumericCsv } from '../../core/numeric-csv.js';
import { type Command, onePositional, stringFlag } from '../args.js';
import { loadModel, MODEL_FLAGS, pathFlag, writeGrid } from '../model-data.js';
import { note } from '../output.js';

/**
 * Reads latent codes from a CSV file: the mu_* columns when the header has them (as `vae encode`
 * writes), else every column.
 */
export async function readCodes(path: string, latentDim: number): Promise<Float32Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read codes from ${path}: ${(error as Error).message}`, { cause: error });
  }
  let fromMu = false;
  const { values, columns } = parseNumericCsv(text, path, (header, width) => {
    const mu = header?.flatMap((c, j) => (/^mu_\d+$/.test(c) ? [j] : [])) ?? [];
    fromMu = mu.length > 0;
    return fromMu ? mu : Array.from({ length: width }, (_, j) => j);
  });
  if (columns !== latentDim) {
    throw new Error(
      `cannot read codes from ${path}: the model's codes have ${latentDim} values, the file has ${columns} ${fromMu ? 'mu_* columns' : 'columns'}`,
    );
  }
  return values;
}

/** `vae decode DIR --codes FILE`: decode latent codes from a CSV file into a PNG grid. */
export const decodeCommand: Command = {
  name: 'decode',
  usage: 'DIR --codes FILE [--png FILE]',
  flags: {
    codes: {
      type: 'string',
      value: 'FILE',
      description: 'CSV of codes: mu_* columns (as vae encode writes) or L numbers per row',
    },
    png: { type: 'string', value: 'FILE', description: 'PNG file to write', default: 'DIR/decoded.png' },
    ...MODEL_FLAGS,
  },
  async run(args) {
    const dir = onePositional('decode', args, 'model directory');
    const codes = stringFlag('decode', args, 'codes');
    const png = pathFlag('decode', args, 'png', dir);
    const model = await loadModel('decode', args, dir);
    try {
      const z = await readCodes(codes, model.latentDim);
      const n = z.length / model.latentDim;
      const x = await model.decode({ data: z, shape: [n, model.latentDim] });
      await writeGrid(png, x);
      note(`wrote ${png}: ${n} codes from ${codes} decoded on ${model.backend}`);
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
