import { join } from 'node:path';
import { sizeOf } from '../../core/model-dir.js';
import { normalArray } from '../../core/random.js';
import { exportVae } from '../../export/index.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { imageGrid } from '../../node/png.js';
import { compareRuntimes } from '../../parity/runtime-parity.js';
import { VaeModel } from '../../runtime/node.js';
import { loadDataset } from '../../train/index.js';
import { type Command, stringFlag } from '../args.js';
import { note, out } from '../output.js';
import { pairRows, spreadExamples } from '../pictures.js';
import { TRAIN_FLAGS, trainOptionsFrom, trainWithProgress } from './train.js';

/** Parity tolerance of the demo: max abs difference between any two runtimes. */
export const DEMO_TOLERANCE = 1e-5;

/** `vae demo`: the main job on the embedded default, end to end. */
export const demoCommand: Command = {
  name: 'demo',
  usage: '--out DIR [training options]',
  flags: {
    out: { type: 'string', value: 'DIR', description: 'model directory to write (required)' },
    ...TRAIN_FLAGS,
  },
  details:
    'Writes card.json, tfjs/, encoder.onnx, decoder.onnx, samples.png and reconstructions.png into DIR.\n' +
    `Exits with code 1 when two runtimes differ by more than ${DEMO_TOLERANCE} on any output.`,
  async run(args) {
    const dir = stringFlag('demo', args, 'out');
    const started = performance.now();
    // The demo writes its own directory: running it again replaces what it wrote before.
    const result = await trainWithProgress({ ...trainOptionsFrom('demo', args), out: dir, force: true });
    const card = result.card;
    await exportVae(dir);
    note(`wrote ${join(dir, 'encoder.onnx')} and ${join(dir, 'decoder.onnx')}`);

    const data = await loadDataset(card.dataset);
    const n = 64;
    const D = sizeOf(card.inputShape);
    const x = {
      data: spreadExamples(data.test.images, data.test.count, D, n),
      shape: [n, ...card.inputShape],
    };
    const z = { data: normalArray(n * card.latentDim, 1234), shape: [n, card.latentDim] };
    const rows = await compareRuntimes(dir, x, z);
    for (const r of rows) {
      note(
        `  ${r.runtime.padEnd(22)} vs ${r.reference.padEnd(22)} ${r.tensor.padEnd(6)} max |Δ| ${r.maxAbs.toExponential(2)}`,
      );
    }
    const worst = rows.reduce((a, b) => (b.maxAbs > a.maxAbs || Number.isNaN(b.maxAbs) ? b : a));
    const ok = worst.maxAbs <= DEMO_TOLERANCE;
    out(
      `parity: ${[...new Set(rows.flatMap((r) => [r.reference, r.runtime]))].join(', ')} on ${n} test images and ${n} latent codes: largest difference ${worst.maxAbs.toExponential(2)} (${worst.runtime} vs ${worst.reference}, ${worst.tensor}); tolerance ${DEMO_TOLERANCE.toExponential(0)}: ${ok ? 'ok' : 'FAILED'}`,
    );

    const model = await VaeModel.load(dir);
    try {
      const samples = await model.sample(64, { seed: 0 });
      await writeFileAtomic(
        join(dir, 'samples.png'),
        imageGrid(samples.x.data, samples.x.shape, { columns: 8 }),
      );
      const k = 32;
      const originals = spreadExamples(data.test.images, data.test.count, D, k);
      const recon = await model.reconstruct({ data: originals, shape: [k, ...card.inputShape] });
      await writeFileAtomic(
        join(dir, 'reconstructions.png'),
        imageGrid(pairRows(originals, recon.data, D), [2 * k, ...card.inputShape], { columns: 8 }),
      );
    } finally {
      await model.dispose();
    }
    note(
      `wrote ${join(dir, 'samples.png')} and ${join(dir, 'reconstructions.png')} (odd rows: test images, even rows: reconstructions)`,
    );
    out(`demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s; model directory: ${dir}`);
    return ok ? 0 : 1;
  },
};
