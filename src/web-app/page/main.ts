/**
 * The web app, four panels (the first three over one model):
 * - Explore: a decoder from the served model directory (or a decoder.onnx or model .zip the user
 *   gives), a grid of samples, sliders for the first 8 latent dimensions, a 2-D map over the two
 *   dimensions that change the output most, an interpolation, and how long each decode took;
 * - Train (train-panel.ts, loaded when opened: it brings TensorFlow.js): a VAE trained, exported and
 *   run in this tab;
 * - Draw (draw-panel.ts): a drawing encoded, reconstructed and scored;
 * - Convert (convert-panel.ts, loaded when opened): a tfjs layers model converted to ONNX and checked.
 * It exposes `window.vaeApp` so that browser tests can decode a given z, train, and score.
 */
import { type ScoreOptions, VaeModel, type WebLoadOptions } from '../../runtime/web.js';
import { $, type AppContext } from './context.js';
import type { ConvertRequest } from './convert-panel.js';
import { drawGrid } from './draw.js';
import type { TrainOutcome, TrainRequest } from './train-panel.js';

/** What `window.vaeApp.score` resolves to. */
interface ScoredImages {
  score: string;
  values: number[];
  percentiles?: number[];
  anomalous?: boolean[];
}

interface App {
  ready: boolean;
  backend: string;
  error?: string;
  decode(z: number[][]): Promise<number[]>;
  sample(n: number, seed: number): Promise<number[]>;
  /** mu then logvar, flat, when the served model has an encoder. */
  encode(x: number[][]): Promise<{ mu: number[]; logvar: number[] }>;
  /** Decode timings through VaeModel and through a raw session.run on the same bytes, interleaved. */
  benchmark(batch: number, iterations: number): Promise<{ wrapped: number[]; raw: number[] }>;
  /**
   * Trains on the bundled digits as the Train panel does (defaults: its fields' defaults, all 2,000
   * digits), exports, and makes the result the page's model.
   */
  train(request?: Partial<TrainRequest>): Promise<TrainOutcome>;
  /**
   * Anomaly scores of flat images under the model in use (VaeModel.score's options), with their
   * percentiles and verdicts when the model is calibrated.
   */
  score(images: number[][], options?: ScoreOptions): Promise<ScoredImages>;
  /** Shows a panel ('explore', 'train', 'draw' or 'convert'), loading its code first. */
  showPanel(name: string): Promise<void>;
  /**
   * Converts a tfjs layers model as the Convert panel does (files given as base64, or a URL), and
   * returns the ONNX file (base64) with the check's rows and what each layer became.
   */
  convert(
    request: Omit<ConvertRequest, 'source'> & { source: { name: string; base64: string }[] | string },
  ): Promise<{ base64: string; rows: unknown[]; layers: unknown[] }>;
  /** The Draw panel's analysis of a scribble (seeded random strokes). */
  scribble(seed: number, strokes?: number): Promise<{ score: number; fractionBelow: number } | undefined>;
}

const app: App = {
  ready: false,
  backend: '',
  decode: async () => [],
  sample: async () => [],
  encode: async () => ({ mu: [], logvar: [] }),
  benchmark: async () => ({ wrapped: [], raw: [] }),
  train: async (request = {}) => {
    const panel = await PANELS.train();
    return panel.trainAndUse(context, {
      epochs: 5,
      latent: 8,
      beta: 1,
      batchSize: 64,
      seed: 0,
      backend: 'auto',
      source: 'digits',
      ...request,
    });
  },
  convert: async (request) => {
    const panel = await PANELS.convert();
    const source =
      typeof request.source === 'string'
        ? request.source
        : request.source.map((f) => ({
            name: f.name,
            bytes: Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0)),
          }));
    const outcome = await panel.convertAndOffer(context, { ...request, source });
    let binary = '';
    for (const b of outcome.bytes) binary += String.fromCharCode(b);
    return { base64: btoa(binary), rows: outcome.rows, layers: outcome.layers };
  },
  score: async (images, options = {}) => {
    if (!model) throw new Error('score: no model is loaded yet');
    const size = model.inputShape.reduce((a, b) => a * b, 1);
    const bad = images.findIndex((row) => row.length !== size);
    if (bad >= 0)
      throw new RangeError(`score: image ${bad} has ${images[bad]?.length} values, the model takes ${size}`);
    const data = Float32Array.from(images.flat());
    const r = await model.score({ data, shape: [images.length, ...model.inputShape] }, options);
    return {
      score: r.score,
      values: Array.from(r.values),
      ...(r.percentiles ? { percentiles: Array.from(r.percentiles), anomalous: r.anomalous ?? [] } : {}),
    };
  },
  showPanel: (name) => showPanel(name),
  scribble: async (s, strokes) => {
    await showPanel('draw');
    const draw = await PANELS.draw();
    draw.scribble($<HTMLCanvasElement>('draw-pad'), s, strokes);
    return draw.analyze(context);
  },
};
(window as unknown as { vaeApp: App }).vaeApp = app;
let model: VaeModel | undefined;
let seed = 1;

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const out = await f();
  $('timing').textContent = `${label}: ${(performance.now() - t).toFixed(1)} ms on ${model?.backend}`;
  return out;
}

