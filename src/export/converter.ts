import type * as tf from '@tensorflow/tfjs';
import { ExportError } from './errors.js';
import type { GraphBuilder, Value } from './graph-builder.js';
import type { Dim } from './onnx-builder.js';

/** What a converter knows about the layer it converts. */
export interface LayerInfo {
  layer: tf.layers.Layer;
  /** The layer's name, used to name its nodes and outputs. */
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** The shapes of the layer's outputs for this call, batch first. */
  outputShapes: Dim[][];
  /**
   * The mask tfjs's predict passes this call (float 0/1, [N, T] for sequences), when there is one:
   * recurrent layers skip masked steps, the Softmax layer leaves masked positions out.
   */
  mask?: Value;
}

/**
 * Converts one call of a tfjs layer into ONNX nodes: reads the inputs' values, adds nodes and
 * initializers to the graph, and returns the layer's outputs in order.
 */
export type LayerConverter = (g: GraphBuilder, info: LayerInfo, inputs: Value[]) => Value[];

/** The single input of a layer that takes one, or an ExportError-worthy mistake. */
export function onlyInput(info: LayerInfo, inputs: Value[]): Value {
  const [x] = inputs;
  if (inputs.length !== 1 || x === undefined) {
    throw new ExportError(
      `cannot export ${info.className} layer "${info.name}" expects 1 input, got ${inputs.length}`,
    );
  }
  return x;
}

/** The layer's weights as float32 arrays with their shapes, in the layer's own order. */
export function layerWeights(info: LayerInfo): { shape: number[]; data: Float32Array; name: string }[] {
  return info.layer.weights.map((w) => {
    const data = w.read().dataSync() as Float32Array;
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new ExportError(
        `cannot export layer "${info.name}" (${info.className}): weight "${w.originalName ?? w.name}" holds ${data[bad]} at flat index ${bad}`,
      );
    }
    return { shape: [...w.shape] as number[], data, name: w.originalName ?? w.name };
  });
}
