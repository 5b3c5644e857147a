/**
 * A model directory as one zip file, for a browser that cannot write folders: card.json,
 * encoder.onnx, decoder.onnx and the tfjs checkpoint (tfjs/…), each under its path in the directory.
 * `VaeModel.load` reads it back, and `vae` commands read it once unpacked. fflate does the zip work.
 */
import { unzipSync, zipSync } from 'fflate';
import {
  MODEL_FILES,
  type ModelBytes,
  ModelDirError,
  type ReadModelFile,
  readModelFiles,
} from './model-dir.js';

/** The files of a model directory in memory, by their path inside it ('card.json', 'tfjs/latest.json'). */
export type ModelFiles = Record<string, Uint8Array>;

/** Files are dated 1980-01-01 (zip's first day), so the same files always give the same bytes. */
const ZIP_EPOCH = new Date(1980, 0, 1);

/** Zip's leading four bytes (a local file header), and those of an empty archive. */
function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

/**
 * Packs a model directory's files into one zip. ONNX weights and checkpoint weights hardly
 * compress, so they are stored; JSON is deflated.
 * @throws TypeError when `files` has no decoder.onnx and no tfjs checkpoint (nothing to load).
 */
export function packModelZip(files: ModelFiles): Uint8Array {
  const paths = Object.keys(files).sort();
  if (!paths.includes(MODEL_FILES.decoderOnnx) && !paths.some((p) => p.startsWith(`${MODEL_FILES.tfjs}/`))) {
    throw new TypeError(
      `packModelZip: "files" must hold ${MODEL_FILES.decoderOnnx} or a ${MODEL_FILES.tfjs}/ checkpoint, got ${paths.length === 0 ? 'no files' : paths.join(', ')}`,
    );
  }
  const entries: Record<string, [Uint8Array, { level: 0 | 6; mtime: Date }]> = {};
  for (const path of paths) {
    const bytes = files[path] as Uint8Array;
    entries[path] = [bytes, { level: path.endsWith('.json') ? 6 : 0, mtime: ZIP_EPOCH }];
  }
  return zipSync(entries);
}

/**
 * The files of a zipped model directory. A zip of the folder itself (every path under one top
 * folder, as file managers make them) is read from inside that folder; directories are skipped.
 * @param where - the zip's name, for messages.
 * @throws ModelDirError naming `where` when the bytes are not a zip or it cannot be read.
 */
export function unpackModelZip(bytes: Uint8Array, where = 'model.zip'): ModelFiles {
  if (!looksLikeZip(bytes)) {
    throw new ModelDirError(
      where,
      `cannot load ${where}: it is not a zip file (${bytes.length} bytes, starting ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}); pack a model directory with packModelZip, or zip its folder`,
    );
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (file) => !file.name.endsWith('/') });
  } catch (error) {
    throw new ModelDirError(where, `cannot load ${where}: the zip is damaged (${(error as Error).message})`, {
      cause: error,
    });
  }
  const paths = Object.keys(entries).filter((p) => !p.startsWith('__MACOSX/'));
  const top = paths[0]?.split('/')[0];
  const oneFolder =
    top !== undefined &&
    paths.length > 0 &&
    paths.every((p) => p.startsWith(`${top}/`)) &&
    top !== MODEL_FILES.tfjs;
  const files: ModelFiles = {};
  for (const path of paths)
    files[oneFolder ? path.slice((top as string).length + 1) : path] = entries[path] as Uint8Array;
  return files;
}

/** Reads files out of `files` as a model directory would give them (undefined when absent). */
export function memoryReader(files: ModelFiles): ReadModelFile {
  return (file) => Promise.resolve(files[file]);
}

/**
 * The bytes `VaeModel.create` needs, out of a zipped model directory.
 * @throws ModelDirError naming `where` (the zip) or the file inside it that is missing or damaged.
 */
export function readModelZip(
  bytes: Uint8Array,
  where: string,
  options: { preferDecoder?: string } = {},
): Promise<ModelBytes> {
  return readModelFiles(memoryReader(unpackModelZip(bytes, where)), where, options);
}