async function drawSamples(): Promise<void> {
  if (!model) return;
  const { x } = await timed('16 samples', () => (model as VaeModel).sample(16, { seed }));
  drawGrid($('samples'), x.data, x.shape, 4);
  // The first picture the page shows: the tests and bench:web measure the time to it from navigation.
  if (performance.getEntriesByName('first-picture').length === 0) performance.mark('first-picture');
}

/** The two latent dimensions whose ±2 moves change the decoded output most. */
async function mostActiveDims(m: VaeModel): Promise<[number, number]> {
  const L = m.latentDim;
  const z = Array.from({ length: 2 * L }, (_, k) =>
    Array.from({ length: L }, (_, d) => (d === Math.floor(k / 2) ? (k % 2 ? 2 : -2) : 0)),
  );
  const x = await m.decode(z);
  const size = x.data.length / (2 * L);
  const change = Array.from({ length: L }, (_, d) => {
    let s = 0;
    for (let i = 0; i < size; i++)
      s += Math.abs((x.data[2 * d * size + i] as number) - (x.data[(2 * d + 1) * size + i] as number));
    return s;
  });
  const order = change.map((c, d) => [c, d] as const).sort((a, b) => b[0] - a[0]);
  return [order[0]?.[1] ?? 0, order[1]?.[1] ?? Math.min(1, L - 1)];
}

/** The status line's description of the model in use, shown again after a lazy load (the encoder). */
let description = '';

async function setUp(m: VaeModel, origin = ''): Promise<void> {
  const previous = model;
  model = m;
  await previous?.dispose();
  app.backend = m.backend;
  description = `decoder: ${m.latentDim} latent dimensions → ${m.inputShape.join('×')} on ${m.backend} (${origin || m.decoderFile})`;
  $('status').textContent = description;
  await drawSamples();
  const L = m.latentDim;
  const code = new Array(L).fill(0);
  const sliders = $('sliders');
  sliders.replaceChildren();
  const drawSlider = async () => {
    const x = await timed('slider decode', () => m.decode([code]));
    drawGrid($('slider-view'), x.data, x.shape, 1, 4);
  };
  for (let d = 0; d < Math.min(8, L); d++) {
    const label = document.createElement('label');
    const input = Object.assign(document.createElement('input'), {
      type: 'range',
      min: '-3',
      max: '3',
      step: '0.1',
      value: '0',
    });
    const value = document.createElement('span');
    value.textContent = '0.0';
    input.addEventListener('input', () => {
      code[d] = Number(input.value);
      value.textContent = Number(input.value).toFixed(1);
      void drawSlider();
    });
    label.append(`z[${d}]`, input, value);
    sliders.append(label);
  }
  await drawSlider();
  const [a, b] = await mostActiveDims(m);
  $('map-dims').textContent = `z[${a}] across, z[${b}] down, from −2 to 2`;
  const grid = 7;
  const mapCodes = Array.from({ length: grid * grid }, (_, k) => {
    const z = new Array(L).fill(0);
    z[a] = -2 + (4 * (k % grid)) / (grid - 1);
    z[b] = -2 + (4 * Math.floor(k / grid)) / (grid - 1);
    return z;
  });
  const map = await timed('latent map (49 decodes)', () => m.decode(mapCodes));
  drawGrid($('map'), map.data, map.shape, grid, 1);
  const ends = await m.sample(2, { seed: 7 });
  const path = await timed('interpolation (10 decodes)', () =>
    m.interpolate(ends.z.data.subarray(0, L), ends.z.data.subarray(L), { steps: 10, method: 'spherical' }),
  );
  drawGrid($('interpolation'), path.x.data, path.x.shape, 10, 2);
  app.decode = async (z) => Array.from((await m.decode(z)).data);
  app.sample = async (n, s) => Array.from((await m.sample(n, { seed: s })).z.data);
  app.encode = async (x) => {
    const { mu, logvar } = await m.encode(x);
    return { mu: Array.from(mu.data), logvar: Array.from(logvar.data) };
  };
  app.benchmark = async (batch, iterations) => {
    const bytes = new Uint8Array(
      await (await fetch(new URL('model/decoder.onnx', location.href))).arrayBuffer(),
    );
    // The same onnxruntime-web build the door loaded for wasm (one module instance, one chunk).
    const ort = await import('onnxruntime-web/wasm');
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const z = new Float32Array(batch * m.latentDim).map((_, i) => Math.sin(i));
    const wrapped: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < iterations + 50; i++) {
      let t = performance.now();
      await m.decode({ data: z, shape: [batch, m.latentDim] });
      if (i >= 50) wrapped.push((performance.now() - t) * 1000);
      t = performance.now();
      await session.run(
        { [session.inputNames[0] as string]: new ort.Tensor('float32', z, [batch, m.latentDim]) },
        ['x_hat'],
      );
      if (i >= 50) raw.push((performance.now() - t) * 1000);
    }
    await session.release();
    return { wrapped: wrapped.sort((a, b) => a - b), raw: raw.sort((a, b) => a - b) };
  };
  app.ready = true;
}

