/**
 * The browser door of the runtime: onnxruntime-web only (`wasm`, `webgpu`). It imports no `node:*`
 * module, no onnxruntime-node and no tfjs. onnxruntime-web is loaded with a dynamic import, so every
 * bundler puts it in a chunk of its own (its WebAssembly threads start from that chunk's URL, which
 * is what makes crossOriginIsolated pages work without configuration), and only the build the
 * backend needs is fetched: the plain WebAssembly build for `wasm`, the WebGPU build for `webgpu`.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { MODEL_FILES, type ModelBytes, modelFilePath } from '../core/model-dir.js';
import { type DownloadProgress, fetchModelFiles } from './fetch-model.js';
import { type CommonLoadOptions, type OrtBinding, VaeModel as VaeModelCore } from './vae-model.js';
import { warmUpModelBytes } from './warm-up-model.js';

/** Backends of the browser door. */
export type WebBackend = 'wasm' | 'webgpu';

/** Options of `VaeModel.load` in a browser. */
export interface WebLoadOptions extends CommonLoadOptions {
  /** `webgpu` uses the GPU when the browser has an adapter, else wasm. Default `wasm`. */
  backend?: WebBackend;
  /** WebAssembly threads; default: all cores when the page is crossOriginIsolated, else 1. */
  threads?: number;
  /** onnxruntime's graph optimization level. Default `all`. */
  graphOptimizationLevel?: OrtWeb.InferenceSession.SessionOptions['graphOptimizationLevel'];
  /** Called while model files download: bytes received so far and the total when known. */
  onProgress?: DownloadProgress;
  /**
   * Where onnxruntime-web's .wasm files are served (a URL prefix, such as `/ort/`), when the bundler
   * does not place them: ort-wasm-simd-threaded.wasm for `wasm`, ort-wasm-simd-threaded.asyncify.wasm
   * for `webgpu`, as onnxruntime-web's package ships them. Its JavaScript stays in the bundle.
   */
  wasmPaths?: string;
  /**
   * `fp16` loads decoder.fp16.onnx (half-float weights: half the download, outputs within ~1e-3)
   * when the directory has one, else decoder.onnx; `vae.decoderFile` says which. Default `fp32`
   * (decoder.onnx).
   */
  precision?: 'fp32' | 'fp16';
  /** Fetch encoder.onnx with the decoder instead of when first needed. Default false. */
  eagerEncoder?: boolean;
  /** Give up, rejecting with an error that says where the load stood, after this many ms. Default 60000. */
  timeoutMs?: number;
}

/**
 * What `VaeModel.load` in a browser reads: the URL of a model directory, the bytes of its files, or
 * a zipped model directory (as packModelZip from vae-onnx/train makes) as bytes, a Blob or a File (from a file input or a drop).
 */
export type WebModelSource = string | URL | ModelBytes | Uint8Array | ArrayBuffer | Blob;

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

/** The .wasm file of each backend's onnxruntime-web build (its bundled JavaScript loads it). */
export const WASM_FILES: Readonly<Record<WebBackend, string>> = Object.freeze({
  wasm: 'ort-wasm-simd-threaded.wasm',
  webgpu: 'ort-wasm-simd-threaded.asyncify.wasm',
});

/** onnxruntime-web's build for a backend, in a chunk of its own. */
function importOrtWeb(backend: WebBackend): Promise<typeof OrtWeb> {
  return backend === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm');
}

/**
 * Loads onnxruntime-web for `backend` and starts its WebAssembly (by opening a 100-byte model), so
 * that the caller's downloads run meanwhile.
 */
async function webBinding(backend: WebBackend, o: WebLoadOptions): Promise<OrtBinding> {
  const ort = await importOrtWeb(backend);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores =
    (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1;
  ort.env.wasm.numThreads = o.threads ?? (isolated ? cores : 1);
  if (o.wasmPaths !== undefined) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    ort.env.wasm.wasmPaths = { wasm: new URL(WASM_FILES[backend], new URL(o.wasmPaths, base)).href };
  }
  const options: OrtWeb.InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
  };
  const warmUp = await ort.InferenceSession.create(warmUpModelBytes(), options);
  await warmUp.release();
  return {
    name: `onnxruntime-web-${backend}`,
    createSession: (bytes) => ort.InferenceSession.create(bytes, options),
    tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
}

