import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { normalArray } from '../src/core/random.js';
import { buildWebApp, CHROMIUM_ARGS, serveWebApp, type WebServer } from '../src/node/web-server.js';
import { VaeModel } from '../src/runtime/node.js';
import { tempDir } from './helpers/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const MODEL = join(import.meta.dirname, '..', 'models', 'mnist-mini');
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

/** The web app in a real headless Chromium (Debian's), driven by playwright-core. */
describe('web app in headless Chromium', {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`,
}, () => {
  let server: WebServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    const appDir = tempDir('vae-onnx-web-');
    await buildWebApp(appDir);
    server = await serveWebApp({ appDir, modelDir: MODEL });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(
      () =>
        (window as unknown as { vaeApp?: { ready: boolean; error?: string } }).vaeApp?.ready ||
        (window as unknown as { vaeApp?: { error?: string } }).vaeApp?.error,
      undefined,
      { timeout: 60_000 },
    );
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the page loads the decoder, draws pictures, and logs no errors', async () => {
    // A string, not a function: tsx's keepNames would wrap inner functions in a helper the page lacks.
    const state = (await page.evaluate(`(() => {
      const app = window.vaeApp;
      const lit = (id) => {
        const c = document.getElementById(id);
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let bright = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] > 40) bright++;
        return { width: c.width, bright };
      };
      return {
        ready: app.ready,
        error: app.error,
        backend: app.backend,
        isolated: crossOriginIsolated,
        canvases: ['samples', 'slider-view', 'map', 'interpolation'].map(lit),
        timing: document.getElementById('timing').textContent,
        sliders: document.querySelectorAll('#sliders input').length,
      };
    })()`)) as {
      ready: boolean;
      error?: string;
      backend: string;
      isolated: boolean;
      canvases: { width: number; bright: number }[];
      timing: string | null;
      sliders: number;
    };
    assert.equal(state.error, undefined);
    assert.equal(state.ready, true);
    assert.equal(state.backend, 'onnxruntime-web-wasm');
    assert.equal(state.isolated, true, 'COOP/COEP make the page crossOriginIsolated (wasm threads)');
    assert.equal(state.sliders, 8);
    for (const c of state.canvases) assert.ok(c.width > 0 && c.bright > 50, JSON.stringify(c));
    assert.match(state.timing ?? '', /\d+\.\d ms on onnxruntime-web-wasm/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-app.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
  });

  test("the browser's decode of a given z equals onnxruntime-node's within 1e-5", async () => {
    const z = Array.from({ length: 5 }, (_, i) => Array.from(normalArray(20, 40 + i)));
    const inBrowser = await page.evaluate(
      async (codes) =>
        (window as unknown as { vaeApp: { decode(z: number[][]): Promise<number[]> } }).vaeApp.decode(codes),
      z,
    );
    const model = await VaeModel.load(MODEL);
    try {
      const inNode = (await model.decode(z)).data;
      assert.equal(inBrowser.length, inNode.length);
      const worst = inBrowser.reduce((m, v, i) => Math.max(m, Math.abs(v - (inNode[i] as number))), 0);
      assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
    } finally {
      await model.dispose();
    }
  });

  test('the same seed draws the same z in the browser as in Node', async () => {
    const inBrowser = await page.evaluate(async () =>
      (window as unknown as { vaeApp: { sample(n: number, s: number): Promise<number[]> } }).vaeApp.sample(
        3,
        11,
      ),
    );
    const model = await VaeModel.load(MODEL);
    try {
      assert.deepEqual(inBrowser, Array.from((await model.sample(3, { seed: 11 })).z.data));
    } finally {
      await model.dispose();
    }
  });

  test('a decoder.onnx dropped in by the user replaces the served one', async () => {
    const other = join(import.meta.dirname, '..', 'models', 'fashion-mnist');
    await page.setInputFiles('#file', join(other, 'decoder.onnx'));
    const z = [Array.from(normalArray(20, 99))];
    await page.waitForFunction('document.getElementById("status").textContent.startsWith("decoder:")');
    let inBrowser: number[] = [];
    const model = await VaeModel.load(other);
    try {
      const want = Array.from((await model.decode(z)).data);
      // setUp() swaps the model in asynchronously: poll until the page decodes with the new one.
      for (let tries = 0; tries < 50; tries++) {
        inBrowser = (await page.evaluate(`window.vaeApp.decode(${JSON.stringify(z)})`)) as number[];
        if (Math.abs((inBrowser[400] as number) - (want[400] as number)) < 1e-5) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const worst = inBrowser.reduce((m, v, i) => Math.max(m, Math.abs(v - (want[i] as number))), 0);
      assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
    } finally {
      await model.dispose();
    }
    assert.deepEqual(consoleErrors, []);
  });

  test('the server sends .wasm as application/wasm and refuses paths outside the app and the model files', async () => {
    const html = await fetch(server.url);
    assert.equal(html.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const wasm = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .find((n) => n.endsWith('.wasm')),
    );
    assert.ok(wasm, 'the page fetched a .wasm file');
    assert.equal((await fetch(wasm as string)).headers.get('content-type'), 'application/wasm');
    assert.equal((await fetch(new URL('model/decoder.onnx', server.url))).status, 200);
    assert.equal((await fetch(new URL('model/tfjs/latest.json', server.url))).status, 404);
    assert.equal((await fetch(new URL('/%2e%2e/%2e%2e/package.json', server.url))).status, 404);
  });
});
