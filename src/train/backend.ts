import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from '../tfjs/checkpoint.js';
import { registerWasmConvKernels } from './wasm-conv-kernels.js';
import { registerWasmSimdKernels } from './wasm-simd-kernels.js';

export { kernelsFor } from './model.js';

/** Backends the trainer can run on, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What `selectBackend` chose and what it tried before. */
export interface BackendChoice {
  name: BackendName;
  /** Every backend that was tried and failed, with the reason. */
  skipped: { name: BackendName; reason: string }[];
}

async function tryBackend(name: BackendName, kernels: readonly string[]): Promise<void> {
  if (name === 'tensorflow') {
    // An optionalDependency: absent where its install could not download libtensorflow.
    const moduleName = '@tensorflow/tfjs-node';
    await import(moduleName);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmConvKernels();
    registerWasmSimdKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
  const missing = kernels.filter((k) => tf.getKernel(k, name) === undefined);
  if (missing.length > 0)
    throw new Error(`lacks the ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''}`);
  if (name === 'cpu') silenceCpuBanner();
}

/**
 * Chooses the TensorFlow.js backend: `tensorflow` (tfjs-node) when it loads, else `wasm`, else `cpu`.
 * @param wanted - force one backend; `auto` (the default) takes the first that works.
 * @param options.kernels - kernels the backend must have (see `kernelsFor`).
 * @throws Error listing every backend tried when none (or not the wanted one) works.
 */
export async function selectBackend(
  wanted: BackendName | 'auto' = 'auto',
  options: { kernels?: readonly string[] } = {},
): Promise<BackendChoice> {
  const order: BackendName[] = wanted === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [wanted];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    try {
      await tryBackend(name, options.kernels ?? []);
      return { name, skipped };
    } catch (error) {
      const e = error as Error & { code?: string };
      const reason =
        e.code === 'ERR_MODULE_NOT_FOUND' ? 'not installed' : (e.message.split('\n')[0] ?? String(e));
      skipped.push({ name, reason });
    }
  }
  const tried = skipped.map((s) => `[${s.name}] ${s.reason}`).join(', ');
  throw new Error(`cannot start TensorFlow.js: no backend available. Tried: ${tried}`);
}
