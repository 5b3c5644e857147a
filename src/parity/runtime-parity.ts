import * as tf from '@tensorflow/tfjs';
import { compareArrays, type Difference } from '../core/compare.js';
import { loadCheckpoint, readCard } from '../node/model-dir-files.js';
import { type NodeBackend, onnxruntimeNodeBinDir, VaeModel } from '../runtime/node.js';
import type { Batch } from '../runtime/tensor-input.js';
import { tfjsDecode, tfjsEncode } from '../train/infer.js';

/** The outputs of one runtime for the parity inputs. */
export interface RuntimeOutputs {
  runtime: string;
  mu: Float32Array;
  logvar: Float32Array;
  x_hat: Float32Array;
}

/** One compared pair: a runtime against a reference, for one tensor. */
export interface PairDifference extends Difference {
  runtime: string;
  reference: string;
  tensor: 'mu' | 'logvar' | 'x_hat';
}

/** Runs the tfjs checkpoint of a model directory on `x` (encoder) and `z` (decoder). */
export async function runTfjs(dir: string, x: Batch, z: Batch): Promise<RuntimeOutputs> {
  const card = await readCard(dir);
  const nets = await loadCheckpoint(dir, card);
  try {
    const { mu, logvar } = await tfjsEncode(nets.encoder, x.data, x.shape);
    const xHat = await tfjsDecode(nets.decoder, z.data, z.shape, card.likelihood);
    return { runtime: `tfjs-${tf.getBackend()}`, mu, logvar, x_hat: xHat };
  } finally {
    nets.encoder.dispose();
    nets.decoder.dispose();
  }
}

/** Runs the ONNX files of a model directory on one onnxruntime backend of the Node door. */
export async function runOnnx(
  dir: string,
  backend: NodeBackend,
  x: Batch,
  z: Batch,
): Promise<RuntimeOutputs> {
  // The networks' own space: every runtime is compared on what the graphs compute.
  const model = await VaeModel.load(dir, { backend, standardize: false });
  try {
    // A decoder-only model has no mu and logvar to compare; its rows are x_hat only.
    const { mu, logvar } = model.hasEncoder
      ? await model.encode(x)
      : { mu: { data: new Float32Array(0) }, logvar: { data: new Float32Array(0) } };
    const xHat = await model.decode(z);
    return { runtime: model.backend, mu: mu.data, logvar: logvar.data, x_hat: xHat.data };
  } finally {
    await model.dispose();
  }
}

/** Compares every tensor of `runtime` against `reference`. */
export function compareOutputs(runtime: RuntimeOutputs, reference: RuntimeOutputs): PairDifference[] {
  return (['mu', 'logvar', 'x_hat'] as const).map((tensor) => ({
    runtime: runtime.runtime,
    reference: reference.runtime,
    tensor,
    ...compareArrays(runtime[tensor], reference[tensor]),
  }));
}

/**
 * Runs tfjs, onnxruntime-node (cpu, when it is installed) and onnxruntime-web (wasm, in Node) on the
 * same inputs and compares every pair of runtimes on every tensor.
 */
export async function compareRuntimes(dir: string, x: Batch, z: Batch): Promise<PairDifference[]> {
  const tfjs = await runTfjs(dir, x, z);
  const web = await runOnnx(dir, 'wasm', x, z);
  if (onnxruntimeNodeBinDir() === undefined) return compareOutputs(web, tfjs);
  const node = await runOnnx(dir, 'cpu', x, z);
  return [...compareOutputs(node, tfjs), ...compareOutputs(web, tfjs), ...compareOutputs(web, node)];
}
