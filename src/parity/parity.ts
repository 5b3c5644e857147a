/**
 * `vae parity`: the same seeded inputs through every runtime that is present — tfjs on each backend,
 * onnxruntime-node (cpu, and cuda when its binaries are there), onnxruntime-web's wasm in Node and in
 * headless Chromium — compared with one reference for mu, logvar and x_hat.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILES, type ModelCard, parseCard, sizeOf } from '../core/card.js';
import { compareArrays } from '../core/compare.js';
import { createRng, normalArray } from '../core/random.js';
import { decodeModel, decodeTensor, encodeTensor } from '../export/onnx-builder.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { missingCudaFiles, VaeModel } from '../runtime/node.js';
import type { Batch } from '../runtime/tensor-input.js';
import { type BackendName, selectBackend } from '../train/backend.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { float64Forward } from './float64-reference.js';
import { type RuntimeOutputs, runOnnx, runTfjs } from './runtime-parity.js';

/** Tensors compared. */
export const PARITY_TENSORS = Object.freeze(['mu', 'logvar', 'x_hat'] as const);

/** Default tolerance on max |Δ| per weight precision. */
export const DEFAULT_TOLERANCE: Readonly<Record<string, number>> = Object.freeze({
  fp32: 1e-5,
  fp16: 1e-2,
  int8: 5e-2,
});

/** Every runtime `vae parity` knows, in the order it runs them. */
export const PARITY_RUNTIMES = Object.freeze([
  'tfjs-cpu',
  'tfjs-wasm',
  'tfjs-tensorflow',
  'onnxruntime-node-cpu',
  'onnxruntime-node-cuda',
  'onnxruntime-web-wasm-node',
  'onnxruntime-web-wasm-chromium',
  'onnxruntime-web-webgpu-chromium',
] as const);

/** One compared tensor of one runtime; `ok` is null for a runtime that did not run (see `note`). */
export interface ParityRow {
  runtime: string;
  tensor: string;
  maxAbs: number | null;
  maxRel: number | null;
  meanAbs: number | null;
  ok: boolean | null;
  note?: string;
}

/** The result: what ran, against what, and whether every row that ran is within tolerance. */
export interface ParityReport {
  model: string;
  reference: string;
  referenceNote?: string;
  precision: string;
  tolerance: number;
  batch: number;
  seed: number;
  rows: ParityRow[];
  ok: boolean;
}

/** Options of `runParity`. */
export interface ParityOptions {
  batch: number;
  seed: number;
  /** Runtimes to run (default: all); names as in PARITY_RUNTIMES. */
  runtimes?: readonly string[];
  /** Max |Δ| allowed; default per precision. */
  tolerance?: number;
  /** Runtimes that must run: a required runtime that cannot run fails the report. */
  require?: readonly string[];
  /** Runs a model in headless Chromium (the web app); absent → that row says why. */
  chromium?: (dir: string, x: Batch, z: Batch) => Promise<RuntimeOutputs>;
  /** The same on WebGPU; it fails (and the row says why) when the browser has no adapter. */
  chromiumWebgpu?: (dir: string, x: Batch, z: Batch) => Promise<RuntimeOutputs>;
}

async function readPrecision(dir: string): Promise<string> {
  const bytes = await readFile(join(dir, MODEL_FILES.decoderOnnx));
  return decodeModel(bytes).metadataProps.find((p) => p.key === 'vae_onnx.precision')?.value ?? 'fp32';
}

/** The tfjs checkpoint on one backend (runTfjs on the chosen backend). */
async function tfjsOutputs(dir: string, backend: BackendName, x: Batch, z: Batch): Promise<RuntimeOutputs> {
  await selectBackend(backend);
  return runTfjs(dir, x, z);
}

/** The float64 reference for MLP checkpoints, or undefined when a layer is not MLP-only. */
async function float64Outputs(
  dir: string,
  x: Batch,
  z: Batch,
  card: ModelCard,
): Promise<RuntimeOutputs | undefined> {
  await selectBackend('cpu');
  const nets = await loadCheckpoint(dir);
  try {
    const n = x.shape[0] as number;
    const enc = float64Forward(nets.encoder, x.data, n);
    const dec = float64Forward(nets.decoder, z.data, z.shape[0] as number);
    if (!enc || !dec) return undefined;
    const L = card.latentDim;
    const mu = new Float32Array(n * L);
    const logvar = new Float32Array(n * L);
    for (let i = 0; i < n; i++) {
      mu.set(enc.subarray(2 * L * i, 2 * L * i + L), i * L);
      logvar.set(enc.subarray(2 * L * i + L, 2 * L * (i + 1)), i * L);
    }
    const xHat =
      card.likelihood === 'bernoulli'
        ? Float32Array.from(dec, (l) => 1 / (1 + Math.exp(-l)))
        : Float32Array.from(dec);
    return { runtime: 'float64', mu, logvar, x_hat: xHat };
  } finally {
    nets.encoder.dispose();
    nets.decoder.dispose();
  }
}

