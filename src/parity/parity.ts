/**
 * `vae parity`: the same seeded inputs through every runtime that is present — tfjs on each backend,
 * onnxruntime-node (cpu, and cuda when its binaries are there), onnxruntime-web's wasm in Node and in
 * headless Chromium — compared with one reference for mu, logvar and x_hat.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareArrays } from '../core/compare.js';
import { MODEL_FILES, type ModelCard, parseCardText, sizeOf } from '../core/model-dir.js';
import { createRng, normalArray } from '../core/random.js';
import { decodeModel, decodeTensor, encodeTensor } from '../export/onnx-builder.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { loadCheckpoint } from '../node/model-dir-files.js';
import { missingCudaFiles, onnxruntimeNodeBinDir, VaeModel } from '../runtime/node.js';
import type { Batch } from '../runtime/tensor-input.js';
import { type BackendName, selectBackend } from '../train/backend.js';
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

/** One compared tensor of one runtime; `ok` is null for a runtime that did not run (see `note`). */
export interface ParityRow {
  runtime: string;
  tensor: string;
  maxAbs: number | null;
  maxRel: number | null;
  meanAbs: number | null;
  ok: boolean | null;
  /** The max |Δ| this row was held to (the report's, or a multiple for WebGPU). */
  tolerance?: number;
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
  /**
   * Runs a model in headless Chromium (the web app), or says why it cannot run here; absent → that
   * row says no runner was given.
   */
  chromium?: ChromiumRunner | string;
  /** The same on WebGPU; it fails (and the row says why) when the browser has no adapter. */
  chromiumWebgpu?: ChromiumRunner | string;
}

/** Runs a model directory's ONNX files on inputs x and z in a browser. */
export type ChromiumRunner = (dir: string, x: Batch, z: Batch) => Promise<RuntimeOutputs>;

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
  const nets = await loadCheckpoint(dir, card);
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
  const card = existsSync(path) ? parseCardText(await readFile(path, 'utf8'), path) : undefined;
  // A foreign model's card has no checkpoint behind it: parity compares its ONNX runtimes alone.
  return card?.origin === 'foreign' ? undefined : card;
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
  // Without a checkpoint the reference is an ONNX runtime: onnxruntime-node's cpu when installed,
  // else onnxruntime-web's WebAssembly in this process (always here: a dependency).
  const runtime =
    onnxruntimeNodeBinDir() === undefined ? 'onnxruntime-web-wasm-node' : 'onnxruntime-node-cpu';
  return {
    reference: reuse(runtime) ?? {
      ...(await runOnnx(dir, runtime === 'onnxruntime-node-cpu' ? 'cpu' : 'wasm', x, z)),
      runtime,
    },
    note: `no tfjs checkpoint: every ONNX runtime is compared against ${runtime === 'onnxruntime-node-cpu' ? 'onnxruntime-node cpu' : 'onnxruntime-web wasm in Node (onnxruntime-node is not installed)'}`,
  };
}

/** What every runtime of the table is given: the model, its inputs and the caller's options. */
export interface ParityContext {
  dir: string;
  x: Batch;
  z: Batch;
  hasCheckpoint: boolean;
  options: ParityOptions;
}

/** One runtime of the matrix: why it cannot run here (undefined when it can), and how to run it. */
export interface ParityRuntime {
  name: string;
  unavailable(ctx: ParityContext): string | undefined;
  run(ctx: ParityContext): Promise<RuntimeOutputs>;
  /** Its tolerance as a multiple of the report's (default 1). */
  toleranceFactor?: number;
}

const tfjsRuntime = (backend: BackendName): ParityRuntime => ({
  name: `tfjs-${backend}`,
  unavailable: (ctx) => (ctx.hasCheckpoint ? undefined : 'no tfjs checkpoint in the model directory'),
  run: (ctx) => tfjsOutputs(ctx.dir, backend, ctx.x, ctx.z),
});

/**
 * WebGPU's tolerance is 10× the others' (1e-4 at fp32): WGSL lets exp() err by 3 + 2|x| ULP and a
 * GPU sums matrix products in its own order, so sigmoid outputs of logits up to ~20 may move by a
 * few 1e-6 on a real GPU (SwiftShader here: 2e-7).
 */
const WEBGPU_TOLERANCE_FACTOR = 10;

