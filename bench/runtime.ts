/**
 * npm run bench:runtime [-- DIR] — decoder latency at batch 1 (median, p99) and throughput at batch
 * 256, through VaeModel.decode and, beside it in the same process, a raw InferenceSession.run loop on
 * the same decoder.onnx, interleaved call by call: on onnxruntime-node (cpu) and onnxruntime-web (wasm)
 * in Node, and onnxruntime-web in headless Chromium through the web app. The wrapper's cost is the
 * ratio of the two.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalArray } from '../src/core/random.js';
import { VaeModel } from '../src/runtime/node.js';

const dir = process.argv[2] ?? join(import.meta.dirname, '..', 'models', 'mnist-mini');
const bytes = readFileSync(join(dir, 'decoder.onnx'));

interface OrtModule {
  InferenceSession: {
    create(
      b: Uint8Array,
      o: object,
    ): Promise<{ run(f: object, fetches?: string[]): Promise<object>; release(): Promise<void> }>;
  };
  Tensor: new (t: 'float32', d: Float32Array, s: number[]) => object;
}

/**
 * Times two calls interleaved (a, b, a, b, …) so that drift on a shared machine (GC, another process)
 * hits both alike; returns each one's sorted durations in µs.
 */
async function timePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  iterations: number,
): Promise<[number[], number[]]> {
  for (let i = 0; i < Math.min(100, iterations); i++) {
    await a();
    await b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < iterations; i++) {
    for (const [f, out] of [
      [a, ta],
      [b, tb],
    ] as const) {
      const t = process.hrtime.bigint();
      await f();
      out.push(Number(process.hrtime.bigint() - t) / 1e3);
    }
  }
  return [ta.sort((x, y) => x - y), tb.sort((x, y) => x - y)];
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; model ${dir}`);
for (const backend of ['cpu', 'wasm'] as const) {
  const model = await VaeModel.load(dir, { backend, threads: 1 });
  const ort = (backend === 'cpu'
    ? await import('onnxruntime-node')
    : await import('onnxruntime-web')) as unknown as OrtModule;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  const L = model.latentDim;
  const rows = [];
  for (const batch of [1, 256]) {
    const z = normalArray(batch * L, batch);
    const iterations = batch === 1 ? 2000 : 100;
    // The raw loop fetches what VaeModel fetches: x_hat only.
    const [wrapped, raw] = await timePair(
      () => model.decode({ data: z, shape: [batch, L] }),
      () => session.run({ z: new ort.Tensor('float32', z, [batch, L]) }, ['x_hat']),
      iterations,
    );
    rows.push({ batch, wrapped, raw });
  }
  const [one, many] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const perSec = (sorted: number[], batch: number) => (batch * 1e6) / pct(sorted, 0.5);
  console.log(`${model.backend} (1 thread):`);
  console.log(
    `  batch 1:   VaeModel.decode median ${pct(one.wrapped, 0.5).toFixed(1)} µs, p99 ${pct(one.wrapped, 0.99).toFixed(1)} µs; raw session.run median ${pct(one.raw, 0.5).toFixed(1)} µs, p99 ${pct(one.raw, 0.99).toFixed(1)} µs; wrapper cost ${(pct(one.wrapped, 0.5) / pct(one.raw, 0.5)).toFixed(2)}×`,
  );
  console.log(
    `  batch 256: VaeModel.decode ${perSec(many.wrapped, 256).toFixed(0)} images/s; raw ${perSec(many.raw, 256).toFixed(0)} images/s; wrapper cost ${(pct(many.wrapped, 0.5) / pct(many.raw, 0.5)).toFixed(2)}×`,
  );
  await model.dispose();
  await session.release();
}

// The same in headless Chromium (Debian's), through the web app, when it is installed.
const chromiumPath = '/usr/bin/chromium';
if (existsSync(chromiumPath)) {
  const { chromium } = await import('playwright-core');
  const { buildWebApp } = await import('../src/web-app/build.js');
  const { CHROMIUM_ARGS } = await import('../src/web-app/chromium.js');
  const { serveWebApp } = await import('../src/web-app/server.js');
  const appDir = mkdtempSync(join(tmpdir(), 'vae-bench-web-'));
  await buildWebApp(appDir);
  const server = await serveWebApp({ appDir, modelDir: dir });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [...CHROMIUM_ARGS],
  });
  const page = await browser.newPage();
  // decoder.onnx, the file the raw loop runs (the page prefers decoder.fp16.onnx otherwise).
  await page.goto(`${server.url}?precision=fp32`);
  await page.waitForFunction('window.vaeApp && window.vaeApp.ready', undefined, { timeout: 60_000 });
  const threads = await page.evaluate('crossOriginIsolated ? navigator.hardwareConcurrency : 1');
  console.log(`onnxruntime-web-wasm in Chromium (${threads} thread(s), crossOriginIsolated page):`);
  for (const batch of [1, 256]) {
    const { wrapped, raw } = (await page.evaluate(
      `window.vaeApp.benchmark(${batch}, ${batch === 1 ? 1000 : 50})`,
    )) as { wrapped: number[]; raw: number[] };
    if (batch === 1) {
      console.log(
        `  batch 1:   VaeModel.decode median ${pct(wrapped, 0.5).toFixed(1)} µs, p99 ${pct(wrapped, 0.99).toFixed(1)} µs; raw session.run median ${pct(raw, 0.5).toFixed(1)} µs, p99 ${pct(raw, 0.99).toFixed(1)} µs; wrapper cost ${(pct(wrapped, 0.5) / pct(raw, 0.5)).toFixed(2)}×`,
      );
    } else {
      const rate = (sorted: number[]) => (256 * 1e6) / pct(sorted, 0.5);
      console.log(
        `  batch 256: VaeModel.decode ${rate(wrapped).toFixed(0)} images/s; raw ${rate(raw).toFixed(0)} images/s; wrapper cost ${(pct(wrapped, 0.5) / pct(raw, 0.5)).toFixed(2)}× (timer resolution in a page: 5 µs or coarser)`,
      );
    }
  }
  await browser.close();
  await server.close();
  rmSync(appDir, { recursive: true, force: true });
} else {
  console.log(`Chromium: not measured (${chromiumPath} is not installed; apt-get install chromium)`);
}
