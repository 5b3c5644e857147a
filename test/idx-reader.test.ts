import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError, loadDataset, parseIdx, readIdxFile } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

/** Builds IDX bytes: magic 0x0000TTNN, big-endian dims, then the body. */
function idxBytes(typeByte: number, dims: number[], body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = typeByte;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d);
  });
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

describe('IDX reader', () => {
  const pixels = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);

  test('reads a raw uint8 file with its dims and values', () => {
    const idx = parseIdx(idxBytes(0x08, [2, 3, 4], pixels), 'raw');
    assert.deepEqual(idx.dims, [2, 3, 4]);
    assert.ok(idx.data instanceof Uint8Array);
    assert.deepEqual([...idx.data], [...pixels]);
  });

  test('reads a gzip-compressed file the same as the raw one', () => {
    const raw = parseIdx(idxBytes(0x08, [2, 3, 4], pixels), 'raw');
    const gz = parseIdx(gzipSync(idxBytes(0x08, [2, 3, 4], pixels)), 'gz');
    assert.deepEqual(gz, raw);
  });

  test('reads big-endian float32 and int32 bodies', () => {
    const body = new Uint8Array(8);
    const view = new DataView(body.buffer);
    view.setFloat32(0, 1.5);
    view.setFloat32(4, -2.25);
    assert.deepEqual([...parseIdx(idxBytes(0x0d, [2], body), 'f').data], [1.5, -2.25]);
    view.setInt32(0, -7);
    view.setInt32(4, 123456);
    assert.deepEqual([...parseIdx(idxBytes(0x0c, [2], body), 'i').data], [-7, 123456]);
  });

  test('rejects a bad magic number, naming the file and the number', () => {
    const bytes = idxBytes(0x08, [2, 3, 4], pixels);
    bytes[0] = 0x1a;
    assert.throws(
      () => parseIdx(bytes, 'images.idx'),
      (e: Error) =>
        e instanceof DataError &&
        /images\.idx/.test(e.message) &&
        /bad magic number 0x1a000803/.test(e.message),
    );
    const unknownType = idxBytes(0x07, [2], new Uint8Array(2));
    assert.throws(() => parseIdx(unknownType, 'x'), /bad magic number 0x00000701/);
  });

  test('rejects a truncated body with the expected and received sizes', () => {
    const bytes = idxBytes(0x08, [2, 3, 4], pixels).subarray(0, 30);
    assert.throws(
      () => parseIdx(bytes, 'short.idx'),
      (e: Error) =>
        e instanceof DataError &&
        /short\.idx: body truncated/.test(e.message) &&
        /need 40 bytes, file has 30/.test(e.message),
    );
  });

  test('rejects a truncated header and trailing bytes', () => {
    assert.throws(
      () => parseIdx(idxBytes(0x08, [2, 3, 4], pixels).subarray(0, 10), 'h'),
      /header needs 16 bytes/,
    );
    const long = new Uint8Array([...idxBytes(0x08, [2], new Uint8Array(2)), 9]);
    assert.throws(() => parseIdx(long, 't'), /has trailing bytes/);
  });

  test('rejects a corrupt gzip stream', () => {
    const gz = gzipSync(idxBytes(0x08, [2, 3, 4], pixels));
    assert.throws(
      () => parseIdx(gz.subarray(0, gz.length - 12), 'cut.gz'),
      /cut\.gz: gzip stream is corrupt or truncated/,
    );
  });

  test('a missing file is a DataError naming the path', async () => {
    await assert.rejects(
      readIdxFile('/nonexistent/train.idx'),
      (e: Error) => e instanceof DataError && /\/nonexistent\/train\.idx/.test(e.message),
    );
  });
});

describe('datasets', () => {
  test('mnist-mini holds 10,000 28×28 digits of every class, values in [0, 1]', async () => {
    const data = await loadDataset('mnist-mini');
    assert.deepEqual(data.shape, [28, 28, 1]);
    assert.equal(data.train.count + data.test.count, 10_000);
    assert.equal(data.train.images.length, data.train.count * 784);
    assert.deepEqual(new Set(data.test.labels), new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const max = data.train.images.reduce((a, b) => Math.max(a, b), 0);
    const min = data.train.images.reduce((a, b) => Math.min(a, b), 1);
    assert.equal(min, 0);
    assert.equal(max, 1);
  });

  test('an unknown name lists the known ones', async () => {
    await assert.rejects(
      loadDataset('cifar'),
      /unknown name; expected one of mnist-mini, fashion-mnist, mnist, shapes, idx:DIR, png:DIR or csv:FILE/,
    );
  });

  test('idx:DIR reads MNIST-named files and scales pixels to [0, 1]', async () => {
    const dir = tempDir();
    const images = (n: number) =>
      idxBytes(
        0x08,
        [n, 2, 2],
        Uint8Array.from({ length: n * 4 }, (_, i) => (i * 51) % 256),
      );
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(images(3)));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images(2));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes(0x08, [2], new Uint8Array([4, 9])));
    const data = await loadDataset(`idx:${dir}`);
    assert.deepEqual(data.shape, [2, 2, 1]);
    assert.equal(data.train.count, 3);
    assert.equal(data.test.count, 2);
    assert.deepEqual([...(data.test.labels ?? [])], [4, 9]);
    assert.ok(Math.abs((data.train.images[1] as number) - 51 / 255) < 1e-7);
  });

  test('idx:DIR with a label count that disagrees names both counts', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const images = idxBytes(0x08, [3, 2, 2], new Uint8Array(12));
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes(0x08, [2], new Uint8Array(2)));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images);
    await assert.rejects(loadDataset(`idx:${dir}`), /expected 3 labels, got 2/);
  });

  test('idx:DIR without image files names the missing file', async () => {
    const dir = tempDir();
    await assert.rejects(loadDataset(`idx:${dir}`), /train-images-idx3-ubyte\[\.gz\] not found/);
  });
});
