/**
 * Loading a tfjs layers model from its `model.json` and weight shards, in any JavaScript runtime and
 * without tfjs-node: the files come from a reader the caller supplies (the file system, `fetch`, or
 * files dropped on a page). The manifest is checked before any weight is decoded (shard paths stay
 * beside model.json, sizes match what the manifest declares, totals are bounded), and a graph model
 * or a Keras JSON without weights gets a message saying what it is.
 */
import * as tf from '@tensorflow/tfjs';
import { ExportError } from './errors.js';
import { type ExportOptions, exportModelWithReport } from './export-model.js';

/** Bounds on what a model.json may make us read. */
export interface ModelJsonLimits {
  /** Largest model.json, in bytes. Default 64 MiB. */
  maxJsonBytes: number;
  /** Largest total of weight shards, in bytes. Default 2 GiB. */
  maxWeightBytes: number;
}

/** Defaults of `ModelJsonLimits`. */
export const DEFAULT_MODEL_JSON_LIMITS: Readonly<ModelJsonLimits> = Object.freeze({
  maxJsonBytes: 64 * 2 ** 20,
  maxWeightBytes: 2 * 2 ** 30,
});

/** Where a model.json and its shards are read from. */
export interface ModelJsonSource {
  /** How errors name the model.json (a path or URL). */
  where: string;
  /** The bytes of model.json. */
  readJson(maxBytes: number): Promise<Uint8Array>;
  /** The bytes of a shard named in the manifest (a path relative to model.json, already checked). */
  readShard(path: string, maxBytes: number): Promise<Uint8Array>;
}

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

const BYTES: Readonly<Record<string, number>> = Object.freeze({
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
});

/** Bytes a manifest entry occupies in its shard (quantized entries take their stored type). */
function entryBytes(entry: tf.io.WeightsManifestEntry, where: string): number {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  const per = BYTES[stored];
  if (per === undefined) {
    throw new ExportError(
      `cannot load ${where}: weight "${entry.name}" has dtype ${String(stored)}, which a layers model does not use`,
    );
  }
  const count = (entry.shape ?? []).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ExportError(
      `cannot load ${where}: weight "${entry.name}" has shape ${JSON.stringify(entry.shape)}`,
    );
  }
  return count * per;
}

/**
 * A shard path from the manifest, checked: relative, inside model.json's folder, no scheme.
 * @throws ExportError naming the path.
 */
export function checkShardPath(path: unknown, where: string): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ExportError(
      `cannot load ${where}: a weightsManifest path is ${JSON.stringify(path)}, expected a file name`,
    );
  }
  const parts = path.split(/[\\/]/);
  if (
    /^[a-z][a-z0-9+.-]*:/i.test(path) ||
    path.startsWith('/') ||
    path.startsWith('\\') ||
    parts.some((p) => p === '..')
  ) {
    throw new ExportError(
      `cannot load ${where}: weight shard path ${JSON.stringify(path)} leaves the model's folder; shards must sit beside model.json`,
    );
  }
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}

/** Why this JSON is not a tfjs layers model.json (a graph model, a bare Keras config), or undefined. */
function notLayersModel(json: Record<string, unknown>): string | undefined {
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (json.format === 'graph-model' || (topology && Array.isArray(topology.node))) {
    return `it is a tfjs graph model (tensorflowjs_converter --output_format tfjs_graph_model), which holds a TensorFlow graph, not layers; vae convert reads layers models: convert the Keras model with --output_format tfjs_layers_model, or save it from tfjs with model.save()`;
  }
  if (topology === undefined && typeof json.class_name === 'string' && json.config !== undefined) {
    return `it is a Keras model configuration (model.to_json()) without weights; save the model with tensorflowjs_converter --output_format tfjs_layers_model, or from tfjs with model.save(), to get model.json with its weight shards`;
  }
  if (topology === undefined || typeof topology !== 'object') {
    return 'it is not a tfjs model.json: it has no "modelTopology"';
  }
  return undefined;
}

/**
 * Keras 3 writes a few things tfjs 4.22 cannot read; where the meaning is plain they are rewritten:
 * InputLayer's `batch_shape` becomes `batch_input_shape`, and dtype policies (objects) become their
 * dtype name. Returns the number of rewrites.
 */
