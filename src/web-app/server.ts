/**
 * `vae web`'s server: the prebuilt web app (dist/app, shipped in the package), onnxruntime-web's and
 * tfjs-backend-wasm's WebAssembly files from their installed packages (the versions the app bundled,
 * checked at start), the digits the Train panel starts from, and one model directory. The app and the
 * .wasm files go out brotli- or gzip-compressed when the browser accepts it, with cache headers, and
 * with COOP/COEP so that the page is crossOriginIsolated and WebAssembly threads work.
 */
import { existsSync, constants as fsConstants } from 'node:fs';
import { open, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MODEL_FILES } from '../core/model-dir.js';
import { WEB_DIST } from './build.js';
import { BUNDLED_DIGITS } from './bundled-digits.js';
import {
  type CompressionProgress,
  ORT_WASM_FILES,
  prepareServedFiles,
  TFJS_WASM_FILES,
  webCacheDir,
} from './served-files.js';

/** The model files the page may fetch; nothing else of the model folder is reachable. */
export const SERVED_MODEL_FILES: readonly string[] = Object.freeze([
  MODEL_FILES.decoderOnnx,
  MODEL_FILES.decoderFp16Onnx,
  MODEL_FILES.encoderOnnx,
  MODEL_FILES.card,
]);

/** The meta tag in index.html that the server fills with the model files it has. */
const MODEL_FILES_META = '<meta name="vae-model-files" content="" />';

/**
 * Serves the files `names` of `root` at `prefix` (nothing else of it), with `cacheControl`, and their
 * .br/.gz siblings.
 */
async function serveFolder(
  app: FastifyInstance,
  root: string,
  prefix: string,
  names: readonly string[],
  cacheControl: string,
): Promise<void> {
  await app.register(fastifyStatic, {
    root,
    prefix,
    decorateReply: false,
    preCompressed: true,
    cacheControl: false,
    allowedPath: (path) => names.includes(path.replace(/^\//, '')),
    setHeaders: (reply) => reply.header('cache-control', cacheControl),
  });
}

/**
 * A model file's bytes when it is a regular file in `dir` itself: a symbolic link (to anything) or
 * anything else is refused, so a model folder cannot hand out a file from elsewhere.
 */
async function readModelFile(dir: string, name: string): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(join(dir, name), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The encoding to send a small text body in, from the request's Accept-Encoding. */
function pickEncoding(request: FastifyRequest): 'br' | 'gzip' | undefined {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (/\bbr\b/.test(accepted)) return 'br';
  if (/\bgzip\b/.test(accepted)) return 'gzip';
  return undefined;
}

/** index.html with the model files present named in its meta tag, in each encoding. */
async function pageWithModelFiles(appDir: string, files: readonly string[]) {
  const html = (await readFile(join(appDir, 'index.html'), 'utf8')).replace(
    MODEL_FILES_META,
    `<meta name="vae-model-files" content="${files.join(',')}" />`,
  );
  const identity = Buffer.from(html);
  return {
    identity,
    br: brotliCompressSync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    gzip: gzipSync(identity, { level: 9 }),
  };
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
  /** Where compressed copies of the served files are kept. Default: `webCacheDir()`. */
  cacheDir?: string;
  /** Hears of each file compressed into the cache (the first start compresses ~50 MB). */
  onCompress?: CompressionProgress;
}

/**
 * Serves the built app at /, onnxruntime-web's .wasm files at /ort/, tfjs-backend-wasm's at /tfjs/,
 * the bundled digits at /data/ and the model's files at /model/ (only decoder.onnx,
 * decoder.fp16.onnx, encoder.onnx and card.json, as regular files of the folder itself).
 * @throws Error when the app is not built, or was built against other versions of the .wasm files'
 *   packages than those installed.
 */
export async function serveWebApp(options: WebServerOptions): Promise<WebServer> {
  const appDir = resolve(options.appDir ?? WEB_DIST);
  if (!existsSync(join(appDir, 'index.html'))) {
    throw new Error(
      `cannot serve the web app: ${join(appDir, 'index.html')} is missing; build it with npm run build`,
    );
  }
  const served = await prepareServedFiles(appDir, options.cacheDir ?? webCacheDir(), options.onCompress);
  const modelDir = await realpath(resolve(options.modelDir));
  const present: string[] = [];
  for (const name of SERVED_MODEL_FILES) if (await readModelFile(modelDir, name)) present.push(name);
  const page = await pageWithModelFiles(served.appDir, present);

  const app = Fastify({ logger: false });
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-embedder-policy', 'require-corp');
    reply.header('cross-origin-resource-policy', 'same-origin');
    done(null, payload);
  });
  const sendPage = (request: FastifyRequest, reply: FastifyReply) => {
    const encoding = pickEncoding(request);
    reply
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding')
      .type('text/html; charset=utf-8');
    if (encoding) reply.header('content-encoding', encoding);
    return reply.send(encoding ? page[encoding] : page.identity);
  };
  app.get('/', sendPage);
  app.get('/index.html', sendPage);
  // Hashed assets and versioned .wasm files never change; the page and the model are revalidated.
  const immutable = 'public, max-age=31536000, immutable';
  await app.register(fastifyStatic, {
    root: served.appDir,
    preCompressed: true,
    cacheControl: false,
    index: false,
    allowedPath: (path) => path !== '/index.html' && path !== '/',
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
  app.get<{ Params: { file: string } }>('/model/:file', async (request, reply) => {
    const name = request.params.file;
    const bytes = SERVED_MODEL_FILES.includes(name) ? await readModelFile(modelDir, name) : undefined;
    if (bytes === undefined) return reply.code(404).type('text/plain').send('not found');
    return reply
      .header('cache-control', 'no-cache')
      .type(name.endsWith('.json') ? 'application/json' : 'application/octet-stream')
      .send(bytes);
  });
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
