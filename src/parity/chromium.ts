import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWebApp, CHROMIUM_ARGS, serveWebApp } from '../node/web-server.js';
import { toArrays } from '../runtime/tensor-input.js';
import type { ParityOptions } from './parity.js';

/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * A parity runner for onnxruntime-web in headless Chromium: the web app, served for the model
 * directory, encodes and decodes the inputs in the page, on wasm or on webgpu (which fails, saying so,
 * when the browser has no adapter). Undefined when Chromium or playwright-core is not installed.
 */
export async function chromiumRunner(
  backend: 'wasm' | 'webgpu' = 'wasm',
): Promise<ParityOptions['chromium']> {
  if (!existsSync(CHROMIUM_PATH)) return undefined;
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    return undefined;
  }
  return async (dir, x, z) => {
    const appDir = mkdtempSync(join(tmpdir(), 'vae-parity-web-'));
    const server = await (async () => {
      await buildWebApp(appDir);
      return serveWebApp({ appDir, modelDir: dir });
    })();
    const browser = await playwright.chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
    });
    try {
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
      await browser.close();
      await server.close();
      rmSync(appDir, { recursive: true, force: true });
    }
  };
}
