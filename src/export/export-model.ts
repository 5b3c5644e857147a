import * as tf from '@tensorflow/tfjs';
import { PACKAGE_VERSION } from '../core/version.js';
import type { LayerInfo } from './converter.js';
import { ExportError } from './errors.js';
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
 * the values of the model's outputs. Nested models are converted in place.
 * @throws ExportError for a model that was never built or a layer class with no converter.
 */
export function convertLayersModel(
  g: GraphBuilder,
  model: tf.LayersModel,
  inputs: readonly Value[],
  batch: ExportOptions['batch'],
  log?: LayerReport[],
): Value[] {
  if (!model.inputs || model.inputs.length === 0) {
    throw new ExportError(`cannot export model "${model.name}": it was never built (no input shape)`);
  }
  if (inputs.length !== model.inputs.length) {
    throw new ExportError(
      `cannot export model "${model.name}": it takes ${model.inputs.length} inputs, got ${inputs.length}`,
    );
  }
  const values = new Map<number, Value>();
  model.inputs.forEach((t, i) => {
    values.set(t.id, inputs[i] as Value);
  });
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    for (const node of layer.inboundNodes) {
      const ins = node.inputTensors.map((t) => values.get(t.id));
      if (ins.length === 0 || ins.some((v) => v === undefined)) continue;
      if (node.outputTensors.every((t) => values.has(t.id))) continue;
      let outs: Value[];
      const before = g.nodeCount;
      if (layer instanceof tf.LayersModel) {
        outs = convertLayersModel(g, layer, ins as Value[], batch, log);
      } else {
        const convert = converterFor(className);
        if (convert === undefined) {
          throw new ExportError(
            `cannot export layer "${layer.name}": class ${className} is not supported; supported classes: ${supportedLayerClasses().join(', ')}`,
          );
        }
        const info: LayerInfo = {
          layer,
          name: layer.name,
          className,
          config: layer.getConfig() as Record<string, unknown>,
          outputShapes: node.outputTensors.map((t) => onnxShape(t.shape, batch)),
        };
        outs = convert(g, info, ins as Value[]);
        log?.push({ name: layer.name, className, ops: g.opsSince(before) });
      }
      node.outputTensors.forEach((t, i) => {
        const v = outs[i];
        if (v === undefined) {
          throw new ExportError(
            `cannot export layer "${layer.name}": its converter returned ${outs.length} outputs`,
          );
        }
        values.set(t.id, v);
      });
    }
  }
  return model.outputs.map((t) => {
    const v = values.get(t.id);
    if (v === undefined)
      throw new ExportError(
        `cannot export model "${model.name}": output ${t.name} is not reachable from its inputs`,
      );
    return v;
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
): Promise<{ bytes: Uint8Array; layers: LayerReport[] }> {
  const o: ExportOptions = { ...DEFAULT_EXPORT_OPTIONS, ...options };
  checkExportOptions(o);
  if (!model.inputs || model.inputs.length === 0) {
    throw new ExportError(`cannot export model "${model.name}": it was never built (no input shape)`);
  }
  const inputNames = o.inputNames ?? model.inputs.map((t) => t.name.replace(/\/.*$/, ''));
  const outputNames = o.outputNames ?? model.outputs.map((t) => t.name.replace(/\/.*$/, ''));
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
  return { bytes, layers };
}
