/**
 * The Node door of `vae-onnx/runtime`: onnxruntime-node (`cpu`, `cuda`) and onnxruntime-web's
 * WebAssembly build (`wasm`), which also runs in Node.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import { MODEL_FILES, type ModelCard, parseCard } from '../core/card.js';
import {
  type CommonLoadOptions,
  type ModelBytes,
  type OrtBinding,
  VaeModel as VaeModelCore,
} from './vae-model.js';

/** Backends of the Node door. */
export type NodeBackend = 'cpu' | 'cuda' | 'wasm';

/** Options of `VaeModel.load` in Node. */
export interface NodeLoadOptions extends CommonLoadOptions {
  /** `cpu` (default) and `cuda` run onnxruntime-node; `wasm` runs onnxruntime-web in Node. */
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

/** How to get onnxruntime-node's CUDA binaries, for error messages and the README. */
export const CUDA_INSTALL_HINT =
  'reinstall onnxruntime-node with its CUDA binaries: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node ' +
  '(with npm 11, first allow its install script: npm install-scripts approve onnxruntime-node); ' +
  'CUDA 12 and cuDNN 9 must be on the library path';

/** The folder holding onnxruntime-node's native binding for this platform. */
export function onnxruntimeNodeBinDir(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(root, 'bin', 'napi-v6', process.platform, process.arch);
}

/** The CUDA provider files that are missing, or [] when all are present. */
export function missingCudaFiles(binDir = onnxruntimeNodeBinDir()): string[] {
  return CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(binDir, f)));
}

function sessionOptions(o: NodeLoadOptions): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
    ...(o.threads === undefined ? {} : { intraOpNumThreads: o.threads }),
  };
}

async function nodeBinding(o: NodeLoadOptions): Promise<OrtBinding> {
  const backend = o.backend ?? 'cpu';
  if (backend === 'wasm') {
    const ort = await import('onnxruntime-web');
    if (o.threads !== undefined) ort.env.wasm.numThreads = o.threads;
    return {
      name: 'onnxruntime-web-wasm-node',
      createSession: (bytes) =>
        ort.InferenceSession.create(bytes, { ...sessionOptions(o), executionProviders: ['wasm'] }),
      tensor: (data, dims) => new ort.Tensor('float32', data, dims),
    };
  }
  const ort = await import('onnxruntime-node');
  const cpu: OrtBinding = {
    name: 'onnxruntime-node-cpu',
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, { ...sessionOptions(o), executionProviders: ['cpu'] }),
    tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
  if (backend === 'cpu') return cpu;
  if (backend !== 'cuda') {
    throw new TypeError(
      `load: "backend" must be "cpu", "cuda" or "wasm" in Node, got ${JSON.stringify(backend)}`,
    );
  }
  const cuda: OrtBinding = {
    name: 'onnxruntime-node-cuda',
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, {
        ...sessionOptions(o),
        executionProviders: [{ name: 'cuda', deviceId: o.deviceId ?? 0 }],
      }),
    tensor: cpu.tensor,
  };
  // Checked before asking onnxruntime: with the files missing it fails with a bare
  // "Failed to load shared library" and prints a native error to stderr.
  const missing = missingCudaFiles();
  if (missing.length === 0) return cuda;
  const reason = `cannot use backend "cuda": onnxruntime-node's CUDA provider is not installed (missing ${missing.join(', ')} in ${onnxruntimeNodeBinDir()}); ${CUDA_INSTALL_HINT}`;
  if (!o.fallback) throw new Error(reason);
  (o.onWarning ?? ((m: string) => process.emitWarning(m)))(`${reason}. Falling back to cpu.`);
  return cpu;
}

async function readModelDir(dir: string): Promise<ModelBytes> {
  const read = async (file: string, required: boolean): Promise<Uint8Array | undefined> => {
    const path = join(dir, file);
    try {
      return await readFile(path);
    } catch (error) {
      if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot load model from ${dir}: cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  const [decoder, encoder, cardText] = await Promise.all([
    read(MODEL_FILES.decoderOnnx, true),
    read(MODEL_FILES.encoderOnnx, false),
    read(MODEL_FILES.card, false),
  ]);
  let card: ModelCard | undefined;
  if (cardText) {
    try {
      card = parseCard(JSON.parse(new TextDecoder().decode(cardText)));
    } catch (error) {
      throw new Error(`cannot load model from ${dir}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { decoder: decoder as Uint8Array, ...(encoder ? { encoder } : {}), ...(card ? { card } : {}) };
}

/**
 * A loaded VAE in Node. `VaeModel.load(dir)` reads decoder.onnx (required), encoder.onnx and
 * card.json (optional) from a model directory; names and shapes come from the ONNX files.
 */
export class VaeModel extends VaeModelCore {
  /**
   * Loads a model from a directory or from bytes.
   * @throws Error naming the missing or malformed file, or what the backend lacks.
   */
  static async load(source: string | ModelBytes, options: NodeLoadOptions = {}): Promise<VaeModel> {
    const bytes = typeof source === 'string' ? await readModelDir(source) : source;
    const binding = await nodeBinding(options);
    let sessions: Awaited<ReturnType<typeof VaeModelCore.createSessions>>;
    try {
      sessions = await VaeModelCore.createSessions(binding, bytes);
    } catch (error) {
      const where = typeof source === 'string' ? ` from ${source}` : '';
      throw new Error(`cannot load model${where} on ${binding.name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return VaeModelCore.assemble(() => new VaeModel(binding, sessions, bytes.card, options), sessions);
  }
}

export type { InterpolationMethod } from './latent-paths.js';
export { interpolateCodes, traverseCodes } from './latent-paths.js';
export type { Batch, BatchInput } from './tensor-input.js';
export { toArrays, toBatch } from './tensor-input.js';
export type { CommonLoadOptions, ModelBytes, Moments, OrtBinding } from './vae-model.js';
