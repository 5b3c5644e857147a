/**
 * The Convert panel: a tfjs layers model (model.json and its weight shards, dropped or chosen, or a
 * URL) converted to ONNX in this tab by the exporter's browser door, checked against tfjs on seeded
 * inputs with onnxruntime-web, and offered as model.onnx. The same files give the same bytes as
 * `vae convert`. Loaded when first opened: it brings TensorFlow.js.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type CheckRow,
  checkInputs,
  compareCheck,
  convertLoadedModel,
  filesSource,
  type LayerReport,
  type LoadedModelJson,
  loadModelJson,
  type NamedBytes,
  type Precision,
  predictTfjs,
  urlSource,
} from '../../export/browser.js';
import { $, type AppContext, onStart } from './context.js';
import { acceptDrops } from './images.js';

/** What the panel is asked to convert, and how (the fields, or `window.vaeApp.convert`'s argument). */
export interface ConvertRequest {
  /** model.json and its shards, or an http(s) URL of model.json. */
  source: NamedBytes[] | string;
  opset: number;
  precision: Precision;
  /** Run tfjs and onnxruntime-web on seeded inputs and compare. Default true. */
  check?: boolean;
}

/** What a conversion gives `window.vaeApp.convert`. */
export interface ConvertOutcome {
  bytes: Uint8Array;
  layers: LayerReport[];
  inputNames: string[];
  outputNames: string[];
  rows: CheckRow[];
  /** The onnxruntime-web backend the check ran on. */
  runtime: string;
}

let chosen: NamedBytes[] = [];
let link: string | undefined;

function status(text: string): void {
  $('convert-status').textContent = text;
}

async function runOnnxWeb(
  bytes: Uint8Array,
  inputs: { name: string; shape: number[]; data: Float32Array }[],
  outputNames: readonly string[],
  ctx: AppContext,
): Promise<{ runtime: string; outputs: Float32Array[] }> {
  // The same onnxruntime-web build the page runs its model on.
  const webgpu = ctx.loadOptions.backend === 'webgpu';
  const ort = webgpu ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  if (ctx.loadOptions.wasmPaths) ort.env.wasm.wasmPaths = ctx.loadOptions.wasmPaths as string;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [webgpu ? 'webgpu' : 'wasm'],
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds = Object.fromEntries(inputs.map((x) => [x.name, new ort.Tensor('float32', x.data, x.shape)]));
    const result = await session.run(feeds);
    const outputs: Float32Array[] = [];
    for (const name of outputNames) {
      const t = result[name];
      outputs.push(Float32Array.from(((await t?.getData()) ?? []) as ArrayLike<number>));
    }
    return { runtime: `onnxruntime-web-${webgpu ? 'webgpu' : 'wasm'}`, outputs };
  } finally {
    await session.release();
  }
}

function table(rows: readonly (readonly string[])[], head: readonly string[]): HTMLTableElement {
  const t = document.createElement('table');
  const tr = (cells: readonly string[], tag: 'th' | 'td') => {
    const row = document.createElement('tr');
    for (const c of cells) {
      const cell = document.createElement(tag);
      cell.textContent = c;
      row.append(cell);
    }
    return row;
  };
  t.append(tr(head, 'th'), ...rows.map((r) => tr(r, 'td')));
  return t;
}

