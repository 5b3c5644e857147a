/**
 * Reading a model directory served over HTTP, with the platform's `fetch` (browsers, Node >= 18).
 */
import { type ModelBytes, ModelDirError, readModelFiles } from '../core/model-dir.js';

/** Progress of one file's download: bytes received so far, and the total when the server said it. */
export type DownloadProgress = (progress: {
  file: string;
  loaded: number;
  total: number | undefined;
}) => void;

/** Options of `fetchModelFiles`. */
export interface FetchModelOptions {
  /** Called while files download. */
  onProgress?: DownloadProgress;
  /** Fetch encoder.onnx when it is first needed, not with the decoder. Default false. */
  lazyEncoder?: boolean;
  /** A decoder variant, e.g. `decoder.fp16.onnx`, fetched instead of decoder.onnx when the directory has it. */
  preferDecoder?: string;
  /** Aborts the downloads. */
  signal?: AbortSignal;
}

async function readBody(response: Response, file: string, onProgress: DownloadProgress): Promise<Uint8Array> {
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader === null ? undefined : Number(lengthHeader);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress({ file, loaded, total });
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/**
 * Fetches one file; undefined on 404.
 * @throws ModelDirError naming the URL for any other failure.
 */
async function fetchFile(url: string, file: string, o: FetchModelOptions): Promise<Uint8Array | undefined> {
  let response: Response;
  try {
    response = await fetch(url, o.signal ? { signal: o.signal } : {});
  } catch (error) {
    throw new ModelDirError(url, `cannot load ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (response.status === 404) return undefined;
  if (!response.ok) {
    throw new ModelDirError(url, `cannot load ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  if (response.body && o.onProgress) return readBody(response, file, o.onProgress);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Fetches a model directory served over HTTP: decoder.onnx (required), card.json and encoder.onnx
 * (optional), in parallel.
 * @param baseUrl - the directory's URL; a trailing slash is added when missing.
 * @throws ModelDirError naming the URL that failed.
 */
export function fetchModelFiles(baseUrl: string, options: FetchModelOptions = {}): Promise<ModelBytes> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return readModelFiles((file) => fetchFile(new URL(file, base).href, file, options), base, {
    ...(options.lazyEncoder === undefined ? {} : { lazyEncoder: options.lazyEncoder }),
    ...(options.preferDecoder === undefined ? {} : { preferDecoder: options.preferDecoder }),
  });
}
