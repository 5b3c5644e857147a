/**
 * npm run bench:export — how long exporting a model of about a million parameters takes, beside
 * tfjs's own serialization of the same model (model.save to memory) in the same process.
 * Medians of 15 runs after 3 warm-ups; the target is under 200 ms per export.
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { exportModel } from '../src/export/index.js';
import { selectBackend } from '../src/train/index.js';

await selectBackend('wasm');
const L = tf.layers;
let seed = 1;
const init = () => tf.initializers.glorotUniform({ seed: seed++ });

function mlp(): tf.LayersModel {
  const m = tf.sequential();
  m.add(L.dense({ inputShape: [784], units: 800, activation: 'relu', kernelInitializer: init() }));
  m.add(L.dense({ units: 400, activation: 'relu', kernelInitializer: init() }));
  m.add(L.dense({ units: 784, kernelInitializer: init() }));
  return m;
}

function convNet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    L.conv2d({
      inputShape: [32, 32, 3],
      filters: 64,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
    }),
  );
  for (const filters of [128, 256, 256]) {
    m.add(
      L.conv2d({
        filters,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
      }),
    );
  }
  m.add(L.globalAveragePooling2d({}));
  m.add(L.dense({ units: 10, kernelInitializer: init() }));
  return m;
}

async function median(run: () => Promise<unknown>, warm = 3, n = 15): Promise<number> {
  for (let i = 0; i < warm; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)] as number;
}

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, tfjs backend ${tf.getBackend()}`,
);
for (const [name, model] of [
  ['MLP 784-800-400-784', mlp()],
  ['conv net 32×32×3 → 10', convNet()],
] as const) {
  const params = model.countParams();
  let size = 0;
  const exportMs = await median(async () => {
    size = (await exportModel(model)).length;
  });
  const saveMs = await median(() =>
    model.save(
      tf.io.withSaveHandler(async () => ({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
      })),
    ),
  );
  const fp16Ms = await median(() => exportModel(model, { precision: 'fp16' }));
  const int8Ms = await median(() => exportModel(model, { precision: 'int8' }));
  console.log(
    `${name}: ${params.toLocaleString('en-US')} parameters, ${(size / 2 ** 20).toFixed(2)} MiB ONNX; exportModel ${exportMs.toFixed(1)} ms ` +
      `(fp16 ${fp16Ms.toFixed(1)} ms, int8 ${int8Ms.toFixed(1)} ms); tfjs model.save to memory ${saveMs.toFixed(1)} ms; ratio ${(exportMs / saveMs).toFixed(2)}×`,
  );
}
