/**
 * A model directory as one zip file, for a browser that cannot write folders: card.json,
 * encoder.onnx, decoder.onnx and the tfjs checkpoint (tfjs/…), each under its path in the directory.
 * `VaeModel.load` reads it back, and `vae` commands read it once unpacked. fflate packs and
 * inflates; zip-reader.ts reads archives with bounds.
 */
import { zipSync } from 'fflate';
import {
  MODEL_FILES,
  type ModelBytes,
  ModelDirError,
  type ReadModelFile,
  readModelFiles,
} from './model-dir.js';
import {
  bytesAccess,
  DEFAULT_ZIP_LIMITS,
  type RandomAccess,
  readZipDirectory,
  readZipEntry,
  type ZipLimits,
} from './zip-reader.js';

/** The files of a model directory in memory, by their path inside it ('card.json', 'tfjs/latest.json'). */
export type ModelFiles = Record<string, Uint8Array>;

/** Files are dated 1980-01-01 (zip's first day), so the same files always give the same bytes. */
const ZIP_EPOCH = new Date(1980, 0, 1);

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

/** The paths of a model directory that a zip of one is read for; nothing else in it is inflated. */
function isModelPath(path: string): boolean {
  return (
    path === MODEL_FILES.card ||
    path === MODEL_FILES.encoderOnnx ||
    path === MODEL_FILES.decoderOnnx ||
    path === MODEL_FILES.decoderFp16Onnx ||
    (path.startsWith(`${MODEL_FILES.tfjs}/`) && !path.endsWith('/'))
  );
}

/**
 * The folder inside the zip that holds the model (`''` at the top, `mymodel/` for a zipped folder,
 * `outer/mymodel/` one level deeper): the one folder with decoder.onnx, card.json or a tfjs/ checkpoint.
 * @throws ModelDirError when no folder or more than one holds a model.
 */
function modelFolder(names: readonly string[], where: string): string {
  const folders = new Set<string>();
  for (const name of names) {
    if (name.startsWith('__MACOSX/')) continue;
    const m = /^(.*?)(card\.json|decoder\.onnx|tfjs\/.+)$/.exec(name);
    if (
      m &&
      (m[1] === '' || (m[1] as string).endsWith('/')) &&
      !(m[1] as string).includes(`${MODEL_FILES.tfjs}/`)
    )
      folders.add(m[1] as string);
  }
  if (folders.size === 1) return [...folders][0] as string;
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} entries)` : '');
  if (folders.size === 0) {
    throw new ModelDirError(
      where,
      `cannot load ${where}: it holds no model directory (no ${MODEL_FILES.decoderOnnx}, ${MODEL_FILES.card} or ${MODEL_FILES.tfjs}/ checkpoint in any folder; it holds ${shown || 'nothing'}); pack one with packModelZip, or zip a model directory`,
    );
  }
  throw new ModelDirError(
    where,
    `cannot load ${where}: it holds more than one model directory (${[...folders].map((f) => f || '(the top)').join(', ')}); zip one model directory`,
  );
}

/** Options of `unpackModelZip`: the limits on what it inflates. */
export type ZipReadOptions = Partial<ZipLimits>;

/**
 * The files of a zipped model directory, read with bounds (see zip-reader.ts): only the model's own
 * files (card.json, the ONNX files, the tfjs/ checkpoint) in the one folder that holds them (the
 * top, or a folder as file managers zip them, at any depth); each within `maxEntryBytes`, all within
 * `maxTotalBytes`, and CRC-checked.
 * @param where - the zip's name, for messages.
 * @throws ModelDirError naming `where` (and the entry) when it is not a zip, is damaged, holds no
 *   model or several, or an entry is over a limit.
 */
export async function unpackModelZip(
  source: Uint8Array | RandomAccess,
  where = 'model.zip',
  options: ZipReadOptions = {},
): Promise<ModelFiles> {
  const src = source instanceof Uint8Array ? bytesAccess(source) : source;
  const head = await src.read(0, 4);
  if (!(head.length === 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5))) {
    throw new ModelDirError(
      where,
      `cannot load ${where}: it is not a zip file (${src.size} bytes, starting ${[...head].map((b) => b.toString(16).padStart(2, '0')).join(' ')}); pack a model directory with packModelZip, or zip its folder`,
    );
  }
  const limits = { ...DEFAULT_ZIP_LIMITS, ...options };
  const entries = await readZipDirectory(src, where);
  const folder = modelFolder(
    entries.map((e) => e.name).filter((n) => !n.endsWith('/')),
    where,
  );
  const budget = { left: limits.maxTotalBytes };
  const files: ModelFiles = {};
  for (const entry of entries) {
    if (!entry.name.startsWith(folder)) continue;
    const path = entry.name.slice(folder.length);
    if (!isModelPath(path)) continue;
    files[path] = await readZipEntry(src, entry, where, limits, budget);
  }
  return files;
}

/** Reads files out of `files` as a model directory would give them (undefined when absent). */
export function memoryReader(files: ModelFiles): ReadModelFile {
  return (file) => Promise.resolve(files[file]);
}

/**
 * The bytes `VaeModel.create` needs, out of a zipped model directory (bytes, or an archive read in
 * ranges: a file, a Blob).
 * @throws ModelDirError naming `where` (the zip) or the file inside it that is missing or damaged.
 */
export async function readModelZip(
  source: Uint8Array | RandomAccess,
  where: string,
  options: { preferDecoder?: string } & ZipReadOptions = {},
): Promise<ModelBytes> {
  const { preferDecoder, ...limits } = options;
  const files = await unpackModelZip(source, where, limits);
  return readModelFiles(memoryReader(files), where, preferDecoder ? { preferDecoder } : {});
}
