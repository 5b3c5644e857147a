import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import pngjs from 'pngjs';
import {
  DataError,
  downloadDataset,
  loadDataset,
  type RemoteDataset,
  readCsvFile,
} from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

function idx(typeByte: number, dims: number[], body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = typeByte;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    new DataView(header.buffer).setUint32(4 + 4 * i, d);
  });
  return new Uint8Array([...header, ...body]);
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('dataset download (against a local HTTP server)', () => {
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte.gz': gzipSync(
      idx(
        0x08,
        [4, 2, 2],
        Uint8Array.from({ length: 16 }, (_, i) => i * 16),
      ),
    ),
    'train-labels-idx1-ubyte.gz': gzipSync(idx(0x08, [4], new Uint8Array([1, 2, 3, 4]))),
    't10k-images-idx3-ubyte.gz': gzipSync(idx(0x08, [2, 2, 2], new Uint8Array(8).fill(255))),
    't10k-labels-idx1-ubyte.gz': gzipSync(idx(0x08, [2], new Uint8Array([5, 6]))),
  };
  let server: Server;
  let base: string;
  const hits: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const [, mirror, name] = (req.url ?? '').split('/');
      const body = files[name ?? ''];
      if (mirror === 'good' && body) res.end(body);
      else if (mirror === 'corrupt' && body) res.end(body.subarray(0, body.length - 1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const remote = (mirrors: string[]): RemoteDataset => ({
    mirrors: mirrors.map((m) => `${base}/${m}/`),
    files: Object.entries(files).map(([name, bytes]) => ({ name, md5: md5(bytes) })),
  });

  test('downloads every file, verifies MD5, and loads it as a named dataset from the cache folder', async () => {
    const cache = tempDir();
    const previous = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const data = await loadDataset('mnist', { remote: remote(['missing', 'good']) });
      assert.deepEqual(data.shape, [2, 2, 1]);
      assert.equal(data.train.count, 4);
      assert.deepEqual([...(data.test.labels ?? [])], [5, 6]);
      assert.deepEqual(
        readdirSync(join(cache, 'vae-onnx', 'datasets', 'mnist')).sort(),
        Object.keys(files).sort(),
      );
      // The first mirror answered 404, so every file was fetched from the second.
      assert.ok(hits.some((h) => h.startsWith('/missing/')) && hits.some((h) => h.startsWith('/good/')));
    } finally {
      if (previous === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = previous;
    }
  });

  test('a checksum mismatch is an error naming the file and both checksums, and writes nothing', async () => {
    const dir = tempDir();
    await assert.rejects(
      downloadDataset('mnist', remote(['corrupt']), dir),
      (e: Error) =>
        e instanceof DataError &&
        /train-images-idx3-ubyte\.gz failed from every mirror/.test(e.message) &&
        /checksum mismatch: MD5 [0-9a-f]{32}, expected [0-9a-f]{32}/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  test('an unreachable mirror is reported with its address', async () => {
    const dir = tempDir();
    const offline: RemoteDataset = {
      mirrors: ['http://127.0.0.1:9/'],
      files: [{ name: 'a.gz', md5: '0'.repeat(32) }],
    };
    await assert.rejects(downloadDataset('x', offline, dir), /http:\/\/127\.0\.0\.1:9\/a\.gz: fetch failed/);
  });
});

describe('png: and csv: sources', () => {
  function writePng(
    path: string,
    width: number,
    height: number,
    value: (x: number, y: number) => number,
  ): void {
    const png = new pngjs.PNG({ width, height });
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = 4 * (y * width + x);
        png.data[i] = png.data[i + 1] = png.data[i + 2] = value(x, y);
        png.data[i + 3] = 255;
      }
    writeFileSync(path, pngjs.PNG.sync.write(png));
  }

  test('a folder of same-size PNGs loads as gray images, last tenth as test', async () => {
    const dir = tempDir();
    for (let i = 0; i < 10; i++) writePng(join(dir, `img${i}.png`), 4, 3, (x) => x * 85);
    const data = await loadDataset(`png:${dir}`);
    assert.deepEqual(data.shape, [3, 4, 1]);
    assert.equal(data.train.count, 9);
    assert.equal(data.test.count, 1);
    assert.deepEqual(
      [...data.train.images.subarray(0, 4)].map((v) => Math.round(v * 255)),
      [0, 85, 170, 255],
    );
    // Each example keeps its file's name, so that scores and codes can say which image they are.
    assert.deepEqual(
      data.train.ids,
      Array.from({ length: 9 }, (_, i) => `img${i}.png`),
    );
    assert.deepEqual(data.test.ids, ['img9.png']);
  });

  test('mixed sizes fail naming the file, or are resized to a given size', async () => {
    const dir = tempDir();
    writePng(join(dir, 'a.png'), 4, 4, () => 255);
    writePng(join(dir, 'b.png'), 8, 8, () => 0);
    await assert.rejects(loadDataset(`png:${dir}`), /b\.png is 8×8, the first image a\.png is 4×4/);
    const data = await loadDataset(`png:${dir}`, { imageShape: [2, 2, 3] });
    assert.deepEqual(data.shape, [2, 2, 3]);
    assert.deepEqual([...data.train.images], new Array(12).fill(1));
    assert.deepEqual([...data.test.images], new Array(12).fill(0));
  });

  test('train/ and test/ subfolders are used as the splits', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'test'));
    for (let i = 0; i < 3; i++) writePng(join(dir, 'train', `${i}.png`), 2, 2, () => 10);
    writePng(join(dir, 'test', 't.png'), 2, 2, () => 20);
    const data = await loadDataset(`png:${dir}`);
    assert.equal(data.train.count, 3);
    assert.equal(data.test.count, 1);
    assert.deepEqual(data.test.ids, ['test/t.png']);
  });

  test('a CSV with a header loads one example per row', async () => {
    const path = join(tempDir(), 'd.csv');
    writeFileSync(path, 'a,b,c\n0.1,0.2,0.3\n\n0.4,0.5,0.6\n1,0,1\n');
    const rows = await readCsvFile(path);
    assert.equal(rows.count, 3);
    assert.equal(rows.columns, 3);
    const data = await loadDataset(`csv:${path}`);
    assert.deepEqual(data.shape, [3]);
    assert.equal(data.train.count + data.test.count, 3);
  });

  test('a short CSV row and a value that is not a number name the file, line and column', async () => {
    const path = join(tempDir(), 'bad.csv');
    writeFileSync(path, '1,2,3\n4,5\n');
    await assert.rejects(readCsvFile(path), new RegExp(`${path}: line 2 has 2 values, expected 3`));
    writeFileSync(path, '1,2,3\n4,NaN,6\n');
    await assert.rejects(readCsvFile(path), /line 2, column 2: "NaN" is not a finite number/);
    assert.equal(existsSync(path), true);
  });
});