const chromiumRuntime = (backend: 'wasm' | 'webgpu'): ParityRuntime => {
  const runner = (o: ParityOptions) => (backend === 'wasm' ? o.chromium : o.chromiumWebgpu);
  return {
    name: `onnxruntime-web-${backend}-chromium`,
    ...(backend === 'webgpu' ? { toleranceFactor: WEBGPU_TOLERANCE_FACTOR } : {}),
    unavailable: (ctx) => {
      const r = runner(ctx.options);
      if (r === undefined) return 'not available: no Chromium runner was given';
      return typeof r === 'string' ? `not available: ${r}` : undefined;
    },
    run: (ctx) => (runner(ctx.options) as ChromiumRunner)(ctx.dir, ctx.x, ctx.z),
  };
};

/** Every runtime `vae parity` knows, in the order it runs them. */
export const PARITY_TABLE: readonly ParityRuntime[] = Object.freeze([
  tfjsRuntime('cpu'),
  tfjsRuntime('wasm'),
  tfjsRuntime('tensorflow'),
  {
    name: 'onnxruntime-node-cpu',
    unavailable: () =>
      onnxruntimeNodeBinDir() === undefined ? `not available: onnxruntime-node is not installed` : undefined,
    run: (ctx) => runOnnx(ctx.dir, 'cpu', ctx.x, ctx.z),
  },
  {
    name: 'onnxruntime-node-cuda',
    unavailable: () => {
      const missing = missingCudaFiles();
      return missing.length > 0 ? `not available: missing ${missing.join(', ')}` : undefined;
    },
    run: (ctx) => runOnnx(ctx.dir, 'cuda', ctx.x, ctx.z),
  },
  {
    name: 'onnxruntime-web-wasm-node',
    unavailable: () => undefined,
    run: (ctx) => runOnnx(ctx.dir, 'wasm', ctx.x, ctx.z),
  },
  chromiumRuntime('wasm'),
  chromiumRuntime('webgpu'),
]);

/** The names of every runtime `vae parity` knows, in the order it runs them. */
export const PARITY_RUNTIMES: readonly string[] = Object.freeze(PARITY_TABLE.map((r) => r.name));

function emptyRow(runtime: string, tensor: string, note: string): ParityRow {
  return { runtime, tensor, maxAbs: null, maxRel: null, meanAbs: null, ok: null, note };
}

/**
 * Runs the parity matrix on a model directory. The reference is a float64 computation from the
 * weights for MLP checkpoints, tfjs cpu for other checkpoints, and onnxruntime-node cpu when there
 * is no tfjs checkpoint (a model exported by another tool). The report fails when a row is past the
 * tolerance, when a required runtime did not run, or when no ONNX runtime ran at all.
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
  const ctx: ParityContext = { dir, x, z, hasCheckpoint, options };
  const wanted = new Set(options.runtimes ?? PARITY_RUNTIMES);
  const outputs: RuntimeOutputs[] = [];
  const skipped: ParityRow[] = [];
  for (const runtime of PARITY_TABLE) {
    if (!wanted.has(runtime.name)) continue;
    let note = runtime.unavailable(ctx);
    if (note === undefined) {
      try {
        outputs.push({ ...(await runtime.run(ctx)), runtime: runtime.name });
      } catch (error) {
        note = `did not run: ${(error as Error).message.split('\n')[0]}`;
      }
    }
    if (note !== undefined)
      for (const tensor of PARITY_TENSORS) skipped.push(emptyRow(runtime.name, tensor, note));
  }

  const { reference: ref, note: referenceNote } = await referenceOutputs(dir, card, x, z, outputs);
  const rows: ParityRow[] = [];
  for (const out of outputs) {
    if (out.runtime === ref.runtime) continue;
    const factor = PARITY_TABLE.find((r) => r.name === out.runtime)?.toleranceFactor ?? 1;
    for (const tensor of PARITY_TENSORS) {
      if (!hasEncoder && tensor !== 'x_hat') continue;
      const d = compareArrays(out[tensor], ref[tensor]);
      const limit = tolerance * factor;
      rows.push({ runtime: out.runtime, tensor, ...d, ok: d.maxAbs <= limit, tolerance: limit });
    }
  }
  rows.push(...skipped);
  const missingRequired = (options.require ?? []).filter(
    (r) => !rows.some((row) => row.runtime === r && row.ok !== null),
  );
  for (const r of missingRequired) {
    if (!rows.some((row) => row.runtime === r)) rows.push(emptyRow(r, '*', 'required but not run'));
  }
  const onnxRan = rows.some((r) => r.runtime.startsWith('onnxruntime-') && r.ok !== null);
  if (!onnxRan) rows.push(emptyRow('onnxruntime-*', '*', 'no ONNX runtime ran, so nothing was compared'));
  const ok = rows.every((r) => r.ok !== false) && missingRequired.length === 0 && onnxRan;
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
  const model = await VaeModel.load(dir, { standardize: false });
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
  const model = await VaeModel.load(dir, { standardize: false });
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
