/**
 * Files a user is handed, made hostile: zip bombs and damaged zips, card.json values that parse but
 * cannot work, PNG decompression bombs and truncated PNGs, CSV cells past float32 or not decimal,
 * and flags past what the machine holds. Each gives a clear error naming what to fix (or works),
 * never a wrong result, never memory it should not take.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseCardText } from '../src/core/model-dir.js';
import { packModelZip, readModelZip } from '../src/core/model-zip.js';
import { parseNumericCsv } from '../src/core/numeric-csv.js';
import { VaeModel } from '../src/runtime/node.js';
import { loadDataset } from '../src/train/index.js';
import { blankPng, writeSparseZip, zipOf } from './helpers/bombs.js';
import { tempDir } from './helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const MODEL = join(ROOT, 'models', 'mnist-mini');
const file = (f: string) => new Uint8Array(readFileSync(join(MODEL, f)));
const model = () => ({
  'card.json': file('card.json'),
  'encoder.onnx': file('encoder.onnx'),
  'decoder.onnx': file('decoder.onnx'),
});

function vae(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The rise of this process's resident memory while `f` runs. */
async function rssRise(f: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await f();
  } catch {
    // the caller checks the outcome separately
  } finally {
    clearInterval(t);
  }
  return Math.max(peak, process.memoryUsage().rss) - before;
}

describe('model zips read with bounds', () => {
  test('an entry that declares 1 GiB is refused before anything is inflated, naming the zip and the entry', async () => {
    const bomb = zipOf([
      { name: 'card.json', bytes: file('card.json') },
      { name: 'decoder.onnx', zeros: 1 << 20, declared: 2 ** 30 },
    ]);
    let error: Error | undefined;
    const rise = await rssRise(() => readModelZip(bomb, 'bomb.zip').catch((e: Error) => (error = e)));
    assert.match(
      String(error?.message),
      /cannot load bomb\.zip: its entry decoder\.onnx declares 1073741824 bytes, more than the 268435456 one model file may have/,
    );
    assert.ok(rise < 64 * 2 ** 20, `${rise} bytes`);
  });

  test('an entry that inflates past what it declares is cut at the declared size and refused', async () => {
    const liar = zipOf([{ name: 'decoder.onnx', zeros: 64 << 20, declared: 1 << 20 }]);
    let error: Error | undefined;
    const rise = await rssRise(() => readModelZip(liar, 'liar.zip').catch((e: Error) => (error = e)));
    assert.match(
      String(error?.message),
      /liar\.zip: its entry decoder\.onnx inflates to more bytes than the 1048576 it declares/,
    );
    assert.ok(rise < 48 * 2 ** 20, `${rise} bytes`);
  });

  test('a model beside gigabytes of other entries loads, reading only its own files', async () => {
    const zip = zipOf([
      ...Object.entries(model()).map(([name, bytes]) => ({ name, bytes })),
      ...[1, 2, 3].map((i) => ({ name: `filler-${i}.bin`, zeros: 1 << 16, declared: 2 ** 30, crc: false })),
    ]);
    const dir = tempDir();
    writeFileSync(join(dir, 'm.zip'), zip);
    const m = await VaeModel.load(join(dir, 'm.zip'));
    assert.equal(m.latentDim, 20);
    await m.dispose();
  });

  test('a flipped byte fails the CRC; duplicates, two models and no model are named; an extra folder level is read', async () => {
    const stored = packModelZip(model());
    const at = Buffer.from(stored).indexOf(Buffer.from(file('decoder.onnx').subarray(1000, 1016))) + 4;
    const flipped = Uint8Array.from(stored);
    flipped[at] = (flipped[at] as number) ^ 0xff;
    await assert.rejects(
      readModelZip(flipped, 'x.zip'),
      /x\.zip: the zip is damaged \(decoder\.onnx fails its CRC-32 check/,
    );
    const dup = zipOf([
      { name: 'decoder.onnx', bytes: file('decoder.onnx') },
      { name: 'decoder.onnx', bytes: file('decoder.onnx') },
    ]);
    await assert.rejects(readModelZip(dup, 'd.zip'), /d\.zip: it holds two entries named decoder\.onnx/);
    const two = zipOf([
      { name: 'a/decoder.onnx', bytes: file('decoder.onnx') },
      { name: 'b/decoder.onnx', bytes: file('decoder.onnx') },
    ]);
    await assert.rejects(
      readModelZip(two, 't.zip'),
      /t\.zip: it holds more than one model directory \(a\/, b\/\)/,
    );
    await assert.rejects(
      readModelZip(zipOf([{ name: 'readme.txt', bytes: new Uint8Array(3) }]), 'n.zip'),
      /n\.zip: it holds no model directory .*readme\.txt/,
    );
    const nested = zipOf(
      Object.entries(model()).map(([name, bytes]) => ({ name: `outer/mymodel/${name}`, bytes })),
    );
    const bytes = await readModelZip(nested, 'nested.zip');
    assert.ok(bytes.card && bytes.decoder.length > 0);
  });

  test('damaged zips, whatever the damage, give a named error and never something else', async () => {
    const good = packModelZip(model());
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, x) => {
          const bad = Uint8Array.from(good);
          bad[at] = (bad[at] as number) ^ x;
          try {
            const read = await readModelZip(bad, 'fuzz.zip');
            // A flip in what is not read (a name's spelling, an unused field) may leave a usable model.
            assert.ok(read.decoder.length > 0);
          } catch (error) {
            assert.match((error as Error).message, /^cannot (load|read) fuzz\.zip/);
          }
        },
      ),
      { numRuns: 200, seed: 21 },
    );
  });

  test('a zip over 2 GiB (sparse, here) is read in ranges; commands write beside a zip, not into it', () => {
    const dir = tempDir();
    const path = join(dir, 'big.zip');
    writeSparseZip(
      path,
      3 * 2 ** 30,
      Object.entries(model()).map(([name, bytes]) => ({ name, bytes })),
    );
    const run = vae('sample', path, '--n', '4');
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(join(dir, 'big-samples.png')), 'the PNG is written beside the zip');
  });
});

