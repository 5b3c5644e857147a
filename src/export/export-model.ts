import * as tf from '@tensorflow/tfjs';
import { PACKAGE_VERSION } from '../core/version.js';
import type { LayerInfo } from './converter.js';
import { ExportError } from './errors.js';
import { type CallState, computeOutputMask, executionOrder } from './execution.js';
import { GraphBuilder, type Value } from './graph-builder.js';
import { DEFAULT_OPSET, type Dim, encodeModel, makeModel, SUPPORTED_OPSETS } from './onnx-builder.js';
import type { Precision } from './precision.js';
import { converterFor, supportedLayerClasses } from './registry.js';

/** Options of `exportModel`. */
export interface ExportOptions {
  /** Default-domain opset, 13 to 21. */
  opset: number;
  /** `dynamic` writes a symbolic batch dimension "N"; a number fixes it. */
  batch: 'dynamic' | number;
  /** Names of the graph inputs, in the model's input order; default: the tfjs input names. */
  inputNames?: readonly string[];
  /** Names of the graph outputs, in the model's output order; default: the producing layers' names. */
  outputNames?: readonly string[];
  /** Key-value pairs written as metadata_props. */
  metadata?: Readonly<Record<string, string>>;
  /** The graph's name; default: the model's name. */
  graphName?: string;
  /**
   * Weight precision: `fp16` stores float weights as half floats (Cast back to float32 in the graph);
   * `int8` stores Dense and Conv kernels as int8 with a scale per output channel (DequantizeLinear).
   * Inputs and outputs stay float32.
   */
  precision: Precision;
}

/** Defaults of `exportModel`. */
export const DEFAULT_EXPORT_OPTIONS: Readonly<ExportOptions> = Object.freeze({
  opset: DEFAULT_OPSET,
  batch: 'dynamic',
  precision: 'fp32',
});

/** What one layer became: its name, class and the ONNX ops emitted for it (none for identities). */
export interface LayerReport {
  name: string;
  className: string;
  ops: string[];
}