/** The seeded inputs: x uniform in [0, 1] of the model's example shape, z standard normal. */
export function parityInputs(
  inputShape: readonly number[],
  latentDim: number,
  batch: number,
  seed: number,
): { x: Batch; z: Batch } {
  const rng = createRng(seed);
  return {
    x: {
      data: Float32Array.from({ length: batch * sizeOf(inputShape) }, () => rng.uniform()),
      shape: [batch, ...inputShape],
    },
    z: { data: normalArray(batch * latentDim, seed + 1), shape: [batch, latentDim] },
  };
}

/** card.json when the directory has one. */
async function readOptionalCard(dir: string): Promise<ModelCard | undefined> {
  const path = join(dir, MODEL_FILES.card);
  return existsSync(path) ? parseCard(JSON.parse(await readFile(path, 'utf8'))) : undefined;
}

/**
 * The reference outputs: float64 from the weights for MLP checkpoints, tfjs cpu for other
 * checkpoints, onnxruntime-node cpu without a checkpoint. Outputs already computed are reused.
 */
async function referenceOutputs(
  dir: string,
  card: ModelCard | undefined,
  x: Batch,
  z: Batch,
  computed: readonly RuntimeOutputs[] = [],
): Promise<{ reference: RuntimeOutputs; note?: string }> {
  const reuse = (runtime: string) => computed.find((o) => o.runtime === runtime);
  if (card !== undefined && existsSync(join(dir, MODEL_FILES.tfjs))) {
    const float64 = await float64Outputs(dir, x, z, card);
    if (float64) return { reference: float64 };
    return {
      reference: reuse('tfjs-cpu') ?? (await tfjsOutputs(dir, 'cpu', x, z)),
      note: 'tfjs cpu (the model has layers beyond the float64 MLP reference)',
    };
  }
  return {
    reference: reuse('onnxruntime-node-cpu') ?? {
      ...(await runOnnx(dir, 'cpu', x, z)),
      runtime: 'onnxruntime-node-cpu',
    },
    note: 'no tfjs checkpoint: every ONNX runtime is compared against onnxruntime-node cpu',
  };
}

/**
 * Runs the parity matrix on a model directory. The reference is a float64 computation from the
 * weights for MLP checkpoints, tfjs cpu for other checkpoints, and onnxruntime-node cpu when there
 * is no tfjs checkpoint (a model exported by another tool).
 */
