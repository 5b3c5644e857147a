/**
 * Writes a tfjs layers model to a folder the way tfjs's file handler and tensorflowjs_converter do:
 * model.json (Keras-style topology, weightsManifest) and binary weight shards. Optionally quantizes
 * weights (uint8/uint16 affine, float16) and splits them over shards of a given size, as the
 * converter's --quantize_* and --weight_shard_size_bytes flags do.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { toHalfBits } from '../../src/export/precision.js';

/** Options of `saveModelFolder`. */
export interface SaveOptions {
  /** Store float weights quantized: the dtype of each weight in turn (cycled), or one for all. */
  quantize?: 'uint8' | 'uint16' | 'float16' | readonly ('uint8' | 'uint16' | 'float16' | 'none')[];
  /** Split the weight bytes into shards of at most this size. */
  shardBytes?: number;
  /** Rewrites model.json's object before it is written (to imitate other writers). */
  edit?: (json: Record<string, unknown>) => void;
  generatedBy?: string;
}

function quantizeWeight(data: Float32Array, dtype: 'uint8' | 'uint16' | 'float16') {
  if (dtype === 'float16') {
    const bits = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) bits[i] = toHalfBits(data[i] as number);
    return { bytes: new Uint8Array(bits.buffer), quantization: { dtype } };
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  const scale = max > min ? (max - min) / levels : 1;
  const q = dtype === 'uint8' ? new Uint8Array(data.length) : new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.round(((data[i] as number) - min) / scale);
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype, min, scale } };
}

/** Saves `model` into `dir` as model.json and shards; returns the model.json path. */
export async function saveModelFolder(
  model: tf.LayersModel,
  dir: string,
  options: SaveOptions = {},
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts;
  const specs = a.weightSpecs ?? [];
  const raw = new Uint8Array(a.weightData as ArrayBuffer);
  const parts: Uint8Array[] = [];
  const entries: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  specs.forEach((spec, i) => {
    const count = spec.shape.reduce((x, y) => x * y, 1);
    const bytes = raw.slice(offset, offset + 4 * count);
    offset += 4 * count;
    const wanted = Array.isArray(options.quantize)
      ? options.quantize[i % options.quantize.length]
      : options.quantize;
    if (spec.dtype === 'float32' && wanted !== undefined && wanted !== 'none') {
      const q = quantizeWeight(new Float32Array(bytes.buffer), wanted);
      parts.push(q.bytes);
      entries.push({ ...spec, quantization: q.quantization } as tf.io.WeightsManifestEntry);
    } else {
      parts.push(bytes);
      entries.push(spec);
    }
  });
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const shard = options.shardBytes ?? Math.max(all.length, 1);
  const paths: string[] = [];
  for (let k = 0; k * shard < all.length || (k === 0 && all.length === 0); k++) {
    const name = `group1-shard${k + 1}of${Math.max(1, Math.ceil(all.length / shard))}.bin`;
    writeFileSync(join(dir, name), all.subarray(k * shard, (k + 1) * shard));
    paths.push(name);
  }
  const json: Record<string, unknown> = {
    format: 'layers-model',
    generatedBy: options.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths, weights: entries }],
  };
  options.edit?.(json);
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}
