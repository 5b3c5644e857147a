/**
 * Running a batch through an ONNX session: one `session.run` when the batch fits in `maxBatch` rows
 * (outputs handed over as onnxruntime made them, no copy), else runs of `maxBatch` rows copied into
 * one output per name.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { modelFilePath, reexportHint } from '../core/model-dir.js';
import type { IoNames } from './io-contract.js';
import type { Batch } from './tensor-input.js';

/** Makes an input tensor with the door's onnxruntime. */
export type MakeTensor = (data: Float32Array, dims: readonly number[]) => Tensor;

/** One `session.run` of the whole batch. */
export function runOnce(
  session: InferenceSession,
  tensor: MakeTensor,
  io: IoNames,
  batch: Batch,
): Promise<InferenceSession.OnnxValueMapType> {
  return session.run({ [io.input]: tensor(batch.data, batch.shape) }, io.outputs);
}

/**
 * One output of a single run as a Batch of `n` rows shaped [n, ...outputShape].
 * @throws Error when the output's size does not fit that shape.
 */
export function outputBatch(
  results: InferenceSession.OnnxValueMapType,
  name: string,
  n: number,
  outputShape: readonly number[],
): Batch {
  let outSize = 1;
  for (const d of outputShape) outSize *= d;
  const data = (results[name] as Tensor).data as Float32Array;
  if (data.length !== n * outSize) {
    throw new Error(
      `${name} has ${data.length} values, expected ${n} × ${outSize}; the model's output shape is not [N, ${outputShape}]`,
    );
  }
  return { data, shape: [n, ...outputShape] };
}

/**
 * Runs `batch` through `session` in runs of at most `maxBatch` rows and returns each output of
 * `io.outputs` shaped [N, ...outputShape].
 */
export function runBatched(
  session: InferenceSession,
  tensor: MakeTensor,
  io: IoNames,
  batch: Batch,
  outputShape: readonly number[],
  maxBatch: number,
): Promise<Batch[]> {
  const n = batch.shape[0] as number;
  if (n <= maxBatch) {
    return runOnce(session, tensor, io, batch).then((results) =>
      io.outputs.map((name) => outputBatch(results, name, n, outputShape)),
    );
  }
  return runInChunks(session, tensor, io, batch, outputShape, maxBatch);
}

async function runInChunks(
  session: InferenceSession,
  tensor: MakeTensor,
  io: IoNames,
  batch: Batch,
  outputShape: readonly number[],
  maxBatch: number,
): Promise<Batch[]> {
  const [n = 0, ...rest] = batch.shape;
  const outSize = outputShape.reduce((a, b) => a * b, 1);
  const inSize = rest.reduce((a, b) => a * b, 1);
  const outs = io.outputs.map(() => new Float32Array(n * outSize));
  for (let start = 0; start < n; start += maxBatch) {
    const count = Math.min(maxBatch, n - start);
    const data = batch.data.subarray(start * inSize, (start + count) * inSize);
    const results = await session.run({ [io.input]: tensor(data, [count, ...rest]) }, io.outputs);
    io.outputs.forEach((name, k) => {
      (outs[k] as Float32Array).set(outputBatch(results, name, count, outputShape).data, start * outSize);
    });
  }
  return outs.map((data) => ({ data, shape: [n, ...outputShape] }));
}

/** Creates one part's session; an unreadable file fails naming the file and what to do. */
export async function openSession(
  binding: {
    name: string;
    createSession(bytes: Uint8Array, part: 'encoder' | 'decoder'): Promise<InferenceSession>;
  },
  bytes: Uint8Array,
  part: 'encoder' | 'decoder',
  where: string | undefined,
  file: string,
): Promise<InferenceSession> {
  try {
    return await binding.createSession(bytes, part);
  } catch (error) {
    const path = modelFilePath(where, file);
    const reason = (error as Error).message.replace(/\s+$/, '');
    throw new Error(
      `cannot load ${path} on ${binding.name}: ${reason}; if the file is truncated or not an ONNX model, ${reexportHint(where)}`,
      { cause: error },
    );
  }
}
