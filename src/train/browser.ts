/**
 * `vae-onnx/train` in a browser: train on examples in memory with tfjs's webgpu, webgl, wasm or cpu
 * backend, stop with an AbortSignal, resume from files in memory, and get card.json and the tfjs
 * checkpoint back as files (`packModelZip` makes one download of them). No Node module, no
 * worker_threads, no file system.
 */

import { architectureOf, kernelsOf } from './architecture.js';
import type { MemoryData } from './dataset.js';
import { type MemoryTrainOptions, type MemoryTrainResult, trainInMemory } from './memory.js';
import { selectWebBackend, type WebBackendOptions, type WebTrainBackend } from './web-backend.js';

export * from './common.js';
export type { GpuKind, WebBackendChoice, WebBackendOptions, WebTrainBackend } from './web-backend.js';
export { selectWebBackend, webGlKind, webGpuKind } from './web-backend.js';

/** Options of `trainInBrowser`: `trainInMemory`'s, and the backend to train on. */
export interface BrowserTrainOptions extends MemoryTrainOptions, Omit<WebBackendOptions, 'kernels'> {
  /** Default `auto`: webgpu or webgl on a hardware GPU, else wasm, else cpu (see selectWebBackend). */
  backend?: WebTrainBackend | 'auto';
}

/**
 * Selects a tfjs backend for the page (see `selectWebBackend`) and trains on `data` there (see
 * `trainInMemory`). The result's `backend` says where the steps ran.
 * @throws Error when no backend starts; otherwise as `trainInMemory`.
 */
export async function trainInBrowser(
  data: MemoryData,
  options: BrowserTrainOptions = {},
): Promise<MemoryTrainResult> {
  const { backend = 'auto', wasmPaths, threads, ...rest } = options;
  await selectWebBackend(backend, {
    kernels: kernelsOf(
      architectureOf({
        arch: rest.arch ?? 'mlp',
        hiddenDim: 0,
        ...(rest.networks ? { networks: rest.networks } : {}),
      }),
    ),
    ...(wasmPaths === undefined ? {} : { wasmPaths }),
    ...(threads === undefined ? {} : { threads }),
  });
  return trainInMemory(data, rest);
}