export function normalizeKerasTopology(node: unknown): number {
  let rewrites = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.class_name === 'InputLayer' && typeof o.config === 'object' && o.config !== null) {
      const c = o.config as Record<string, unknown>;
      if (c.batch_shape !== undefined && c.batch_input_shape === undefined) {
        c.batch_input_shape = c.batch_shape;
        delete c.batch_shape;
        rewrites++;
      }
    }
    for (const [key, value] of Object.entries(o)) {
      if (key === 'dtype' && value !== null && typeof value === 'object') {
        const policy = value as { config?: { name?: unknown } };
        const name = policy.config?.name;
        if (typeof name === 'string') {
          o[key] = name.replace(/^mixed_/, '');
          rewrites++;
          continue;
        }
      }
      visit(value);
    }
  };
  visit(node);
  return rewrites;
}

/** A model loaded from model.json, with what the file said about itself. */
export interface LoadedModelJson {
  model: tf.LayersModel;
  /** The model.json's file name (the last part of its path or URL). */
  file: string;
  /** Bytes of weights read from the shards. */
  weightBytes: number;
  /** Weight entries stored quantized (uint8, uint16 or float16), dequantized by tfjs at load. */
  quantized: number;
  /** Who wrote it ("TensorFlow.js tfjs-layers v4.22.0", "keras v2.15.0", …), when it says. */
  generatedBy?: string;
  convertedBy?: string;
  /** Keras 3 constructs rewritten for tfjs (see normalizeKerasTopology). */
  rewrites: number;
}

/**
 * Reads and checks a model.json and its shards and builds the tfjs layers model.
 * @throws ExportError naming the file for anything that is not a loadable layers model.
 */
