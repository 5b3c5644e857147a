/**
 * The tfjs backend of a training run in a browser: webgpu or webgl on a real GPU, else wasm (the
 * fastest on a CPU: a software GPU such as SwiftShader runs webgl and webgpu far slower), else cpu.
 * Each backend's code is imported only when it is tried.
 */
import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from '../tfjs/checkpoint.js';
import { registerWasmConvKernels } from './wasm-conv-kernels.js';

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
  /** wasm threads (threads need a crossOriginIsolated page); default: tfjs's choice, the cores. */
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

async function tryWebBackend(name: WebTrainBackend, o: WebBackendOptions): Promise<void> {
  if (name === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (o.wasmPaths !== undefined) {
      const base = (globalThis as { location?: { href: string } }).location?.href;
      wasm.setWasmPaths(new URL(o.wasmPaths, base).href);
    }
    if (o.threads !== undefined) wasm.setThreadsCount(o.threads);
    registerWasmConvKernels();
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
