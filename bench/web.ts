/**
 * npm run bench:web [-- DIR] [--rounds N] — the web app's first picture in headless Chromium: ms from
 * navigation to the first drawn samples, and bytes on the wire, each page in a fresh browser context
 * (empty cache), served by `vae web`'s server. Beside it, interleaved round by round, a baseline page
 * that uses onnxruntime-web by hand (its wasm build imported statically, one thread, the same .wasm
 * preload, the decoder fetched, one session, one run of 16 codes, drawn): the ratio is what vae-onnx's
 * page adds.
 * Rows: the default page (decoder.fp16.onnx, wasm), decoder.onnx on wasm, and WebGPU (SwiftShader here,
 * so its time says nothing about a GPU).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildWebApp, WEB_ROOT } from '../src/web-app/build.js';
import { CHROMIUM_ARGS } from '../src/web-app/chromium.js';
import { serveWebApp } from '../src/web-app/server.js';
import { openApp } from '../test/helpers/web-page.js';
import { median } from './common.js';

const { values, positionals } = parseArgs({
  options: { rounds: { type: 'string' } },
  allowPositionals: true,
});
const dir = positionals[0] ?? join(import.meta.dirname, '..', 'models', 'mnist-mini');
const rounds = Number(values.rounds ?? 5);
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(`not measured: ${CHROMIUM} is not installed (apt-get install chromium)`);
  process.exit(0);
}

const BASELINE_MAIN = `import * as ort from 'onnxruntime-web/wasm';
const app = { ready: false, error: undefined };
window.vaeApp = app;
ort.env.wasm.wasmPaths = { wasm: new URL('ort/ort-wasm-simd-threaded.wasm', location.href).href };
// One thread: imported statically, onnxruntime-web shares the page's chunk, and its worker threads
// would load the page's code and hang (the trap the vae-onnx door's dynamic import avoids).
ort.env.wasm.numThreads = 1;
(async () => {
  const file = new URLSearchParams(location.search).get('precision') === 'fp32' ? 'decoder.onnx' : 'decoder.fp16.onnx';
  const bytes = new Uint8Array(await (await fetch('model/' + file)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const z = new Float32Array(16 * 20).map((_, i) => Math.sin(i));
  const out = await session.run({ z: new ort.Tensor('float32', z, [16, 20]) });
  const x = out.x_hat.data;
  const canvas = document.getElementById('samples');
  canvas.width = 28;
  canvas.height = 28;
  const image = canvas.getContext('2d').createImageData(28, 28);
  for (let i = 0; i < 784; i++) image.data.set([x[i] * 255, x[i] * 255, x[i] * 255, 255], 4 * i);
  canvas.getContext('2d').putImageData(image, 0, 0);
  performance.mark('first-picture');
  app.ready = true;
})().catch((e) => { app.error = e.message; });
`;

/** Builds the baseline page with Vite, the same way as the app (no .wasm copied: /ort/ serves them). */
async function buildBaseline(outDir: string): Promise<void> {
  // Inside the repository, so that its imports resolve to this node_modules (.tmp-* is ignored by git).
  const root = mkdtempSync(join(import.meta.dirname, '..', '.tmp-bench-baseline-'));
  const html = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
  // The app's head (with its .wasm preload), a canvas, and the hand-written script.
  const head = html.slice(0, html.indexOf('</head>'));
  writeFileSync(
    join(root, 'index.html'),
    `${head}</head><body><canvas id="samples"></canvas><script type="module" src="./main.js"></script></body></html>\n`,
  );
  writeFileSync(join(root, 'main.js'), BASELINE_MAIN);
  const vite = await import('vite');
  await vite.build({
    root,
    base: './',
    logLevel: 'warn',
    configFile: false,
    build: { outDir, emptyOutDir: true, target: 'es2022' },
  });
  for (const name of readdirSync(join(outDir, 'assets')))
    if (name.endsWith('.wasm')) rmSync(join(outDir, 'assets', name));
  rmSync(root, { recursive: true, force: true });
}

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; model ${dir}; ${rounds} rounds`,
);
const cache = mkdtempSync(join(tmpdir(), 'vae-bench-web-cache-'));
const appDir = mkdtempSync(join(tmpdir(), 'vae-bench-web-'));
const baselineDir = mkdtempSync(join(tmpdir(), 'vae-bench-baseline-'));
await buildWebApp(appDir);
await buildBaseline(baselineDir);
const app = await serveWebApp({ appDir, modelDir: dir, cacheDir: cache });
const baseline = await serveWebApp({ appDir: baselineDir, modelDir: dir, cacheDir: cache });
await Promise.all([app.compressed, baseline.compressed]);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });

async function measure(url: string): Promise<{ ms: number; bytes: number }> {
  const page = await openApp(browser, url);
  try {
    const state = (await page.page.evaluate(
      '({ error: window.vaeApp.error, ms: performance.getEntriesByName("first-picture")[0]?.startTime })',
    )) as { error?: string; ms?: number };
    if (state.error) throw new Error(`${url}: ${state.error}`);
    return { ms: state.ms ?? Number.NaN, bytes: await page.bytesOnTheWire() };
  } finally {
    await page.close();
  }
}

for (const [label, query, withBaseline] of [
  ['default page: decoder.fp16.onnx on wasm', '', true],
  ['decoder.onnx on wasm', '?precision=fp32', true],
  ['WebGPU (SwiftShader), decoder.onnx', '?backend=webgpu&precision=fp32', false],
] as const) {
  const ours: { ms: number; bytes: number }[] = [];
  const theirs: { ms: number; bytes: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(await measure(app.url + query));
    if (withBaseline) theirs.push(await measure(baseline.url + query));
  }
  const line = (xs: { ms: number; bytes: number }[]) =>
    `${median(xs.map((x) => x.ms)).toFixed(0)} ms (rounds ${xs.map((x) => x.ms.toFixed(0)).join(', ')}), ${(median(xs.map((x) => x.bytes)) / 1e6).toFixed(2)} MB`;
  console.log(`${label}:`);
  console.log(`  vae-onnx page:         ${line(ours)}`);
  if (withBaseline) {
    console.log(`  onnxruntime-web by hand: ${line(theirs)}`);
    console.log(
      `  ratio (page / by hand): ${(median(ours.map((x) => x.ms)) / median(theirs.map((x) => x.ms))).toFixed(2)}× time, ${(median(ours.map((x) => x.bytes)) / median(theirs.map((x) => x.bytes))).toFixed(2)}× bytes`,
    );
  }
}
await browser.close();
await app.close();
await baseline.close();
for (const d of [cache, appDir, baselineDir]) rmSync(d, { recursive: true, force: true });
