import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toArrays } from '../runtime/tensor-input.js';
import { buildWebApp, WEB_DIST, WEB_ROOT } from '../web-app/build.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, loadPlaywright } from '../web-app/chromium.js';
import { serveWebApp } from '../web-app/server.js';
import type { ChromiumRunner } from './parity.js';

/**
 * The web app to run: built afresh from its sources in a checkout (so the row tests what is in the
 * tree), else the app the package ships. Returns its folder and how to clean up.
 */
async function appToServe(): Promise<{ appDir: string; done(): void }> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) return { appDir: WEB_DIST, done: () => undefined };
  const appDir = mkdtempSync(join(tmpdir(), 'vae-parity-web-'));
  await buildWebApp(appDir);
  return { appDir, done: () => rmSync(appDir, { recursive: true, force: true }) };
}

/**
 * A parity runner for onnxruntime-web in headless Chromium: the web app, served for the model
 * directory, encodes and decodes the inputs in the page, on wasm or on webgpu (which fails, saying so,
 * when the browser has no adapter). When Chromium or playwright-core is missing, the reason instead.
 */
export async function chromiumRunner(backend: 'wasm' | 'webgpu' = 'wasm'): Promise<ChromiumRunner | string> {
  const found = await loadPlaywright();
  if ('missing' in found) return found.missing;
  const { playwright } = found;
  return async (dir, x, z) => {
    const app = await appToServe();
    let server: Awaited<ReturnType<typeof serveWebApp>> | undefined;
    let browser: Awaited<ReturnType<typeof playwright.chromium.launch>> | undefined;
    try {
      server = await serveWebApp({ appDir: app.appDir, modelDir: dir });
      browser = await playwright.chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
      const page = await browser.newPage();
      if (backend === 'webgpu') {
        await page.goto(server.url);
        const adapter = await page.evaluate(
          'navigator.gpu ? navigator.gpu.requestAdapter().then((a) => a !== null) : false',
        );
        if (!adapter) throw new Error('no WebGPU adapter in this browser');
      }
      // decoder.onnx itself (the page prefers decoder.fp16.onnx when the model has one).
      await page.goto(
        `${server.url}?precision=fp32&standardize=false${backend === 'webgpu' ? '&backend=webgpu' : ''}`,
      );
      await page.waitForFunction('window.vaeApp && (window.vaeApp.ready || window.vaeApp.error)', undefined, {
        timeout: 60_000,
      });
      const error = await page.evaluate('window.vaeApp.error');
      if (error) throw new Error(String(error));
      const encoded = (await page.evaluate(`window.vaeApp.encode(${JSON.stringify(toArrays(x))})`)) as {
        mu: number[];
        logvar: number[];
      };
      const decoded = (await page.evaluate(
        `window.vaeApp.decode(${JSON.stringify(toArrays(z))})`,
      )) as number[];
      const ran = await page.evaluate('window.vaeApp.backend');
      if (ran !== `onnxruntime-web-${backend}`)
        throw new Error(`the page ran on ${String(ran)}, not ${backend}`);
      return {
        runtime: `onnxruntime-web-${backend}-chromium`,
        mu: Float32Array.from(encoded.mu),
        logvar: Float32Array.from(encoded.logvar),
        x_hat: Float32Array.from(decoded),
      };
    } finally {
      await browser?.close();
      await server?.close();
      app.done();
    }
  };
}
