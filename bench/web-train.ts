/**
 * npm run bench:web-train [-- --rounds N] [--epochs E] [--skip-gpu] — training speed in a page
 * (the web app's Train panel, headless Chromium) against training in Node on the same data and
 * settings: the 2,000 bundled digits (1,800 trained on, 200 held out), the MLP 784-400-8, batch 64,
 * seed 0, E epochs. Interleaved round by round, each round:
 *   1. `vae train` (its own process: wasm with one worker thread per core, as a user runs it);
 *   2. `trainInMemory` in this Node process on tfjs's wasm backend (one thread: the page's engine);
 *   3. the page on tfjs's wasm backend (one thread; the page is not cross-origin isolated for tfjs).
 * Each counts training steps only (examples per second over the epochs, as card.json has it). The
 * ratios are the page against each Node figure. Then, once each, the page on webgl and webgpu for
 * 1 epoch: on this machine both run on SwiftShader, the CPU, so their figures say nothing about a GPU.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { selectBackend } from '../src/train/backend.js';
import { loadDataset, trainInMemory } from '../src/train/index.js';
import { buildWebApp } from '../src/web-app/build.js';
import { BUNDLED_DIGITS } from '../src/web-app/bundled-digits.js';
import { CHROMIUM_ARGS } from '../src/web-app/chromium.js';
import { serveWebApp } from '../src/web-app/server.js';
import { openApp } from '../test/helpers/web-page.js';
import { machineLine, median, ROOT, vaeTrain } from './common.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    epochs: { type: 'string' },
    'skip-gpu': { type: 'boolean' },
  },
});
const rounds = Number(values.rounds ?? 3);
const epochs = Number(values.epochs ?? 5);
const CHROMIUM = '/usr/bin/chromium';
const SETTINGS = { latentDim: 8, batchSize: 64, seed: 0, beta: 1 };
const { train: TRAIN } = BUNDLED_DIGITS;

if (!existsSync(CHROMIUM)) {
  console.log(`not measured: ${CHROMIUM} is not installed (apt-get install chromium)`);
  process.exit(0);
}

/** `vae train` on the first 2,000 mnist-mini digits: examples per second. */
async function cliTrain(): Promise<number> {
  const run = await vaeTrain([
    '--dataset',
    'mnist-mini',
    '--train-limit',
    String(TRAIN),
    '--epochs',
    String(epochs),
    '--latent',
    String(SETTINGS.latentDim),
    '--batch',
    String(SETTINGS.batchSize),
    '--backend',
    'wasm',
    '--eval-iw',
    '0',
    '--no-export',
  ]);
  return run.examplesPerSec;
}

const digits = await loadDataset('mnist-mini');
const size = 28 * 28;
await selectBackend('wasm');

/** `trainInMemory` in this process, on tfjs's wasm backend: examples per second. */
async function nodeInMemory(): Promise<number> {
  const result = await trainInMemory(
    {
      images: digits.train.images.subarray(0, TRAIN * size),
      shape: [28, 28, 1],
      test: { images: digits.test.images.subarray(0, BUNDLED_DIGITS.test * size) },
    },
    { ...SETTINGS, epochs, evalIw: 0, yieldMs: 0 },
  );
  result.networks.encoder.dispose();
  result.networks.decoder.dispose();
  return result.card.training.examplesPerSec;
}

/** The page's Train panel: examples per second on `backend`. */
async function inPage(page: Page, backend: string, pageEpochs: number): Promise<number> {
  const request = {
    epochs: pageEpochs,
    limit: TRAIN,
    latent: SETTINGS.latentDim,
    batchSize: SETTINGS.batchSize,
    seed: SETTINGS.seed,
    backend,
  };
  const outcome = (await page.evaluate(
    `window.vaeApp.showPanel('train').then(() => window.vaeApp.train(${JSON.stringify(request)})).then((r) => ({ backend: r.backend, examplesPerSec: r.examplesPerSec }))`,
  )) as { backend: string; examplesPerSec: number };
  if (outcome.backend !== backend) throw new Error(`the page trained on ${outcome.backend}, not ${backend}`);
  return outcome.examplesPerSec;
}

console.log(machineLine());
console.log(
  `${TRAIN} bundled digits (${TRAIN - TRAIN / 10} trained on), MLP 784-400-${SETTINGS.latentDim}, batch ${SETTINGS.batchSize}, ${epochs} epochs, ${rounds} rounds:`,
);
const appDir = mkdtempSync(join(tmpdir(), 'vae-bench-web-train-app-'));
const cacheDir = mkdtempSync(join(tmpdir(), 'vae-bench-web-train-cache-'));
await buildWebApp(appDir);
const server = await serveWebApp({ appDir, modelDir: join(ROOT, 'models', 'mnist-mini'), cacheDir });
await server.compressed;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
const vsCli: number[] = [];
const vsNode: number[] = [];
let pageWasm = 0;
try {
  const app = await openApp(browser, server.url);
  try {
    for (let round = 1; round <= rounds; round++) {
      const cli = await cliTrain();
      const node = await nodeInMemory();
      const page = await inPage(app.page, 'wasm', epochs);
      pageWasm = page;
      vsCli.push(page / cli);
      vsNode.push(page / node);
      console.log(
        `  round ${round}: vae train ${cli.toFixed(0)}, Node trainInMemory (wasm, 1 thread) ${node.toFixed(0)}, page (wasm) ${page.toFixed(0)} examples/s; page / vae train ${(page / cli).toFixed(2)}×, page / Node in memory ${(page / node).toFixed(2)}×`,
      );
    }
    console.log(
      `  median: page / vae train ${median(vsCli).toFixed(2)}×, page / Node trainInMemory ${median(vsNode).toFixed(2)}×`,
    );
    if (!values['skip-gpu']) {
      for (const backend of ['webgl', 'webgpu']) {
        const rate = await inPage(app.page, backend, 1);
        console.log(
          `  page on ${backend} (SwiftShader, on the CPU), 1 epoch: ${rate.toFixed(0)} examples/s, ${(rate / pageWasm).toFixed(2)}× the page on wasm`,
        );
      }
    }
  } finally {
    await app.close();
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(appDir, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
}
