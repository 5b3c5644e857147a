/**
 * The tfjs backend of a training run in a browser: webgpu or webgl on a real GPU, else wasm (the
 * fastest on a CPU: a software GPU such as SwiftShader runs webgl and webgpu far slower), else cpu.
 * Each backend's code is imported only when it is tried.
 */
import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from '../tfjs/checkpoint.js';
import { registerWasmConvKernels } from './wasm-conv-kernels.js';
import { registerWasmSimdKernels } from './wasm-simd-kernels.js';

/** Backends the trainer can run on in a browser. */
export type WebTrainBackend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Where a browser's GPU backends would run: on a GPU, in software, or nowhere. */
export type GpuKind = 'hardware' | 'software' | 'none';

/** What `selectWebBackend` chose and what it passed over. */
export interface WebBackendChoice {
  name: WebTrainBackend;
  /** Backends tried or passed over before it, with the reason. */
  skipped: { name: WebTrainBackend; reason: string }[];
}

/** Options of `selectWebBackend`. */
export interface WebBackendOptions {
  /**
   * Where tfjs-backend-wasm's .wasm files are served (a URL prefix such as `/tfjs/`), when the bundler
   * does not place them: tfjs-backend-wasm.wasm, -simd.wasm and -threaded-simd.wasm from its dist/.
   */
  wasmPaths?: string;
  /**
   * wasm threads. Default 1: tfjs-backend-wasm's threads start workers from its own script file,
   * which a bundler folds into the app's chunks; more than 1 works where that file is served as is
   * (and the page is crossOriginIsolated).
   */
  threads?: number;
  /** Kernels the backend must have (see `kernelsFor`). */
  kernels?: readonly string[];
}

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** Whether the page has a WebGPU adapter, and whether it is a GPU or a software fallback. */
export async function webGpuKind(): Promise<GpuKind> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return 'none';
  try {
    const adapter = (await gpu.requestAdapter()) as {
      isFallbackAdapter?: boolean;
      info?: { vendor?: string; architecture?: string; description?: string };
    } | null;
    if (!adapter) return 'none';
    const info = adapter.info ?? {};
    const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`;
    return adapter.isFallbackAdapter || SOFTWARE.test(text) ? 'software' : 'hardware';
  } catch {
    return 'none';
  }
}

/** Whether the page has WebGL 2, and whether a GPU or a software rasterizer renders it. */
export function webGlKind(): GpuKind {
  const doc = (globalThis as { document?: Document }).document;
  const Offscreen = (globalThis as { OffscreenCanvas?: typeof OffscreenCanvas }).OffscreenCanvas;
  const canvas = doc ? doc.createElement('canvas') : Offscreen ? new Offscreen(1, 1) : undefined;
  const gl = canvas?.getContext('webgl2') as WebGL2RenderingContext | null | undefined;
  if (!gl) return 'none';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return SOFTWARE.test(renderer) ? 'software' : 'hardware';
}

/** The adapter and device of the webgpu backend, held for the page's life (see registerWebGpu). */
let heldGpu: { adapter: unknown; device: unknown } | undefined;

/**
 * Registers tfjs's webgpu backend with a factory that keeps its GPUAdapter alive: tfjs-backend-webgpu
 * 4.22 drops the adapter after creating the device, and Chromium then loses the device when the
 * adapter is collected ("A valid external Instance reference no longer exists"; every later
 * createBuffer fails). The limits and features asked for are tfjs's own.
 */
async function registerWebGpu(): Promise<void> {
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  if (heldGpu) return;
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) throw new Error('navigator.gpu is undefined: this browser has no WebGPU');
  tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('navigator.gpu.requestAdapter() found no adapter');
      const limits = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      heldGpu = { adapter, device };
      return new webgpu.WebGPUBackend(device, (adapter as { info?: unknown }).info as never);
    },
    3,
  );
}

async function tryWebBackend(name: WebTrainBackend, o: WebBackendOptions): Promise<void> {
  if (name === 'webgpu') {
    await registerWebGpu();
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (o.wasmPaths !== undefined) {
      const base = (globalThis as { location?: { href: string } }).location?.href;
      wasm.setWasmPaths(new URL(o.wasmPaths, base).href);
    }
    const threads = o.threads ?? 1;
    if (threads <= 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else wasm.setThreadsCount(threads);
    registerWasmConvKernels();
    registerWasmSimdKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
  const missing = (o.kernels ?? []).filter((k) => tf.getKernel(k, name) === undefined);
  if (missing.length > 0)
    throw new Error(`lacks the ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''}`);
  if (name === 'cpu') silenceCpuBanner();
}

/**
 * Chooses and starts the tfjs backend for training in a browser.
 * @param wanted - one backend, or `auto`: webgpu, then webgl, each only on a hardware GPU; then
 *   wasm; then cpu.
 * @throws Error listing every backend tried when none (or not the wanted one) works; TypeError for
 *   an unknown name.
 */
export async function selectWebBackend(
  wanted: WebTrainBackend | 'auto' = 'auto',
  options: WebBackendOptions = {},
): Promise<WebBackendChoice> {
  const names: readonly WebTrainBackend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
  if (wanted !== 'auto' && !names.includes(wanted)) {
    throw new TypeError(
      `selectWebBackend: "backend" must be "auto", ${names.map((n) => `"${n}"`).join(', ')}, got ${JSON.stringify(wanted)}`,
    );
  }
  const skipped: WebBackendChoice['skipped'] = [];
  const order = wanted === 'auto' ? names : [wanted];
  for (const name of order) {
    if (wanted === 'auto' && (name === 'webgpu' || name === 'webgl')) {
      const kind = name === 'webgpu' ? await webGpuKind() : webGlKind();
      if (kind !== 'hardware') {
        skipped.push({ name, reason: kind === 'none' ? 'not available' : 'runs in software here' });
        continue;
      }
    }
    try {
      await tryWebBackend(name, options);
      return { name, skipped };
    } catch (error) {
      skipped.push({ name, reason: (error as Error).message.split('\n')[0] ?? String(error) });
    }
  }
  const tried = skipped.map((s) => `[${s.name}] ${s.reason}`).join(', ');
  throw new Error(`cannot start TensorFlow.js: no backend available. Tried: ${tried}`);
}