function show(outcome: ConvertOutcome, loaded: LoadedModelJson): void {
  const box = $('convert-result');
  box.replaceChildren();
  if (link) URL.revokeObjectURL(link);
  link = URL.createObjectURL(
    new Blob([outcome.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  const a = Object.assign(document.createElement('a'), {
    href: link,
    download: 'model.onnx',
    id: 'convert-download',
    textContent: `model.onnx (${(outcome.bytes.length / 1024).toFixed(1)} KiB)`,
  });
  box.append(a);
  if (outcome.rows.length > 0) {
    const h = document.createElement('h2');
    h.textContent = `Check: ${outcome.runtime} against tfjs on seeded inputs`;
    box.append(
      h,
      table(
        outcome.rows.map((r) => [
          r.output,
          `[${r.shape.join(', ')}]`,
          r.maxAbs.toExponential(2),
          (r.maxAbs / Math.max(1, r.scale)).toExponential(2),
          r.ok ? 'yes' : 'NO',
        ]),
        ['output', 'shape', 'max |Δ|', 'relative', 'within 1e-4'],
      ),
    );
  }
  const h = document.createElement('h2');
  h.textContent = `Layers (${outcome.layers.length}, ${loaded.model.countParams().toLocaleString('en-US')} parameters)`;
  box.append(
    h,
    table(
      outcome.layers.map((l) => [
        l.name,
        l.className,
        l.ops.length > 0 ? l.ops.join(', ') : '(identity: no node)',
      ]),
      ['layer', 'class', 'ONNX ops'],
    ),
  );
}

/**
 * Converts, checks and offers the result; the status line says what went wrong otherwise.
 * @throws what loading, conversion or the check threw.
 */
export async function convertAndOffer(ctx: AppContext, request: ConvertRequest): Promise<ConvertOutcome> {
  ($('convert-start') as HTMLButtonElement).disabled = true;
  let loaded: LoadedModelJson | undefined;
  try {
    status('loading the model…');
    // The pure-JS backend: every op of a layers model, and the reference vae convert checks against.
    await tf.setBackend('cpu');
    const source =
      typeof request.source === 'string' ? urlSource(request.source) : filesSource(request.source);
    loaded = await loadModelJson(source);
    status('converting…');
    const started = performance.now();
    const converted = await convertLoadedModel(loaded, {
      opset: request.opset,
      precision: request.precision,
    });
    const ms = performance.now() - started;
    let rows: CheckRow[] = [];
    let runtime = '';
    if (request.check !== false) {
      status('checking against tfjs…');
      const inputs = checkInputs(loaded.model, converted.inputNames);
      const reference = predictTfjs(loaded.model, inputs);
      const onnx = await runOnnxWeb(converted.bytes, inputs, converted.outputNames, ctx);
      runtime = onnx.runtime;
      rows = compareCheck(converted.outputNames, onnx.outputs, reference);
    }
    const outcome = { ...converted, rows, runtime };
    show(outcome, loaded);
    const failed = rows.filter((r) => !r.ok).map((r) => r.output);
    status(
      `converted ${loaded.file} in ${ms.toFixed(0)} ms: ${converted.layers.length} layers, opset ${request.opset}, ${request.precision}` +
        (rows.length === 0
          ? ''
          : failed.length > 0
            ? `; the check FAILED on ${failed.join(', ')}`
            : '; the check passed'),
    );
    return outcome;
  } catch (error) {
    status(`could not convert: ${(error as Error).message}`);
    throw error;
  } finally {
    loaded?.model.dispose();
    ($('convert-start') as HTMLButtonElement).disabled = false;
  }
}

async function take(files: readonly File[]): Promise<void> {
  chosen = await Promise.all(
    files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
  );
  $('convert-files-info').textContent =
    chosen.length === 0 ? 'no files' : `${chosen.length} files: ${chosen.map((f) => f.name).join(', ')}`;
}

/** The panel's fields as a request. */
function requestFromFields(): ConvertRequest {
  const url = $<HTMLInputElement>('convert-url').value.trim();
  if (url === '' && chosen.length === 0)
    throw new Error('choose model.json and its weight files, or give a URL');
  return {
    source: url !== '' ? url : chosen,
    opset: Number($<HTMLSelectElement>('convert-opset').value),
    precision: $<HTMLSelectElement>('convert-precision').value as Precision,
    check: $<HTMLInputElement>('convert-check').checked,
  };
}

/** Wires the panel's controls (once). */
export function initConvertPanel(ctx: AppContext): void {
  onStart('convert-start', requestFromFields, (request) => convertAndOffer(ctx, request), status);
  for (const id of ['convert-files', 'convert-folder']) {
    $<HTMLInputElement>(id).addEventListener('change', (event) => {
      void take([...((event.target as HTMLInputElement).files ?? [])]);
    });
  }
  acceptDrops($('convert-drop'), /\.(json|bin)$/i, take);
}
