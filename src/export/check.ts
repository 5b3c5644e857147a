/**
 * Checking a conversion: the tfjs model and its ONNX file run on the same seeded inputs, output by
 * output. Inputs get the shapes the model declares (unknown sizes filled in) and values of the kind
 * each input takes: token ids below the vocabulary size for inputs read by Embedding or
 * CategoryEncoding, normal draws otherwise. The ONNX side is any runtime the caller passes in.
 */
import * as tf from '@tensorflow/tfjs';
import { compareArrays, type Difference } from '../core/compare.js';
import { createRng } from '../core/random.js';

/** One input of a check: its name in the ONNX graph, shape and float32 values. */
export interface CheckInput {
  name: string;
  shape: number[];
  data: Float32Array;
  /** "ids < 1000" or "normal": what the values are. */
  kind: string;
}

/** Options of `checkInputs`. */
export interface CheckInputOptions {
  /** Rows in the batch. Default 2. */
  batch: number;
  /** The size given to every other unknown dimension (sequence lengths, image sizes). Default 8. */
  unknown: number;
  seed: number;
}

/** A model's input layers (a Sequential keeps them in the functional model it wraps). */
function inputLayersOf(model: tf.LayersModel): tf.layers.Layer[] | undefined {
  const m = model as unknown as {
    inputLayers?: tf.layers.Layer[];
    model?: { inputLayers?: tf.layers.Layer[] };
  };
  return m.inputLayers ?? m.model?.inputLayers;
}

/** The largest id an input may hold (exclusive), when a layer reads it as token ids. */
function idRange(layer: tf.layers.Layer, seen = new Set<tf.layers.Layer>()): number | undefined {
  if (seen.has(layer)) return undefined;
  seen.add(layer);
  const c = layer.getConfig() as Record<string, unknown>;
  const name = layer.getClassName();
  if (name === 'Embedding') return Number(c.inputDim);
  if (name === 'CategoryEncoding') return Number(c.numTokens);
  // Layers that pass ids through unchanged (shape or layout only).
  if (
    ![
      'Reshape',
      'Permute',
      'Flatten',
      'RepeatVector',
      'InputLayer',
      'Sequential',
      'Functional',
      'Model',
    ].includes(name)
  ) {
    return undefined;
  }
  let range: number | undefined;
  // Into a nested model through its inputs, else on to the layers this one feeds.
  const nested = layer instanceof tf.LayersModel ? inputLayersOf(layer) : undefined;
  const sources = nested ?? [layer];
  const next = sources.flatMap((l) => l.outboundNodes.map((n) => n.outboundLayer as tf.layers.Layer));
  for (const consumer of next) {
    const r = consumer === layer ? undefined : idRange(consumer, seen);
    if (r !== undefined) range = Math.min(range ?? r, r);
  }
  return range;
}

/** Seeded inputs of the right shapes and kinds for a model; names are the ONNX graph's inputs. */
export function checkInputs(
  model: tf.LayersModel,
  names: readonly string[],
  options: Partial<CheckInputOptions> = {},
): CheckInput[] {
  const o = { batch: 2, unknown: 8, seed: 1234, ...options };
  const rng = createRng(o.seed);
  return model.inputs.map((t, i) => {
    const shape = t.shape.map((d, k) => (k === 0 ? o.batch : (d ?? o.unknown)));
    const size = shape.reduce((a, b) => a * b, 1);
    const inputLayer = inputLayersOf(model)?.[i];
    const ids = (inputLayer && idRange(inputLayer)) ?? (t.dtype === 'int32' ? 10 : undefined);
    const data = new Float32Array(size);
    for (let k = 0; k < size; k++)
      data[k] = ids === undefined ? rng.normal() : Math.floor(rng.uniform() * ids);
    return {
      name: names[i] as string,
      shape,
      data,
      kind: ids === undefined ? 'normal' : `ids < ${ids}`,
    };
  });
}

/** tfjs's outputs for check inputs, as float32 arrays with their shapes. */
export function predictTfjs(
  model: tf.LayersModel,
  inputs: readonly CheckInput[],
): { data: Float32Array; shape: number[] }[] {
  return tf.tidy(() => {
    const xs = inputs.map((x) =>
      tf.tensor(x.data, x.shape, model.inputs[inputs.indexOf(x)]?.dtype === 'int32' ? 'int32' : 'float32'),
    );
    const out = model.predict(xs.length === 1 ? (xs[0] as tf.Tensor) : xs);
    return (Array.isArray(out) ? out : [out]).map((y) => ({
      data: Float32Array.from(y.dataSync() as ArrayLike<number>),
      shape: [...y.shape],
    }));
  });
}

/** One output compared: ONNX against tfjs. */
export interface CheckRow extends Difference {
  output: string;
  shape: number[];
  /** The largest |value| tfjs gave (the scale the tolerance is relative to). */
  scale: number;
  /** Within the tolerance: max |Δ| ≤ tolerance · max(1, scale). */
  ok: boolean;
}

/** The default tolerance of a check: relative to each output's largest value (at least 1). */
export const CHECK_TOLERANCE = 1e-4;

/**
 * Compares ONNX outputs with tfjs's, output by output.
 * @param tolerance - relative to max(1, the output's largest |value|).
 */
export function compareCheck(
  names: readonly string[],
  onnx: readonly Float32Array[],
  tfjs: readonly { data: Float32Array; shape: number[] }[],
  tolerance = CHECK_TOLERANCE,
): CheckRow[] {
  return names.map((output, i) => {
    const want = tfjs[i] as { data: Float32Array; shape: number[] };
    const got = onnx[i] ?? new Float32Array(0);
    const scale = want.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const d =
      got.length === want.data.length
        ? compareArrays(got, want.data)
        : {
            maxAbs: Number.POSITIVE_INFINITY,
            maxRel: Number.POSITIVE_INFINITY,
            meanAbs: Number.POSITIVE_INFINITY,
          };
    return { output, shape: want.shape, scale, ...d, ok: d.maxAbs <= tolerance * Math.max(1, scale) };
  });
}
