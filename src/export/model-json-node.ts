/**
 * model.json from the file system (a path to the file or to its folder) or from an http(s) URL,
 * for Node: shards must be regular files inside model.json's folder (symlinks out are refused).
 */
import { open, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ExportError } from './errors.js';
import {
  type LoadedModelJson,
  loadModelJson,
  type ModelJsonLimits,
  type ModelJsonSource,
  urlSource,
} from './model-json.js';

async function readCapped(path: string, maxBytes: number, shown: string): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExportError(
      code === 'ENOENT'
        ? `cannot load ${shown}: it does not exist`
        : `cannot load ${shown}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ExportError(`cannot load ${shown}: it is not a regular file`);
    if (info.size > maxBytes) {
      throw new ExportError(
        `cannot load ${shown}: ${info.size} bytes, more than the ${maxBytes} allowed here`,
      );
    }
    const bytes = new Uint8Array(info.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await handle.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}

/**
 * A source over a model.json on disk (the file, or a folder holding model.json); shards are read
 * beside it and must stay inside its folder, following no symlink out.
 */
export async function fileSource(path: string): Promise<ModelJsonSource> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new ExportError(
      `cannot convert ${path}: it does not exist (expected model.json, its folder, or an http(s) URL)`,
    );
  }
  const jsonPath = info.isDirectory() ? join(path, 'model.json') : path;
  const folder = resolve(dirname(jsonPath));
  const realFolder = await realpath(folder);
  return {
    where: jsonPath,
    readJson: (max) => readCapped(jsonPath, max, jsonPath),
    readShard: async (shard, max) => {
      const target = join(folder, shard);
      const shown = join(dirname(jsonPath), shard);
      let real: string;
      try {
        real = await realpath(target);
      } catch {
        throw new ExportError(
          `cannot load ${jsonPath}: weight shard ${shown} does not exist; keep the shards beside model.json`,
        );
      }
      const rel = relative(realFolder, real);
      if (rel.startsWith(`..${sep}`) || rel === '..' || rel.startsWith(sep)) {
        throw new ExportError(
          `cannot load ${jsonPath}: weight shard ${shown} leads outside the model's folder`,
        );
      }
      return readCapped(real, max, shown);
    },
  };
}

/**
 * Loads a tfjs layers model from a model.json path, its folder, or an http(s) URL.
 * @throws ExportError naming the file for anything that is not a loadable layers model.
 */
export async function loadModelJsonFrom(
  source: string,
  limits: Partial<ModelJsonLimits> = {},
): Promise<LoadedModelJson> {
  const from = /^https?:\/\//i.test(source) ? urlSource(source) : await fileSource(source);
  return loadModelJson(from, limits);
}
