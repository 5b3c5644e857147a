/**
 * Builds the web app (web/, with Vite) and serves it for one model directory on loopback, with the
 * headers onnxruntime-web needs: the right MIME type for .wasm, and COOP/COEP so that the page is
 * crossOriginIsolated and WebAssembly threads work.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { MODEL_FILES } from '../core/card.js';

/** The web app's sources and its default build folder, from this file in src/ or dist/. */
export const WEB_ROOT = resolve(import.meta.dirname, '..', '..', 'web');
export const WEB_DIST = join(WEB_ROOT, 'dist');

const MIME: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
});

/** Builds web/ into `outDir` with Vite (a devDependency: a checkout has it, an installed package may not). */
export async function buildWebApp(outDir = WEB_DIST): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (error) {
    throw new Error(`cannot build the web app: Vite is not installed (npm install --save-dev vite)`, {
      cause: error,
    });
  }
  await vite.build({
    root: WEB_ROOT,
    base: './',
    logLevel: 'warn',
    configFile: false,
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    build: {
      outDir,
      emptyOutDir: true,
      assetsInlineLimit: 0,
      target: 'es2022',
      chunkSizeWarningLimit: 2048,
      // onnxruntime-web starts its WebAssembly threads from its own module's URL: it must be a chunk
      // of its own, or the workers would run the page's code (and find no document).
      rollupOptions: {
        output: {
          manualChunks: (id: string) => (id.includes('onnxruntime-web') ? 'onnxruntime-web' : undefined),
        },
      },
    },
  });
}

/** Flags for Debian's headless Chromium on a machine without a network (tests, benchmarks). */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
]);

/** A running server and its address. */
export interface WebServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves the built app from `appDir` and the model files of `modelDir` under /model/ (only
 * decoder.onnx, encoder.onnx and card.json: nothing else of the file system is reachable).
 */
export async function serveWebApp(options: {
  appDir?: string;
  modelDir: string;
  port?: number;
  host?: string;
}): Promise<WebServer> {
  const appDir = resolve(options.appDir ?? WEB_DIST);
  if (!existsSync(join(appDir, 'index.html')))
    throw new Error(`cannot serve the web app: ${appDir}/index.html is missing; build it first`);
  const modelFiles = new Set<string>([MODEL_FILES.decoderOnnx, MODEL_FILES.encoderOnnx, MODEL_FILES.card]);
  const server = createServer(async (req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    let file: string | undefined;
    if (path.startsWith('/model/')) {
      const name = path.slice('/model/'.length);
      if (modelFiles.has(name)) file = join(options.modelDir, name);
    } else {
      const candidate = normalize(join(appDir, path === '/' ? 'index.html' : path));
      if (candidate.startsWith(appDir + sep) || candidate === appDir) file = candidate;
    }
    try {
      if (!file || !(await stat(file)).isFile()) throw new Error('not found');
      const body = await readFile(file);
      res.writeHead(200, {
        ...headers,
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Content-Length': body.length,
      });
      res.end(body);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', ok);
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