/** The name a zip source goes by in messages: a File's name, else model.zip. */
function zipName(source: Blob | Uint8Array | ArrayBuffer): string {
  return typeof (source as { name?: unknown }).name === 'string' ? (source as File).name : 'model.zip';
}

async function readZipSource(
  source: Blob | Uint8Array | ArrayBuffer,
  o: WebLoadOptions,
): Promise<ModelBytes> {
  // A Blob (a File the user chose) is read in ranges: only the entries the model needs.
  const archive =
    source instanceof Uint8Array
      ? source
      : source instanceof ArrayBuffer
        ? new Uint8Array(source)
        : {
            size: source.size,
            read: async (offset: number, length: number) =>
              new Uint8Array(await source.slice(offset, offset + length).arrayBuffer()),
          };
  const { readModelZip } = await import('../core/model-zip.js');
  return readModelZip(
    archive,
    zipName(source),
    o.precision === 'fp16' ? { preferDecoder: MODEL_FILES.decoderFp16Onnx } : {},
  );
}

function isZipSource(source: unknown): source is Blob | Uint8Array | ArrayBuffer {
  const Blob_ = (globalThis as { Blob?: typeof Blob }).Blob;
  return (
    source instanceof Uint8Array ||
    source instanceof ArrayBuffer ||
    (Blob_ !== undefined && source instanceof Blob_)
  );
}

function readSource(source: WebModelSource, o: WebLoadOptions): Promise<ModelBytes> {
  if (isZipSource(source)) return readZipSource(source, o);
  if (typeof source === 'object' && source !== null && !(source instanceof URL)) {
    if (source.decoder instanceof Uint8Array) return Promise.resolve(source);
  } else if (typeof source === 'string' || source instanceof URL) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    const url = new URL(source, base).href;
    return fetchModelFiles(url, {
      lazyEncoder: o.eagerEncoder !== true,
      ...(o.precision === 'fp16' ? { preferDecoder: MODEL_FILES.decoderFp16Onnx } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
  }
  return Promise.reject(
    new TypeError(
      `load: "source" must be a model directory's URL, a zipped model directory (bytes, Blob or File), or { decoder: Uint8Array, encoder?, card? }, got ${source === null ? 'null' : typeof source}`,
    ),
  );
}

/** Rejects with `describe()`'s message after `ms`; a result that arrives later goes to `onLate`. */
function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  describe: () => string,
  onLate: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error(describe()));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (late) onLate(value);
        else resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        if (!late) reject(error);
      },
    );
  });
}

/** A loaded VAE in a browser. */
export class VaeModel extends VaeModelCore {
  /**
   * Loads a model from the URL of a model directory or from bytes. onnxruntime-web starts while the
   * decoder (and card.json) download; encoder.onnx is fetched when first needed.
   * @throws ModelDirError naming the URL that failed or the file that does not fit; Error when the
   *   load does not finish within `timeoutMs`.
   */
  static async load(source: WebModelSource, options: WebLoadOptions = {}): Promise<VaeModel> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!(timeoutMs > 0)) throw new RangeError(`load: "timeoutMs" must be > 0, got ${options.timeoutMs}`);
    const backend = await resolveWebBackend(options.backend);
    const stage = { ort: 'starting', files: 'downloading' };
    const work = (async () => {
      const [binding, bytes] = await Promise.all([
        webBinding(backend, options).then((b) => {
          stage.ort = 'started';
          return b;
        }),
        readSource(source, options).then((b) => {
          stage.files = 'downloaded';
          return b;
        }),
      ]);
      return VaeModel.create(binding, bytes, options);
    })();
    const where =
      typeof source === 'string' || source instanceof URL
        ? String(source)
        : isZipSource(source)
          ? zipName(source)
          : undefined;
    return withDeadline(
      work,
      timeoutMs,
      () =>
        `cannot load ${modelFilePath(where, MODEL_FILES.decoderOnnx)} on onnxruntime-web-${backend}: not finished after ${timeoutMs} ms (onnxruntime-web ${stage.ort}, model files ${stage.files}); if onnxruntime-web never starts, check that its .wasm files are served (the wasmPaths option) and, on a crossOriginIsolated page, that its worker can load`,
      (model) => void model.dispose(),
    );
  }
}

export * from './common.js';
export type { DownloadProgress } from './fetch-model.js';
export { fetchModelFiles } from './fetch-model.js';
