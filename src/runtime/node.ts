/**
 * The Node door of the runtime: onnxruntime-node (`cpu`, `cuda`) when it is installed, and
 * onnxruntime-web's WebAssembly build (`wasm`), which also runs in Node. It reads model directories
 * from the file system (or over HTTP) and hands a binding and the bytes to `VaeModel.create`.
 */
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-common';
import { type ModelBytes, ModelDirError, readModelFiles } from '../core/model-dir.js';
import { committedPath } from '../node/commit.js';
import { fetchModelFiles } from './fetch-model.js';
import { type CommonLoadOptions, type OrtBinding, VaeModel as VaeModelCore } from './vae-model.js';

/** Backends of the Node door. `auto`: `cpu` when onnxruntime-node is installed, else `wasm`. */
export type NodeBackend = 'auto' | 'cpu' | 'cuda' | 'wasm';

/** Options of `VaeModel.load` in Node. */
export interface NodeLoadOptions extends CommonLoadOptions {
  /**
   * `cpu` and `cuda` run onnxruntime-node (an optional peer dependency); `wasm` runs
   * onnxruntime-web in Node. Default `auto`: `cpu` when onnxruntime-node is installed, else `wasm`.
   */
  backend?: NodeBackend;
  /** CUDA device id (backend `cuda`). Default 0. */
  deviceId?: number;
  /** With backend `cuda`: run on cpu, with a warning, when CUDA cannot be used. Default false. */
  fallback?: boolean;
  /** Receives warnings (such as a CUDA fallback). Default: `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /** Intra-op threads per session; default: onnxruntime's choice. */
  threads?: number;
  /** onnxruntime's graph optimization level. Default `all`. */
  graphOptimizationLevel?: InferenceSession.SessionOptions['graphOptimizationLevel'];
}

/** The files onnxruntime-node's CUDA execution provider needs next to its binding. */
export const CUDA_PROVIDER_FILES = Object.freeze([
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_shared.so',
]);

/** How to install onnxruntime-node for the CPU (no download beyond the npm registry). */
export const ORT_NODE_INSTALL_HINT = 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node';

/** How to get onnxruntime-node's CUDA binaries, for error messages and the README. */
export const CUDA_INSTALL_HINT =
  'install onnxruntime-node with its CUDA binaries: ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node ' +
  '(it downloads them from NuGet; if onnxruntime-node is already installed: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node); ' +
  'CUDA 12 and cuDNN 9 must be on the library path';

/** The folder holding onnxruntime-node's native binding for this platform, or undefined when it is not installed. */
export function onnxruntimeNodeBinDir(): string | undefined {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
  return join(root, 'bin', 'napi-v6', process.platform, process.arch);
}

/** The CUDA provider files that are missing (all of them when onnxruntime-node is not installed), or []. */
export function missingCudaFiles(binDir = onnxruntimeNodeBinDir()): string[] {
  if (binDir === undefined) return [...CUDA_PROVIDER_FILES];
  return CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(binDir, f)));
}

type OrtNode = typeof import('onnxruntime-node');

/** onnxruntime-node, or undefined when it is not installed. */
async function importOrtNode(): Promise<OrtNode | undefined> {
  try {
    return await import('onnxruntime-node');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

function sessionOptions(o: NodeLoadOptions): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
    ...(o.threads === undefined ? {} : { intraOpNumThreads: o.threads }),
  };
}

async function wasmBinding(o: NodeLoadOptions): Promise<OrtBinding> {
  const ort = await import('onnxruntime-web');
  if (o.threads !== undefined) ort.env.wasm.numThreads = o.threads;
  return {
    name: 'onnxruntime-web-wasm-node',
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, { ...sessionOptions(o), executionProviders: ['wasm'] }),
    tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
}

function ortNodeBinding(ort: OrtNode, o: NodeLoadOptions, provider: 'cpu' | 'cuda'): OrtBinding {
  return {
    name: `onnxruntime-node-${provider}`,
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, {
        ...sessionOptions(o),
        executionProviders: [provider === 'cuda' ? { name: 'cuda', deviceId: o.deviceId ?? 0 } : 'cpu'],
      }),
    tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
}