export async function runParity(dir: string, options: ParityOptions): Promise<ParityReport> {
  const card = await readOptionalCard(dir);
  const hasCheckpoint = card !== undefined && existsSync(join(dir, MODEL_FILES.tfjs));
  const probe = await VaeModel.load(dir);
  const { inputShape, latentDim, hasEncoder } = probe;
  await probe.dispose();
  const precision = await readPrecision(dir);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE[precision] ?? 1e-5;
  const { x, z } = parityInputs(inputShape, latentDim, options.batch, options.seed);
  const wanted = new Set(options.runtimes ?? PARITY_RUNTIMES);
  const outputs: RuntimeOutputs[] = [];
  const skipped: ParityRow[] = [];
  const skip = (runtime: string, note: string) => {
    for (const tensor of PARITY_TENSORS)
      skipped.push({ runtime, tensor, maxAbs: null, maxRel: null, meanAbs: null, ok: null, note });
  };
  const attempt = async (runtime: string, run: () => Promise<RuntimeOutputs>) => {
    if (!wanted.has(runtime)) return;
    try {
      outputs.push({ ...(await run()), runtime });
    } catch (error) {
      skip(runtime, `did not run: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    if (!hasCheckpoint) {
      if (wanted.has(`tfjs-${backend}`)) skip(`tfjs-${backend}`, 'no tfjs checkpoint in the model directory');
      continue;
    }
    await attempt(`tfjs-${backend}`, () => tfjsOutputs(dir, backend, x, z));
  }
  await attempt('onnxruntime-node-cpu', () => runOnnx(dir, 'cpu', x, z));
  if (wanted.has('onnxruntime-node-cuda')) {
    const missing = missingCudaFiles();
    if (missing.length > 0) skip('onnxruntime-node-cuda', `not available: missing ${missing.join(', ')}`);
    else await attempt('onnxruntime-node-cuda', () => runOnnx(dir, 'cuda', x, z));
  }
  await attempt('onnxruntime-web-wasm-node', () => runOnnx(dir, 'wasm', x, z));
  if (wanted.has('onnxruntime-web-wasm-chromium')) {
    if (options.chromium)
      await attempt('onnxruntime-web-wasm-chromium', () =>
        (options.chromium as NonNullable<ParityOptions['chromium']>)(dir, x, z),
      );
    else
      skip('onnxruntime-web-wasm-chromium', 'not available: Chromium (/usr/bin/chromium) is not installed');
  }
  if (wanted.has('onnxruntime-web-webgpu-chromium')) {
    const run = options.chromiumWebgpu;
    if (run) await attempt('onnxruntime-web-webgpu-chromium', () => run(dir, x, z));
    else
      skip('onnxruntime-web-webgpu-chromium', 'not available: Chromium (/usr/bin/chromium) is not installed');
  }

  const { reference: ref, note: referenceNote } = await referenceOutputs(dir, card, x, z, outputs);
  const rows: ParityRow[] = [];
  for (const out of outputs) {
    if (out.runtime === ref.runtime) continue;
    for (const tensor of PARITY_TENSORS) {
      if (!hasEncoder && tensor !== 'x_hat') continue;
      const d = compareArrays(out[tensor], ref[tensor]);
      rows.push({ runtime: out.runtime, tensor, ...d, ok: d.maxAbs <= tolerance });
    }
  }
  rows.push(...skipped);
  const missingRequired = (options.require ?? []).filter(
    (r) => !rows.some((row) => row.runtime === r && row.ok !== null),
  );
  for (const r of missingRequired) {
    if (!rows.some((row) => row.runtime === r)) {
      rows.push({
        runtime: r,
        tensor: '*',
        maxAbs: null,
        maxRel: null,
        meanAbs: null,
        ok: null,
        note: 'required but not run',
      });
    }
  }
  const ok = rows.every((r) => r.ok !== false) && missingRequired.length === 0;
  return {
    model: dir,
    reference: ref.runtime,
    ...(referenceNote ? { referenceNote } : {}),
    precision,
    tolerance,
    batch: options.batch,
    seed: options.seed,
    rows,
    ok,
  };
}

const GOLDEN = 'golden';

/**
 * Writes the parity inputs and the reference outputs in the ONNX test-data layout:
 * DIR/golden/encoder/test_data_set_0/{input_0.pb, output_0.pb, output_1.pb} and
 * DIR/golden/decoder/test_data_set_0/{input_0.pb, output_0.pb}, named as in the model.
 */
export async function writeGolden(dir: string, options: { batch: number; seed: number }): Promise<string[]> {
  const model = await VaeModel.load(dir);
  const { inputShape, latentDim, hasEncoder } = model;
  await model.dispose();
  const { x, z } = parityInputs(inputShape, latentDim, options.batch, options.seed);
  const { reference: ref } = await referenceOutputs(dir, await readOptionalCard(dir), x, z);
  const written: string[] = [];
  const put = async (part: string, file: string, bytes: Uint8Array) => {
    const path = join(dir, GOLDEN, part, 'test_data_set_0', file);
    await writeFileAtomic(path, bytes);
    written.push(path);
  };
  if (hasEncoder) {
    await put('encoder', 'input_0.pb', encodeTensor('x', x.shape, x.data));
    await put('encoder', 'output_0.pb', encodeTensor('mu', [options.batch, latentDim], ref.mu));
    await put('encoder', 'output_1.pb', encodeTensor('logvar', [options.batch, latentDim], ref.logvar));
  }
  await put('decoder', 'input_0.pb', encodeTensor('z', z.shape, z.data));
  await put('decoder', 'output_0.pb', encodeTensor('x_hat', [options.batch, ...inputShape], ref.x_hat));
  return written;
}

/** Replays DIR/golden with onnxruntime-node cpu; one row per stored output. */
export async function checkGolden(dir: string, tolerance?: number): Promise<ParityRow[]> {
  const precision = await readPrecision(dir);
  const limit = tolerance ?? DEFAULT_TOLERANCE[precision] ?? 1e-5;
  const model = await VaeModel.load(dir);
  const rows: ParityRow[] = [];
  try {
    for (const part of ['encoder', 'decoder'] as const) {
      const folder = join(dir, GOLDEN, part, 'test_data_set_0');
      if (!existsSync(folder)) continue;
      const input = decodeTensor(await readFile(join(folder, 'input_0.pb')));
      const batch = { data: input.data, shape: input.dims };
      const got: Record<string, Float32Array> =
        part === 'encoder'
          ? await model.encode(batch).then((m) => ({ mu: m.mu.data, logvar: m.logvar.data }))
          : { x_hat: (await model.decode(batch)).data };
      for (const file of ['output_0.pb', 'output_1.pb']) {
        if (!existsSync(join(folder, file))) continue;
        const want = decodeTensor(await readFile(join(folder, file)));
        const d = compareArrays(got[want.name] ?? new Float32Array(0), want.data);
        rows.push({ runtime: 'onnxruntime-node-cpu', tensor: want.name, ...d, ok: d.maxAbs <= limit });
      }
    }
  } finally {
    await model.dispose();
  }
  if (rows.length === 0)
    throw new Error(
      `cannot check golden data: ${join(dir, GOLDEN)} holds none (run vae parity --write-golden)`,
    );
  return rows;
}
