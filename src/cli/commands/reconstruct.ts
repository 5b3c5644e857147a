import { type Command, intFlag, onePositional } from '../args.js';
import { DATA_FLAGS, loadExamples, loadModel, MODEL_FLAGS, pathFlag, writeGrid } from '../model-data.js';
import { note } from '../output.js';
import { pairRows } from '../pictures.js';

/** `vae reconstruct DIR`: examples beside their reconstructions, as a PNG grid. */
export const reconstructCommand: Command = {
  name: 'reconstruct',
  usage: 'DIR [--dataset NAME] [--split test] [--n 32] [--png FILE]',
  flags: {
    ...DATA_FLAGS,
    n: { type: 'string', value: 'N', description: 'number of examples (the first N)', default: '32' },
    png: { type: 'string', value: 'FILE', description: 'PNG file to write', default: 'DIR/reconstruct.png' },
    ...MODEL_FLAGS,
  },
  details: 'Rows alternate: 8 examples, then their reconstructions.',
  async run(args) {
    const dir = onePositional('reconstruct', args, 'model directory');
    const n = intFlag('reconstruct', args, 'n', 1, 4096);
    const png = pathFlag('reconstruct', args, 'png', dir);
    const model = await loadModel('reconstruct', args, dir);
    try {
      const ex = await loadExamples('reconstruct', args, model);
      const count = Math.min(n, ex.batch.shape[0] as number);
      const size = ex.batch.data.length / (ex.batch.shape[0] as number);
      const originals = ex.batch.data.subarray(0, count * size);
      const recon = await model.reconstruct({ data: originals, shape: [count, ...model.inputShape] });
      const pairs = pairRows(originals, recon.data, size);
      await writeGrid(png, { data: pairs, shape: [2 * count, ...model.inputShape] }, 8);
      note(
        `wrote ${png}: ${count} ${ex.name} ${ex.split} examples and their reconstructions (${model.backend})`,
      );
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
