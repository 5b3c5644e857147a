import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildWebApp } from '../../src/web-app/build.js';
import { CHROMIUM_ARGS } from '../../src/web-app/chromium.js';
import { serveWebApp, type WebServer } from '../../src/web-app/server.js';
import { tempDir } from './fixtures.js';

/** The web app open in a fresh browser context: its page, what it fetched, and its console errors. */
export interface OpenApp {
  page: Page;
  consoleErrors: string[];
  /** Every URL the page (and its workers) fetched. */
  urls(): string[];
  /** Bytes received for every finished request: headers plus the body as it came (compressed). */
  bytesOnTheWire(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens `url` in a new context (empty cache) and waits until the app is ready or says why not.
 * @param timeout - how long to wait, in ms.
 */
export async function openApp(browser: Browser, url: string, timeout = 60_000): Promise<OpenApp> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const urls: string[] = [];
  const sizes: Promise<number>[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('requestfinished', (r) => {
    urls.push(r.url());
    sizes.push(r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize));
  });
  await page.goto(url);
  await page.waitForFunction('window.vaeApp && (window.vaeApp.ready || window.vaeApp.error)', undefined, {
    timeout,
  });
  return {
    page,
    consoleErrors,
    urls: () => [...urls],
    bytesOnTheWire: async () => (await Promise.all(sizes)).reduce((a, b) => a + b, 0),
    close: () => context.close(),
  };
}

/** What the page shows: readiness, backend, status line, the canvases' lit pixels, first-picture time. */
export interface PageState {
  ready: boolean;
  error?: string;
  backend: string;
  status: string;
  isolated: boolean;
  canvases: { width: number; bright: number }[];
  timing: string | null;
  sliders: number;
  /** ms from navigation to the first drawn samples (the page's performance mark). */
  firstPictureMs: number | undefined;
}

/** Reads the page's state. */
export async function pageState(page: Page): Promise<PageState> {
  // A string, not a function: tsx's keepNames would wrap inner functions in a helper the page lacks.
  return (await page.evaluate(`(() => {
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
      status: document.getElementById('status').textContent,
      isolated: crossOriginIsolated,
      canvases: ['samples', 'slider-view', 'map', 'interpolation'].map(lit),
      timing: document.getElementById('timing').textContent,
      sliders: document.querySelectorAll('#sliders input').length,
      firstPictureMs: performance.getEntriesByName('first-picture')[0]?.startTime,
    };
  })()`)) as PageState;
}

/** Debian's Chromium, which the browser tests drive. */
export const CHROMIUM = '/usr/bin/chromium';

/** A describe block's `skip` option: skipped, saying why, when Chromium is not installed. */
export const NEEDS_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** The web app served for a model directory, and a Chromium to open it in. */
export interface ServedApp {
  readonly server: WebServer;
  readonly browser: Browser;
}

/**
 * Registers the enclosing describe block's hooks: before its tests, builds the web app, serves it for
 * `modelDir` (with every file compressed) and launches Chromium; after them, closes both.
 */
export function servedApp(modelDir: string): ServedApp {
  const served = {} as { server: WebServer; browser: Browser };
  before(async () => {
    const appDir = tempDir('vae-onnx-web-');
    await buildWebApp(appDir);
    served.server = await serveWebApp({ appDir, modelDir, cacheDir: tempDir('vae-onnx-web-cache-') });
    await served.server.compressed;
    served.browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  });
  after(async () => {
    await served.browser?.close();
    await served.server?.close();
  });
  return served;
}
