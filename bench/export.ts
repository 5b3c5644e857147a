/**
 * npm run bench:export — how long exporting a model of about a million parameters takes, beside
 * tfjs's own serialization of the same model (model.save to memory) in the same process; then what
 * `vae convert` does with the same models saved as model.json (loading the files, converting),
 * beside exportModel on the model in memory, and an LSTM model of a million parameters.
 * Medians of 15 runs after 3 warm-ups, the runs of compared functions interleaved.
 *
 * --baseline REF: also time exportModel as it was at git commit REF (its src/ is unpacked under
 * .scratch/ and imported in this process), for "no slower than before" claims.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { convertLoadedModel, exportModel, loadModelJsonFrom } from '../src/export/index.js';
import { selectBackend } from '../src/train/index.js';
import { saveModelFolder } from '../test/helpers/save-model.js';
import { ROOT } from './common.js';

const { values } = parseArgs({ options: { baseline: { type: 'string' } } });

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
  return (await interleaved([run], warm, n))[0] as number;
}

/** Medians of several functions timed in turn (a, b, a, b, …), so a noisy spell hits all alike. */
async function interleaved(runs: (() => Promise<unknown>)[], warm = 3, n = 15): Promise<number[]> {
  for (let i = 0; i < warm; i++) for (const run of runs) await run();
  const times = runs.map(() => [] as number[]);
  for (let i = 0; i < n; i++) {
    for (const [k, run] of runs.entries()) {
      const t = performance.now();
      await run();
      times[k]?.push(performance.now() - t);
    }
  }
  return times.map((ts) => ts.sort((a, b) => a - b)[Math.floor(n / 2)] as number);
}

/** An LSTM sequence model of about a million parameters. */
function lstmNet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(L.lstm({ inputShape: [null, 128], units: 256, returnSequences: true, kernelInitializer: init() }));
  m.add(L.lstm({ units: 256, kernelInitializer: init() }));
  m.add(L.dense({ units: 10, kernelInitializer: init() }));
  return m;
}

/** exportModel as it was at git commit `ref`, unpacked under .scratch and imported here. */
async function baselineExport(ref: string): Promise<typeof exportModel> {
  const dir = join(ROOT, '.scratch', `baseline-${ref}`);
  if (!existsSync(join(dir, 'src'))) {
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', ref, 'src'], { cwd: ROOT, maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  }
  return ((await import(join(dir, 'src', 'export', 'index.ts'))) as { exportModel: typeof exportModel })
    .exportModel;
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

console.log('');
console.log('vae convert (model.json on disk → ONNX bytes) beside exportModel on the model in memory:');
const baseline = values.baseline ? await baselineExport(values.baseline) : undefined;
for (const [name, model] of [
  ['MLP 784-800-400-784', mlp()],
  ['LSTM 128 → 256 → 256 → 10', lstmNet()],
] as const) {
  const folder = join(ROOT, '.scratch', `bench-convert-${name.replace(/\W+/g, '-')}`);
  await saveModelFolder(model, folder);
  const loaded = await loadModelJsonFrom(folder);
  const runs: (() => Promise<unknown>)[] = [
    () => exportModel(model),
    async () => {
      const l = await loadModelJsonFrom(folder);
      await convertLoadedModel(l);
      l.model.dispose();
    },
    () => convertLoadedModel(loaded),
  ];
  // The baseline converts only what it knew (no recurrent layers before they came).
  const baselineWorks = baseline
    ? await baseline(model).then(
        () => true,
        () => false,
      )
    : false;
  if (baseline && baselineWorks) runs.push(() => baseline(model));
  const [exportMs, convertMs, convertOnlyMs, baselineMs] = await interleaved(runs);
  console.log(
    `${name}: ${model.countParams().toLocaleString('en-US')} parameters; exportModel ${exportMs?.toFixed(1)} ms; ` +
      `convert from model.json ${convertMs?.toFixed(1)} ms (of which converting ${convertOnlyMs?.toFixed(1)} ms, ${((convertOnlyMs as number) / (exportMs as number)).toFixed(2)}× exportModel)` +
      (baselineMs === undefined
        ? ''
        : `; exportModel at ${values.baseline} ${baselineMs.toFixed(1)} ms: converting = ${((convertOnlyMs as number) / baselineMs).toFixed(2)}× it, the whole convert ${((convertMs as number) / baselineMs).toFixed(2)}× it`),
  );
}