/** The binding for the asked backend, or an error saying what is missing and how to install it. */
export async function nodeBinding(o: NodeLoadOptions): Promise<OrtBinding> {
  const backend = o.backend ?? 'auto';
  if (!['auto', 'cpu', 'cuda', 'wasm'].includes(backend)) {
    throw new TypeError(
      `load: "backend" must be "auto", "cpu", "cuda" or "wasm" in Node, got ${JSON.stringify(backend)}`,
    );
  }
  if (backend === 'wasm') return wasmBinding(o);
  const ort = await importOrtNode();
  if (ort === undefined) {
    if (backend === 'auto') return wasmBinding(o);
    const reason = `cannot use backend "${backend}": onnxruntime-node is not installed; for the CPU: ${ORT_NODE_INSTALL_HINT}${backend === 'cuda' ? `; for CUDA: ${CUDA_INSTALL_HINT}` : ''}; or use backend "wasm"`;
    if (backend === 'cuda' && o.fallback) {
      (o.onWarning ?? ((m: string) => process.emitWarning(m)))(`${reason}. Falling back to wasm.`);
      return wasmBinding(o);
    }
    throw new Error(reason);
  }
  const cpu = ortNodeBinding(ort, o, 'cpu');
  if (backend !== 'cuda') return cpu;
  // Checked before asking onnxruntime: with the files missing it fails with a bare
  // "Failed to load shared library" and prints a native error to stderr.
  const missing = missingCudaFiles();
  if (missing.length === 0) return ortNodeBinding(ort, o, 'cuda');
  const reason = `cannot use backend "cuda": onnxruntime-node's CUDA provider is not installed (missing ${missing.join(', ')} in ${onnxruntimeNodeBinDir()}); ${CUDA_INSTALL_HINT}`;
  if (!o.fallback) throw new Error(reason);
  (o.onWarning ?? ((m: string) => process.emitWarning(m)))(`${reason}. Falling back to cpu.`);
  return cpu;
}

/** Reads a model directory (or a zip of one, as packModelZip from vae-onnx/train makes) from the file system; errors name the file. */
export async function readModelDir(dir: string): Promise<ModelBytes> {
  if (!existsSync(dir)) throw new ModelDirError(dir, `cannot load ${dir}: no such directory`);
  if (/\.zip$/i.test(dir) && statSync(dir).isFile()) {
    const { readModelZip } = await import('../core/model-zip.js');
    // Read in ranges: only the entries the model needs, whatever the archive's size.
    const handle = await open(dir, 'r');
    try {
      const size = (await handle.stat()).size;
      return await readModelZip(
        {
          size,
          read: async (offset, length) => {
            const buffer = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
            await handle.read(buffer, 0, buffer.length, offset);
            return buffer;
          },
        },
        dir,
      );
    } finally {
      await handle.close();
    }
  }
  if (!statSync(dir).isDirectory()) {
    throw new ModelDirError(
      dir,
      `cannot load ${dir}: it is a file; give the model directory that holds decoder.onnx, or its zip (.zip), or pass the bytes: { decoder }`,
    );
  }
  return readModelFiles(async (file) => {
    // A commit being switched in is read whole from its staging folder (see node/commit.ts).
    const staged = committedPath(dir, file);
    // A file being moved in as we read is found at its place in the directory instead.
    for (const path of staged === join(dir, file) ? [staged] : [staged, join(dir, file)]) {
      try {
        return await readFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new ModelDirError(path, `cannot load ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    return undefined;
  }, dir);
}

/**
 * What `VaeModel.load` in Node reads: a directory path (or a .zip of one), a file: or http(s): URL,
 * the bytes of the files, or the bytes of a zipped model directory.
 */
export type NodeModelSource = string | URL | ModelBytes | Uint8Array | ArrayBuffer;

async function readSource(source: NodeModelSource): Promise<ModelBytes> {
  if (source instanceof URL || (typeof source === 'string' && /^https?:\/\//i.test(source))) {
    const url = source instanceof URL ? source : new URL(source);
    if (url.protocol === 'file:') return readModelDir(fileURLToPath(url));
    if (url.protocol === 'http:' || url.protocol === 'https:') return fetchModelFiles(url.href);
    throw new TypeError(`load: a URL "source" must be file:, http: or https:, got ${url.protocol}`);
  }
  if (typeof source === 'string') return readModelDir(source);
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const { readModelZip } = await import('../core/model-zip.js');
    return readModelZip(source instanceof Uint8Array ? source : new Uint8Array(source), 'model.zip');
  }
  if (typeof source === 'object' && source !== null && source.decoder instanceof Uint8Array) return source;
  throw new TypeError(
    `load: "source" must be a model directory, a URL, a zipped model directory's bytes, or { decoder: Uint8Array, encoder?, card? }, got ${source === null ? 'null' : typeof source}`,
  );
}

/**
 * A loaded VAE in Node. `VaeModel.load(dir)` reads decoder.onnx (required), encoder.onnx and
 * card.json (optional) from a model directory; names and shapes come from the ONNX files.
 */
export class VaeModel extends VaeModelCore {
  /**
   * Loads a model from a directory, a URL or bytes.
   * @throws ModelDirError naming the missing or malformed file; Error saying what the backend lacks.
   */
  static async load(source: NodeModelSource, options: NodeLoadOptions = {}): Promise<VaeModel> {
    const bytes = await readSource(source);
    return VaeModel.create(await nodeBinding(options), bytes, options);
  }
}

export * from './common.js';
