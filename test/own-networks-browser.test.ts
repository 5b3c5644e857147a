import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { exportVae } from '../src/export/index.js';
import { VaeModel } from '../src/runtime/node.js';
import { CHROMIUM_ARGS } from '../src/web-app/chromium.js';
import { tempDir } from './helpers/fixtures.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';
import { CODES, LATENT, SIDE } from './helpers/own-networks-page.js';
import { buildLibrary } from './helpers/vite-lib.js';
import { CHROMIUM, NEEDS_CHROMIUM } from './helpers/web-page.js';

/** What the page's runOwnNetworks hands back (own-networks-page.ts). */
interface PageRun {
  backend: string;
  losses: number[];
  card: { arch: string; networks?: unknown; metrics?: { negElbo: number } };
  encoder: string;
  decoder: string;
  files: Record<string, string>;
  decoded: number[];
}

const TFJS_WASM = dirname(
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'),
);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
};

/** The test page: own-networks-page.ts bundled by Vite, with tfjs-backend-wasm's .wasm files at /tfjs/. */
async function buildPage(): Promise<string> {
  const dir = tempDir('vae-onnx-own-networks-page-');
  await buildLibrary(join(import.meta.dirname, 'helpers', 'own-networks-page.ts'), dir, {
    fileName: 'page',
    minify: false,
  });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
  );
  return dir;
}

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // The URL parser has already resolved any ".." segments.
    const file =
      path === '/'
        ? join(dir, 'index.html')
        : path.startsWith('/tfjs/')
          ? join(TFJS_WASM, 'dist', path.slice('/tfjs/'.length))
          : join(dir, path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, {
        'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${address.port}/` });
    }),
  );
}

const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/**
 * `trainInBrowser({ networks })` in headless Chromium: an encoder and decoder of the user's own (Conv2D,
 * BatchNormalization, LeakyReLU, Dropout) train on the page's wasm backend, export with the browser
 * exporter, and the files agree with onnxruntime-node and with a Node export of the page's checkpoint.
 */
describe('networks of your own, trained in headless Chromium', { skip: NEEDS_CHROMIUM }, () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  before(async () => {
    ({ server, url } = await serve(await buildPage()));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  /** Opens the page, runs `window.<name>(...args)` there, and returns its value and the page's errors. */
  async function inPage<T>(name: string, ...args: unknown[]): Promise<{ value: T; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(url);
      await page.waitForFunction(`typeof window.${name} === "function"`);
      const value = (await page.evaluate(`window.${name}(...${JSON.stringify(args)})`)) as T;
      return { value, errors };
    } finally {
      await page.close();
    }
  }

  test('train on wasm, export in the page; the files pass the checker, decode as tfjs did within 1e-5 in onnxruntime-node, and equal a Node export of the checkpoint', async (t) => {
    const { value: run, errors } = await inPage<PageRun>('runOwnNetworks', 'wasm');
    t.diagnostic(
      `losses by epoch ${run.losses.map((l) => l.toFixed(2)).join(', ')}; held-out neg-ELBO ${run.card.metrics?.negElbo}`,
    );
    assert.equal(run.backend, 'wasm');
    assert.equal(run.card.arch, 'custom');
    assert.ok(run.card.networks, 'card.json lists the layers');
    assert.equal(run.losses.length, 2);
    for (const l of run.losses) assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`);
    assert.ok(Number.isFinite(run.card.metrics?.negElbo), 'held-out neg-ELBO');

    const dir = tempDir();
    const encoder = fromBase64(run.encoder);
    const decoder = fromBase64(run.decoder);
    writeFileSync(join(dir, 'encoder.onnx'), encoder);
    writeFileSync(join(dir, 'decoder.onnx'), decoder);
    checkWithReferenceChecker(join(dir, 'encoder.onnx'), join(dir, 'decoder.onnx'));

    const model = await VaeModel.load({ encoder, decoder });
    try {
      const z = Array.from({ length: 3 }, (_, i) => Array.from(CODES.subarray(i * LATENT, (i + 1) * LATENT)));
      const inNode = (await model.decode(z)).data;
      assert.equal(inNode.length, 3 * SIDE * SIDE);
      const worst = run.decoded.reduce((m, v, i) => Math.max(m, Math.abs(v - (inNode[i] as number))), 0);
      t.diagnostic(`tfjs in the page vs onnxruntime-node: decode max |Δ| ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-5, `decode differs by ${worst}`);
    } finally {
      await model.dispose();
    }

    // The page's checkpoint (model.json, weights, card.json) exports in Node to the same bytes.
    const checkpoint = tempDir();
    for (const [name, data] of Object.entries(run.files)) {
      const path = join(checkpoint, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, fromBase64(data));
    }
    const node = await exportVae(checkpoint);
    assert.deepEqual(Buffer.from(node.encoder), Buffer.from(encoder));
    assert.deepEqual(Buffer.from(node.decoder), Buffer.from(decoder));
    assert.deepEqual(errors, []);
  });

  test('a run resumed in the page from its own files continues bit for bit (Dropout and BatchNormalization included)', async () => {
    const { value } = await inPage<{ compared: string[]; differ: string[] }>('runResume');
    assert.deepEqual(
      value.compared.map((name) => name.split('/').slice(-2).join('/')),
      ['encoder/weights.bin', 'decoder/weights.bin', 'step-00000006/optimizer.bin'],
    );
    assert.deepEqual(value.differ, []);
  });

  test('a decoder that does not give the input’s shape is refused in the page, naming the network', async () => {
    const { value: message } = await inPage<string>('runMisfit');
    assert.match(message, /"networks\.decoder"/);
    assert.match(message, new RegExp(`${SIDE}, ${SIDE}, 1`));
  });
});