export async function loadModelJson(
  source: ModelJsonSource,
  limits: Partial<ModelJsonLimits> = {},
): Promise<LoadedModelJson> {
  const l = { ...DEFAULT_MODEL_JSON_LIMITS, ...limits };
  const where = source.where;
  const text = new TextDecoder().decode(await source.readJson(l.maxJsonBytes));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ExportError(`cannot load ${where}: it is not JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ExportError(
      `cannot load ${where}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  }
  const kind = notLayersModel(json);
  if (kind !== undefined) throw new ExportError(`cannot convert ${where}: ${kind}`);
  const topology = json.modelTopology as Record<string, unknown>;
  const rewrites = normalizeKerasTopology(topology);
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) {
    throw new ExportError(
      `cannot load ${where}: "weightsManifest" must be a list of groups, got ${typeof manifest}`,
    );
  }
  const groups = manifest as ManifestGroup[];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  let total = 0;
  let quantized = 0;
  for (const [gi, group] of groups.entries()) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ExportError(`cannot load ${where}: weightsManifest[${gi}] needs "paths" and "weights" lists`);
    }
    const expected = group.weights.reduce((n, w) => n + entryBytes(w, where), 0);
    if (total + expected > l.maxWeightBytes) {
      throw new ExportError(
        `cannot load ${where}: its weights declare ${total + expected} bytes, more than the limit of ${l.maxWeightBytes}`,
      );
    }
    const paths = group.paths.map((p) => checkShardPath(p, where));
    const parts: Uint8Array[] = [];
    let got = 0;
    for (const path of paths) {
      const bytes = await source.readShard(path, expected - got + 1);
      got += bytes.length;
      if (got > expected) {
        throw new ExportError(
          `cannot load ${where}: shard ${path} makes weightsManifest[${gi}] longer than the ${expected} bytes its weights declare`,
        );
      }
      parts.push(bytes);
    }
    if (got !== expected) {
      throw new ExportError(
        `cannot load ${where}: the shards of weightsManifest[${gi}] (${paths.join(', ')}) hold ${got} bytes, its weights declare ${expected}; a shard is truncated or from another model`,
      );
    }
    buffers.push(...parts);
    specs.push(...group.weights);
    quantized += group.weights.filter((w) => w.quantization !== undefined).length;
    total += expected;
  }
  const data = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    data.set(b, at);
    at += b.length;
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: topology,
        weightSpecs: specs,
        weightData: data.buffer,
        ...(typeof json.format === 'string' ? { format: json.format } : {}),
      }),
    );
  } catch (error) {
    const message = (error as Error).message;
    const unknown = message.match(/Unknown (?:layer|class(?:Name)?):?\s*['"]?([A-Za-z0-9_]+)/);
    if (unknown) {
      throw new ExportError(
        `cannot load ${where}: layer class ${unknown[1]} is not one tfjs-layers 4.22 knows (a custom layer must be registered with tf.serialization.registerClass before converting, and needs an exporter converter: registerConverter)`,
        { cause: error },
      );
    }
    throw new ExportError(`cannot load ${where}: tfjs could not build the model: ${message}`, {
      cause: error,
    });
  }
  return {
    model,
    file:
      where
        .split(/[\\/]/)
        .pop()
        ?.replace(/[?#].*$/, '') || where,
    weightBytes: total,
    quantized,
    ...(typeof json.generatedBy === 'string' ? { generatedBy: json.generatedBy } : {}),
    ...(typeof json.convertedBy === 'string' ? { convertedBy: json.convertedBy } : {}),
    rewrites,
  };
}

/**
 * Converts a loaded model.json to ONNX bytes, with the metadata every door writes (the model.json's
 * file name and who generated it), so the CLI and the page give the same bytes for the same files.
 */
export function convertLoadedModel(
  loaded: LoadedModelJson,
  options: Partial<Omit<ExportOptions, 'metadata'>> = {},
): ReturnType<typeof exportModelWithReport> {
  return exportModelWithReport(loaded.model, {
    ...options,
    metadata: {
      'vae_onnx.converted_from': loaded.file,
      ...(loaded.generatedBy ? { 'vae_onnx.generated_by': loaded.generatedBy } : {}),
    },
  });
}

/** Joins a shard path to the folder or URL of model.json. */
function beside(base: string, path: string): string {
  return new URL(path, base).toString();
}

/**
 * A source reading model.json and its shards over http(s) with `fetch`, each response capped.
 * @throws ExportError for a URL that is not http(s).
 */
export function urlSource(url: string, fetchImpl: typeof fetch = fetch): ModelJsonSource {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ExportError(`cannot load ${url}: not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ExportError(`cannot load ${url}: only http and https URLs are read, got ${parsed.protocol}`);
  }
  const read = async (target: string, maxBytes: number): Promise<Uint8Array> => {
    let response: Response;
    try {
      response = await fetchImpl(target);
    } catch (error) {
      throw new ExportError(`cannot load ${target}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok)
      throw new ExportError(`cannot load ${target}: HTTP ${response.status} ${response.statusText}`);
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes)
      throw new ExportError(
        `cannot load ${target}: ${declared} bytes, more than the ${maxBytes} allowed here`,
      );
    const reader = response.body?.getReader();
    if (!reader) return new Uint8Array(await response.arrayBuffer());
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        throw new ExportError(`cannot load ${target}: more than the ${maxBytes} bytes allowed here`);
      }
      chunks.push(value);
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  return {
    where: url,
    readJson: (max) => read(url, max),
    readShard: (path, max) => read(beside(url, path), max),
  };
}

/** A file given by name and bytes (a file dropped on a page, or read by the caller). */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/**
 * A source over files already in memory: the model.json among them (the one named model.json, or
 * the only .json), and its shards found by file name.
 * @throws ExportError when there is no model.json or a shard is missing.
 */
export function filesSource(files: readonly NamedBytes[]): ModelJsonSource {
  const base = (name: string) => name.split(/[\\/]/).pop() ?? name;
  const jsons = files.filter((f) => base(f.name).toLowerCase().endsWith('.json'));
  const json =
    jsons.find((f) => base(f.name) === 'model.json') ?? (jsons.length === 1 ? jsons[0] : undefined);
  if (!json) {
    throw new ExportError(
      `cannot convert: expected model.json among the files (got ${files.map((f) => base(f.name)).join(', ') || 'none'})`,
    );
  }
  const byName = new Map(files.map((f) => [base(f.name), f.bytes]));
  const cap = (bytes: Uint8Array, max: number, name: string) => {
    if (bytes.length > max)
      throw new ExportError(`cannot load ${name}: ${bytes.length} bytes, more than the ${max} allowed here`);
    return bytes;
  };
  return {
    where: base(json.name),
    readJson: async (max) => cap(json.bytes, max, base(json.name)),
    readShard: async (path, max) => {
      const bytes = byName.get(base(path));
      if (!bytes) {
        throw new ExportError(
          `cannot load ${base(json.name)}: weight shard ${path} is missing; add it with model.json (got ${[...byName.keys()].join(', ')})`,
        );
      }
      return cap(bytes, max, base(path));
    },
  };
}