$('resample').addEventListener('click', () => {
  seed += 1;
  void drawSamples();
});
$<HTMLInputElement>('file').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    // A model .zip (packModelZip, or a zipped model directory) or a lone decoder.onnx.
    const source = /\.zip$/i.test(file.name) ? file : { decoder: new Uint8Array(await file.arrayBuffer()) };
    context.trainedOn = undefined;
    await setUp(await VaeModel.load(source, loadOptions), file.name);
  } catch (error) {
    $('status').textContent = `could not load ${file.name}: ${(error as Error).message}`;
  }
});

const query = new URLSearchParams(location.search);
/**
 * The model files vae web says it serves (a meta tag it fills in); empty when another server hosts
 * the page, which then asks for each file and takes a 404 as its absence.
 */
const servedModelFiles = (
  document.querySelector<HTMLMetaElement>('meta[name="vae-model-files"]')?.content ?? ''
)
  .split(',')
  .filter((f) => f !== '');
const MODEL_FILE_FP16 = 'decoder.fp16.onnx';
/** False only when the server said which files it has and this one is not among them. */
const mayHave = (file: string) => servedModelFiles.length === 0 || servedModelFiles.includes(file);
const backend = query.get('backend') === 'webgpu' ? 'webgpu' : 'wasm';
const loadOptions: WebLoadOptions = {
  backend,
  // vae web serves onnxruntime-web's .wasm files (compressed) from its own package, at ort/.
  wasmPaths: new URL('ort/', location.href).href,
  ...(query.has('threads') ? { threads: Number(query.get('threads')) } : {}),
  // ?standardize=false: values as the networks see them (the parity runner compares graphs there).
  standardize: query.get('standardize') !== 'false',
};

const context: AppContext = {
  model: () => model,
  useModel: (m, origin) => setUp(m, origin),
  loadOptions,
  trainedOn: undefined,
};

/** Loads a panel's code and wires it the first time the returned function is called; later calls share it. */
function lazyPanel<M>(load: () => Promise<M>, wire: (m: M) => void): () => Promise<M> {
  let loaded: Promise<M> | undefined;
  return () => {
    loaded ??= load().then((m) => {
      wire(m);
      return m;
    });
    return loaded;
  };
}

/** The panels besides Explore (which the page opens with); Train and Convert bring TensorFlow.js. */
const PANELS = {
  train: lazyPanel(
    () => import('./train-panel.js'),
    (m) => m.initTrainPanel(context),
  ),
  draw: lazyPanel(
    () => import('./draw-panel.js'),
    (m) => m.initDrawPanel(context),
  ),
  convert: lazyPanel(
    () => import('./convert-panel.js'),
    (m) => m.initConvertPanel(context),
  ),
};

async function showPanel(name: string): Promise<void> {
  const names = ['explore', ...Object.keys(PANELS)];
  if (!names.includes(name))
    throw new RangeError(`showPanel: "name" must be one of ${names.join(', ')}, got ${JSON.stringify(name)}`);
  if (name in PANELS) await PANELS[name as keyof typeof PANELS]();
  for (const button of document.querySelectorAll<HTMLButtonElement>('nav button')) {
    const on = button.dataset.panel === name;
    button.setAttribute('aria-pressed', String(on));
    $(`panel-${button.dataset.panel}`).hidden = !on;
  }
}

for (const button of document.querySelectorAll<HTMLButtonElement>('nav button')) {
  button.addEventListener('click', () => {
    showPanel(button.dataset.panel ?? 'explore').catch((error: Error) => {
      $('status').textContent = `could not open the ${button.dataset.panel} panel: ${error.message}`;
    });
  });
}

VaeModel.load(new URL('model/', location.href).href, {
  ...loadOptions,
  // The half-float decoder when the model has one (half the download); ?precision=fp32 for decoder.onnx.
  precision: query.get('precision') === 'fp32' || !mayHave(MODEL_FILE_FP16) ? 'fp32' : 'fp16',
  onProgress: ({ file, loaded, total }) => {
    $('status').textContent =
      description && total !== undefined && loaded >= total
        ? description
        : `loading ${file}: ${(loaded / 1024).toFixed(0)}${total ? ` of ${(total / 1024).toFixed(0)}` : ''} KiB`;
  },
})
  .then((m) => {
    performance.mark('model-loaded');
    return setUp(m);
  })
  .catch((error: Error) => {
    app.error = error.message;
    $('status').textContent = `could not load the model: ${error.message}`;
  });
