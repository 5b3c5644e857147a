import type * as tf from '@tensorflow/tfjs';
import { isChain } from '../train/model.js';

/**
 * A float64 forward pass of the trainer's MLP networks (Flatten, Dense with relu or linear, Reshape),
 * written from the weights alone: the reference every runtime is compared against for MLP models.
 * @returns undefined for any other layer (a conv model), so the caller picks another reference.
 */
export function float64Forward(
  model: tf.LayersModel,
  input: Float32Array,
  batch: number,
): Float64Array | undefined {
  if (!isChain(model)) return undefined;
  let x = Float64Array.from(input);
  let width = input.length / batch;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer' || cls === 'Flatten' || cls === 'Reshape') continue;
    if (cls !== 'Dense') return undefined;
    const activation = String(layer.getConfig().activation ?? 'linear');
    if (activation !== 'relu' && activation !== 'linear') return undefined;
    const [kernel, bias] = layer.getWeights().map((w) => w.dataSync() as Float32Array);
    if (!kernel) return undefined;
    const units = kernel.length / width;
    const y = new Float64Array(batch * units);
    for (let n = 0; n < batch; n++) {
      for (let u = 0; u < units; u++) {
        let s = bias ? (bias[u] as number) : 0;
        for (let i = 0; i < width; i++) s += (x[n * width + i] as number) * (kernel[i * units + u] as number);
        y[n * units + u] = activation === 'relu' ? Math.max(0, s) : s;
      }
    }
    x = y;
    width = units;
  }
  return x;
}
