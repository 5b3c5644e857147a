/**
 * The browser door of `vae-onnx/runtime`: onnxruntime-web only (`wasm`, `webgpu`). It imports no
 * `node:*` module, no onnxruntime-node and no tfjs, so bundlers can ship it to any page.
 */
import * as ort from 'onnxruntime-web';
import { MODEL_FILES, type ModelCard, parseCard } from '../core/card.js';
import {
  type CommonLoadOptions,
  type ModelBytes,
  type OrtBinding,
  VaeModel as VaeModelCore,
} from './vae-model.js';

/** Backends of the browser door. */
export type WebBackend = 'wasm' | 'webgpu';

/** Options of `VaeModel.load` in a browser. */
export interface WebLoadOptions extends CommonLoadOptions {
  /** `webgpu` uses the GPU when the browser has an adapter, else wasm. Default `wasm`. */
  backend?: WebBackend;
  /** WebAssembly threads; default: all cores when the page is crossOriginIsolated, else 1. */
  threads?: number;
  /** onnxruntime's graph optimization level. Default `all`. */
  graphOptimizationLevel?: ort.InferenceSession.SessionOptions['graphOptimizationLevel'];
  /** Called while model files download: bytes received so far and the total when known. */
  onProgress?: (progress: { file: string; loaded: number; total: number | undefined }) => void;
  /** Where onnxruntime-web finds its .wasm files, when the bundler does not place them itself. */
  wasmPaths?: string;
}

async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** The backend that will run: webgpu only when asked for and an adapter exists. */
export async function resolveWebBackend(wanted: WebBackend = 'wasm'): Promise<WebBackend> {
  if (wanted !== 'wasm' && wanted !== 'webgpu') {
    throw new TypeError(
      `load: "backend" must be "wasm" or "webgpu" in a browser, got ${JSON.stringify(wanted)}`,
    );
  }
  return wanted === 'webgpu' && (await hasWebGpuAdapter()) ? 'webgpu' : 'wasm';
}

async function webBinding(o: WebLoadOptions): Promise<OrtBinding> {
  const backend = await resolveWebBackend(o.backend);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores =
    (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1;
  ort.env.wasm.numThreads = o.threads ?? (isolated ? cores : 1);
  if (o.wasmPaths !== undefined) ort.env.wasm.wasmPaths = o.wasmPaths;
  return {
    name: `onnxruntime-web-${backend}`,
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, {
        executionProviders: [backend],
        graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
      }),
    tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
}

async function fetchBytes(
  url: string,
  file: string,
  o: WebLoadOptions,
  required: boolean,
): Promise<Uint8Array | undefined> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`cannot load ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) {
    if (!required && response.status === 404) return undefined;
    throw new Error(`cannot load ${url}: HTTP ${response.status} ${response.statusText}`);
  }
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader === null ? undefined : Number(lengthHeader);
  if (!response.body || !o.onProgress) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    o.onProgress({ file, loaded, total });
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Fetches a model directory served over HTTP: decoder.onnx required, encoder.onnx and card.json optional. */
export async function fetchModel(baseUrl: string, options: WebLoadOptions = {}): Promise<ModelBytes> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const [decoder, encoder, cardBytes] = await Promise.all([
    fetchBytes(base + MODEL_FILES.decoderOnnx, MODEL_FILES.decoderOnnx, options, true),
    fetchBytes(base + MODEL_FILES.encoderOnnx, MODEL_FILES.encoderOnnx, options, false),
    fetchBytes(base + MODEL_FILES.card, MODEL_FILES.card, options, false),
  ]);
  let card: ModelCard | undefined;
  if (cardBytes) card = parseCard(JSON.parse(new TextDecoder().decode(cardBytes)));
  return { decoder: decoder as Uint8Array, ...(encoder ? { encoder } : {}), ...(card ? { card } : {}) };
}

/** A loaded VAE in a browser. */
export class VaeModel extends VaeModelCore {
  /**
   * Loads a model from the URL of a model directory or from bytes.
   * @throws Error naming the URL that failed, or the file that does not fit.
   */
  static async load(source: string | ModelBytes, options: WebLoadOptions = {}): Promise<VaeModel> {
    const bytes = typeof source === 'string' ? await fetchModel(source, options) : source;
    const binding = await webBinding(options);
    let sessions: Awaited<ReturnType<typeof VaeModelCore.createSessions>>;
    try {
      sessions = await VaeModelCore.createSessions(binding, bytes);
    } catch (error) {
      throw new Error(`cannot load model on ${binding.name}: ${(error as Error).message}`, { cause: error });
    }
    return VaeModelCore.assemble(() => new VaeModel(binding, sessions, bytes.card, options), sessions);
  }
}

export type { InterpolationMethod } from './latent-paths.js';
export { interpolateCodes, traverseCodes } from './latent-paths.js';
export type { Batch, BatchInput } from './tensor-input.js';
export { toArrays, toBatch } from './tensor-input.js';
export type { CommonLoadOptions, ModelBytes, Moments, OrtBinding } from './vae-model.js';