describe('card.json checked for use, not only type', () => {
  const card = () => JSON.parse(readFileSync(join(MODEL, 'card.json'), 'utf8')) as Record<string, unknown>;
  test('standardisation that overflows float32 and a log-variance that is not a number are refused, naming the field', () => {
    const c = card();
    const shape = 784;
    for (const [normalization, field] of [
      [
        { mean: new Array(shape).fill(1e308), std: new Array(shape).fill(1) },
        /"normalization\.mean\[0\]" must be an array of 784 numbers within ±1e30, got 1e\+308/,
      ],
      [
        { mean: new Array(shape).fill(0), std: new Array(shape).fill(1e-308) },
        /"normalization\.std\[0\]" must be an array of 784 numbers from 1e-30 to 1e30, got 1e-308/,
      ],
    ] as const) {
      assert.throws(() => parseCardText(JSON.stringify({ ...c, normalization }), 'c.json'), field);
    }
    assert.throws(
      () =>
        parseCardText(
          JSON.stringify({ ...c, likelihood: 'gaussian', likelihoodParams: { logVariance: 'abc' } }),
          'c.json',
        ),
      /"likelihoodParams\.logVariance" must be a number from -40 to 40 \(log σ²\), got "abc"/,
    );
  });
});

describe('images and CSV cells checked before they cost memory', () => {
  test('a PNG whose header says 8000×8000 is refused before decoding; a truncated one says so', async () => {
    const dir = tempDir();
    const bombs = join(dir, 'bombs');
    mkdirSync(bombs);
    writeFileSync(join(bombs, 'huge.png'), blankPng(8000, 8000));
    let error: Error | undefined;
    const rise = await rssRise(() =>
      loadDataset(`png:${bombs}`, { imageShape: [28, 28, 1] }).catch((e: Error) => (error = e)),
    );
    assert.match(
      String(error?.message),
      /cannot read image .*huge\.png: it is 8000×8000 pixels; images of up to 16777216 pixels \(4096×4096\) are read/,
    );
    assert.ok(rise < 64 * 2 ** 20, `${rise} bytes`);
    const cut = join(dir, 'cut');
    mkdirSync(cut);
    writeFileSync(join(cut, 'half.png'), blankPng(28, 28, true));
    await assert.rejects(
      loadDataset(`png:${cut}`),
      /cannot read image .*half\.png: it is truncated \(it does not end with the IEND chunk\)/,
    );
  });

  test('CSV: past float32 and non-decimal numbers are named by line and column; CR-only line endings read', () => {
    assert.throws(
      () => parseNumericCsv('a,b\n1,2\n3,1e39\n', 'x.csv'),
      /x\.csv: line 3, column 2: 1e39 is outside the range of float32/,
    );
    for (const cell of ['0x10', '0b11', '0o7', 'Infinity', '1_000', ' ']) {
      assert.throws(
        () => parseNumericCsv(`1,2\n3,${cell}\n`, 'y.csv'),
        /y\.csv: line 2, column 2: .* is not a finite number/,
        cell,
      );
    }
    const cr = parseNumericCsv('a,b\r1,2\r3,4\r', 'z.csv');
    assert.deepEqual([cr.count, cr.columns, ...cr.values], [2, 2, 1, 2, 3, 4]);
  });
});

describe('flags bounded by what the machine holds', () => {
  test('sizes past the machine are refused with the estimate and the flag, before anything is allocated', () => {
    const cases: [string[], RegExp][] = [
      [['--image-size', '0x28x1'], /--image-size needs a height and a width from 1 to 4096, got "0x28x1"/],
      [['--latent', '4294967296'], /--latent must be an integer from 1 to 65536, got "4294967296"/],
      [
        ['--hidden', '1000000'],
        /needs about 18\d\.\d GB to train with \d workers?, more than the .* allowed .*--max-memory/,
      ],
      [
        ['--likelihood', 'gaussian', '--sigma', '1e-30'],
        /"sigma" \(--sigma\) must be from 1e-4 to 1e4, got 1e-30/,
      ],
    ];
    for (const [flags, message] of cases) {
      const r = vae('train', '--out', join(tempDir(), 'm'), '--epochs', '1', ...flags);
      assert.notEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, message, flags.join(' '));
    }
  });
});
