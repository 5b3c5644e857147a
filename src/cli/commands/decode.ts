import { readFile } from 'node:fs/promises';
import { type Command, onePositional, stringFlag } from '../args.js';
import { loadModel, MODEL_FLAGS, pathFlag, writeGrid } from '../model-data.js';
import { note } from '../output.js';

/**
 * Reads latent codes from a CSV file: the mu_* columns when the header has them (as `vae encode`
 * writes), else every column.
 */
export async function readCodes(path: string, latentDim: number): Promise<Float32Array> {
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
  const first = (lines[0] ?? '').split(',').map((c) => c.trim());
  const hasHeader = first.some((c) => c !== '' && !Number.isFinite(Number(c)));
  const columns = hasHeader
    ? first.flatMap((c, j) => (/^mu_\d+$/.test(c) ? [j] : []))
    : first.map((_, j) => j);
  if (hasHeader && columns.length === 0) columns.push(...first.map((_, j) => j));
  if (columns.length !== latentDim) {
    throw new Error(
      `cannot read codes from ${path}: the model's codes have ${latentDim} values, the file has ${columns.length} ${hasHeader ? 'mu_* columns' : 'columns'}`,
    );
  }
  const body = hasHeader ? lines.slice(1) : lines;
  if (body.length === 0) throw new Error(`cannot read codes from ${path}: it has no rows`);
  const out = new Float32Array(body.length * latentDim);
  body.forEach((line, i) => {
    const cells = line.split(',');
    columns.forEach((col, j) => {
      const v = Number(cells[col]);
      if (cells[col] === undefined || cells[col]?.trim() === '' || !Number.isFinite(v)) {
        throw new Error(
          `cannot read codes from ${path}: line ${i + (hasHeader ? 2 : 1)}, column ${col + 1} must be a finite number, got ${JSON.stringify(cells[col] ?? '')}`,
        );
      }
      out[i * latentDim + j] = v;
    });
  });
  return out;
}

/** `vae decode DIR --codes FILE`: decode latent codes from a CSV file into a PNG grid. */
export const decodeCommand: Command = {
  name: 'decode',
  summary: 'decode latent codes from a CSV file into a PNG grid',
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