/** Counts of each op type over a list of layer reports. */
export function countOps(layers: readonly LayerReport[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of layers) for (const op of l.ops) counts[op] = (counts[op] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The symbolic name of the batch dimension in exported graphs. */
export const BATCH_DIM = 'N';

/** Checks export options; an ExportError names the first that does not fit. */
export function checkExportOptions(o: ExportOptions): void {
  if (!SUPPORTED_OPSETS.includes(o.opset)) {
    throw new ExportError(
      `cannot export: "opset" must be one of ${SUPPORTED_OPSETS.join(', ')}, got ${o.opset}`,
    );
  }
  if (!['fp32', 'fp16', 'int8'].includes(o.precision)) {
    throw new ExportError(
      `cannot export: "precision" must be fp32, fp16 or int8, got ${JSON.stringify(o.precision)}`,
    );
  }
  if (o.batch !== 'dynamic' && !(Number.isInteger(o.batch) && o.batch > 0)) {
    throw new ExportError(
      `cannot export: "batch" must be "dynamic" or a positive integer, got ${String(o.batch)}`,
    );
  }
}

/** The shape tfjs gives a symbolic tensor, with the batch dimension made symbolic or fixed. */
export function onnxShape(shape: readonly (number | null)[], batch: ExportOptions['batch']): Dim[] {
  return shape.map((d, i) => (i === 0 ? (batch === 'dynamic' ? BATCH_DIM : batch) : d));
}

/**
 * Adds the nodes of a tfjs-layers model to `g`, fed by `inputs` (one per model input), and returns
 * the values of the model's outputs. Layers are visited in the order tfjs's `predict` calls them,
 * with the masks it passes them (see execution.ts); nested models are converted in place.
 * @param calls - the keyword arguments tfjs shares across calls (a nested model shares its caller's).
 * @throws ExportError for a model that was never built or a layer class with no converter.
 */
export function convertLayersModel(
  g: GraphBuilder,
  model: tf.LayersModel,
  inputs: readonly Value[],
  batch: ExportOptions['batch'],
  log?: LayerReport[],
  calls: CallState = { kwargs: undefined },
): Value[] {
  if (!model.inputs || model.inputs.length === 0) {
    throw new ExportError(`cannot export model "${model.name}": it was never built (no input shape)`);
  }
  if (inputs.length !== model.inputs.length) {
    throw new ExportError(
      `cannot export model "${model.name}": it takes ${model.inputs.length} inputs, got ${inputs.length}`,
    );
  }
  const values = new Map<string, Value>();
  const masks = new Map<string, Value | null>();
  model.inputs.forEach((t, i) => {
    values.set(t.name, inputs[i] as Value);
  });
  for (const t of executionOrder(model.outputs, new Set(model.inputs.map((i) => i.name)))) {
    const layer = t.sourceLayer as tf.layers.Layer;
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const node = layer.inboundNodes[(t as unknown as { nodeIndex: number }).nodeIndex];
    if (node === undefined) {
      throw new ExportError(`cannot export layer "${layer.name}": tensor ${t.name} has no call recorded`);
    }
    const ins = t.inputs.map((i) => values.get(i.name));
    if (ins.some((v) => v === undefined)) {
      throw new ExportError(
        `cannot export layer "${layer.name}": one of its inputs is not reachable from the model's inputs`,
      );
    }
    const inMasks = t.inputs.map((i) => masks.get(i.name) ?? null);
    if (inMasks.some((m) => m !== null)) {
      calls.kwargs ??= { mask: null };
      calls.kwargs.mask = inMasks[0] ?? null;
    }
    if (node.outputTensors.every((o) => values.has(o.name))) continue;
    let outs: Value[];
    const before = g.nodeCount;
    if (layer instanceof tf.LayersModel) {
      // tfjs hands a nested model its caller's keyword arguments, when there are any.
      const nested: CallState = { kwargs: calls.kwargs };
      outs = convertLayersModel(g, layer, ins as Value[], batch, log, nested);
      if (calls.kwargs !== undefined) calls.kwargs = nested.kwargs;
    } else {
      const info = layerInfo(layer, className, node.outputTensors, batch, calls.kwargs?.mask ?? null);
      const fresh = freshOutputShapes(layer, ins as Value[], batch);
      if (
        fresh?.length === info.outputShapes.length &&
        fresh.every((f, i) => f.length === info.outputShapes[i]?.length)
      ) {
        info.outputShapes = fresh;
      }
      outs = convertLayer(g, info, ins as Value[]);
      log?.push({ name: layer.name, className, ops: g.opsSince(before) });
    }
    const mask =
      layer.supportsMasking && !(layer instanceof tf.LayersModel)
        ? computeOutputMask(g, layer, className, ins as Value[], inMasks)
        : null;
    node.outputTensors.forEach((o, i) => {
      const v = outs[i];
      if (v === undefined) {
        throw new ExportError(
          `cannot export layer "${layer.name}": its converter returned ${outs.length} outputs`,
        );
      }
      values.set(o.name, v);
      masks.set(o.name, mask);
    });
  }
  return model.outputs.map((t) => {
    const v = values.get(t.name);
    if (v === undefined)
      throw new ExportError(
        `cannot export model "${model.name}": output ${t.name} is not reachable from its inputs`,
      );
    return v;
  });
}

/** What a converter is told about one call of a layer. */
export function layerInfo(
  layer: tf.layers.Layer,
  className: string,
  outputs: readonly tf.SymbolicTensor[],
  batch: ExportOptions['batch'],
  mask: Value | null,
): LayerInfo {
  return {
    layer,
    name: layer.name,
    className,
    config: layer.getConfig() as Record<string, unknown>,
    outputShapes: outputs.map((o) => onnxShape(o.shape, batch)),
    ...(mask === null ? {} : { mask }),
  };
}

/**
 * The output shapes of a layer for these inputs, asked of the layer itself on copies of the input
 * shapes. tfjs 4.22's CenterCrop and CategoryEncoding overwrite the shape arrays of their inputs
 * when a model is built (and Rescaling and Activation pass the same array through), so the
 * symbolic shapes a model keeps can be wrong upstream of them; shapes recomputed from the graph's
 * own values are not. Undefined when the layer cannot say (then its symbolic shapes are used).
 */
function freshOutputShapes(
  layer: tf.layers.Layer,
  inputs: readonly Value[],
  batch: ExportOptions['batch'],
): Dim[][] | undefined {
  const tfShape = (v: Value) => v.shape.map((d, i) => (i === 0 || typeof d !== 'number' ? null : d));
  if (inputs.some((v) => v.shape.length === 0)) return undefined;
  try {
    const given = inputs.length === 1 ? tfShape(inputs[0] as Value) : inputs.map(tfShape);
    const out = layer.computeOutputShape(given as tf.Shape) as (number | null)[] | (number | null)[][];
    const list = (Array.isArray(out[0]) ? out : [out]) as (number | null)[][];
    if (
      list.some((shape) => !Array.isArray(shape) || shape.some((d) => d !== null && !Number.isInteger(d)))
    ) {
      return undefined;
    }
    return list.map((shape) => onnxShape(shape, batch));
  } catch {
    return undefined;
  }
}

/**
 * Converts one call of a (non-model) layer with its registered converter.
 * @throws ExportError naming the layer, its class and the supported classes when there is none.
 */
export function convertLayer(g: GraphBuilder, info: LayerInfo, inputs: Value[]): Value[] {
  const convert = converterFor(info.className);
  if (convert === undefined) {
    throw new ExportError(
      `cannot export layer "${info.name}": class ${info.className} is not supported; supported classes: ${supportedLayerClasses().join(', ')}`,
    );
  }
  return convert(g, info, inputs);
}

/**
 * Default names for a model's inputs or outputs: the layer part of each tensor name ("dense_1" of
 * "dense_1/dense_1"); a layer with several outputs (an LSTM returning its states) gives each its
 * own ("lstm_3", "lstm_3_1", "lstm_3_2").
 */
export function defaultTensorNames(tensors: readonly tf.SymbolicTensor[]): string[] {
  const taken = new Set<string>();
  return tensors.map((t) => {
    const base = t.name.replace(/\/.*$/, '');
    const candidates = [base, t.name.split('/').at(-1) ?? base];
    let name = candidates.find((c) => !taken.has(c) && /^[A-Za-z0-9_.:-]+$/.test(c)) ?? base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  });
}

/**
 * Exports a tfjs-layers model (Sequential or functional) to ONNX bytes, without Python.
 * @throws ExportError for bad options, an unbuilt model, unsupported layers or non-finite weights.
 */
export async function exportModel(
  model: tf.LayersModel,
  options: Partial<ExportOptions> = {},
): Promise<Uint8Array> {
  return (await exportModelWithReport(model, options)).bytes;
}

/** `exportModel`, with what each layer became. */
export async function exportModelWithReport(
  model: tf.LayersModel,
  options: Partial<ExportOptions> = {},
): Promise<{ bytes: Uint8Array; layers: LayerReport[]; inputNames: string[]; outputNames: string[] }> {
  const o: ExportOptions = { ...DEFAULT_EXPORT_OPTIONS, ...options };
  checkExportOptions(o);
  if (!model.inputs || model.inputs.length === 0) {
    throw new ExportError(`cannot export model "${model.name}": it was never built (no input shape)`);
  }
  const inputNames = o.inputNames ?? defaultTensorNames(model.inputs);
  const outputNames = o.outputNames ?? defaultTensorNames(model.outputs);
  if (inputNames.length !== model.inputs.length) {
    throw new ExportError(
      `cannot export: "inputNames" must have ${model.inputs.length} names, got ${inputNames.length}`,
    );
  }
  if (outputNames.length !== model.outputs.length) {
    throw new ExportError(
      `cannot export: "outputNames" must have ${model.outputs.length} names, got ${outputNames.length}`,
    );
  }
  const g = new GraphBuilder(o.opset, o.precision);
  g.reserve(outputNames);
  const inputs = model.inputs.map((t, i) => g.input(inputNames[i] as string, onnxShape(t.shape, o.batch)));
  const layers: LayerReport[] = [];
  const outputs = convertLayersModel(g, model, inputs, o.batch, layers);
  const graph = g.finish(
    o.graphName ?? model.name,
    outputs.map((value, i) => ({ value, name: outputNames[i] as string })),
  );
  const bytes = encodeModel(
    makeModel({
      graph,
      opset: o.opset,
      producerName: 'vae-onnx',
      producerVersion: PACKAGE_VERSION,
      ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
    }),
  );
  return { bytes, layers, inputNames: [...inputNames], outputNames: [...outputNames] };
}
