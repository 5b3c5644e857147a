import { type Command, onePositional } from '../args.js';
import {
  csvText,
  DATA_FLAGS,
  loadExamples,
  loadModel,
  MODEL_FLAGS,
  pathFlag,
  writeCsv,
} from '../model-data.js';
import { note } from '../output.js';

/** `vae encode DIR`: compress examples to their latent codes (mu and logvar of q(z|x)) in a CSV file. */
export const encodeCommand: Command = {
  name: 'encode',
  usage: 'DIR [--dataset NAME] [--split test] [--limit N] [--out FILE]',
  flags: {
    ...DATA_FLAGS,
    out: { type: 'string', value: 'FILE', description: 'CSV file to write', default: 'DIR/codes.csv' },
    ...MODEL_FLAGS,
  },
  details:
    'One row per example: index (in the split), file (for png: folders), label (when the dataset has labels), mu_0…mu_{L-1}, logvar_0…logvar_{L-1}.\n`vae decode DIR --codes FILE` turns the mu columns back into images.',
  async run(args) {
    const dir = onePositional('encode', args, 'model directory');
    const out = pathFlag('encode', args, 'out', dir);
    const model = await loadModel('encode', args, dir);
    try {
      const ex = await loadExamples('encode', args, model);
      const { mu, logvar } = await model.encode(ex.batch);
      const L = model.latentDim;
      const n = ex.batch.shape[0] as number;
      const names = (p: string) => Array.from({ length: L }, (_, j) => `${p}_${j}`);
      const header = [
        'index',
        ...(ex.ids ? ['file'] : []),
        ...(ex.labels ? ['label'] : []),
        ...names('mu'),
        ...names('logvar'),
      ];
      const rows = Array.from({ length: n }, (_, i) => [
        ex.indices[i] as number,
        ...(ex.ids ? [csvText(ex.ids[i] as string)] : []),
        ...(ex.labels ? [ex.labels[i] as number] : []),
        ...mu.data.subarray(i * L, (i + 1) * L),
        ...logvar.data.subarray(i * L, (i + 1) * L),
      ]);
      await writeCsv(out, header, rows);
      note(`wrote ${out}: ${n} ${ex.name} ${ex.split} examples as ${L}-dimensional codes (${model.backend})`);
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
