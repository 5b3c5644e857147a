import { writeFileAtomic } from '../../node/atomic-write.js';
import { imageGrid } from '../../node/png.js';
import { type Command, intFlag, onePositional } from '../args.js';
import { loadModel, MODEL_FLAGS, pathFlag } from '../model-data.js';
import { note } from '../output.js';

/** `vae sample DIR`: decode seeded draws from the prior into a PNG grid. */
export const sampleCommand: Command = {
  name: 'sample',
  usage: 'DIR [--n N] [--seed S] [--png FILE] [--backend auto|cpu|cuda|wasm]',
  flags: {
    n: { type: 'string', value: 'N', description: 'number of samples', default: '64' },
    seed: { type: 'string', value: 'S', description: 'seed of the latent draws', default: '0' },
    png: { type: 'string', value: 'FILE', description: 'PNG file to write', default: 'DIR/samples.png' },
    ...MODEL_FLAGS,
  },
  async run(args) {
    const dir = onePositional('sample', args, 'model directory');
    const n = intFlag('sample', args, 'n', 1, 10_000);
    const seed = intFlag('sample', args, 'seed', 0);
    const png = pathFlag('sample', args, 'png', dir);
    const model = await loadModel('sample', args, dir);
    try {
      const { x } = await model.sample(n, { seed });
      if (model.inputShape.length !== 3) {
        throw new Error(
          `cannot draw samples as images: the model's examples have shape [${model.inputShape}], not [H, W, C]`,
        );
      }
      await writeFileAtomic(png, imageGrid(x.data, x.shape));
      note(`wrote ${png}: ${n} samples (seed ${seed}) decoded on ${model.backend}`);
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
