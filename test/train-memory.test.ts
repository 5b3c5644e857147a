import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { zipSync } from 'fflate';
import { exportVae, vaeToOnnx } from '../src/export/index.js';
import { VaeModel } from '../src/runtime/node.js';
import {
  checkpointFolder,
  type Dataset,
  loadDataset,
  type MemoryData,
  type ModelFiles,
  packModelZip,
  selectBackend,
  trainInMemory,
  trainVae,
  unpackModelZip,
} from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';

const D = 784;
const tiny = { hiddenDim: 32, latentDim: 4, batchSize: 32, evalIw: 0 };

async function digits(count = 640): Promise<MemoryData & { dataset: Dataset }> {
  const full = await loadDataset('mnist-mini');
  const images = full.train.images.slice(0, count * D);
  const test = { images: full.test.images.slice(0, 200 * D) };
  return {
    images,
    shape: full.shape,
    test,
    name: 'mnist-mini',
    dataset: {
      name: 'mnist-mini',
      shape: full.shape,
      train: { images, count },
      test: { images: test.images, count: 200 },
    },
  };
}

/** The newest checkpoint's weight files, by network. */
function checkpointWeights(files: ModelFiles): Uint8Array[] {
  const latest = JSON.parse(new TextDecoder().decode(files['tfjs/latest.json'])).folder as string;
  return ['encoder', 'decoder'].map((part) => files[`tfjs/${latest}/${part}/weights.bin`] as Uint8Array);
}

function writeFiles(dir: string, files: ModelFiles): void {
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
}

describe('trainInMemory', () => {
  test('computes the same steps as vae train: same weights, and vae export of its files gives the bytes vaeToOnnx gives', async () => {
    await selectBackend('wasm');
    const data = await digits();
    const inMemory = await trainInMemory(data, { ...tiny, epochs: 2 });
    const dir = tempDir();
    await trainVae({ ...tiny, dataset: data.dataset, out: dir, epochs: 2, workers: 1, backend: 'wasm' });
    const folder = await checkpointFolder(dir);
    const onDisk = ['encoder', 'decoder'].map((part) => readFileSync(join(folder, part, 'weights.bin')));
    assert.deepEqual(checkpointWeights(inMemory.files).map(Buffer.from), onDisk);
    assert.equal(inMemory.card.training.epochs, 2);
    assert.equal(inMemory.card.training.backend, 'wasm');
    assert.equal(inMemory.history.length, 2);
    assert.equal(inMemory.aborted, false);

    // The files, unpacked in a folder, are a model directory the CLI's exporter reads.
    const unpacked = tempDir();
    writeFiles(unpacked, await unpackModelZip(packModelZip(inMemory.files)));
    const fromDisk = await exportVae(unpacked);
    const fromMemory = vaeToOnnx(inMemory.networks, inMemory.card);
    assert.deepEqual(Buffer.from(fromDisk.encoder), Buffer.from(fromMemory.encoder));
    assert.deepEqual(Buffer.from(fromDisk.decoder), Buffer.from(fromMemory.decoder));
    inMemory.networks.encoder.dispose();
    inMemory.networks.decoder.dispose();
  });

  test('an AbortSignal stops it between steps; resuming from its files gives the weights of an uninterrupted run', async () => {
    await selectBackend('wasm');
    const data = await digits();
    const straight = await trainInMemory(data, { ...tiny, epochs: 2 });
    const controller = new AbortController();
    let steps = 0;
    const stopped = await trainInMemory(data, {
      ...tiny,
      epochs: 2,
      signal: controller.signal,
      onStep: () => {
        // Mid-epoch: 18 steps per epoch here, stop inside the first.
        if (++steps === 7) controller.abort();
      },
    });
    assert.equal(stopped.aborted, true);
    assert.equal(stopped.card.training.steps, 7);
    assert.equal(stopped.card.training.epochs, 0);
    // Through a zip and back, as a page would keep it.
    const resumeFrom = await unpackModelZip(packModelZip(stopped.files));
    const resumed = await trainInMemory(data, { ...tiny, epochs: 2, resumeFrom });
    assert.equal(resumed.aborted, false);
    assert.equal(resumed.card.training.steps, straight.card.training.steps);
    assert.deepEqual(checkpointWeights(resumed.files), checkpointWeights(straight.files));
    for (const r of [straight, stopped, resumed]) {
      r.networks.encoder.dispose();
      r.networks.decoder.dispose();
    }
  });

  test('resume refuses other settings, naming the setting', async () => {
    await selectBackend('wasm');
    const data = await digits();
    const first = await trainInMemory(data, { ...tiny, epochs: 1 });
    await assert.rejects(
      trainInMemory(data, { ...tiny, epochs: 2, latentDim: 5, resumeFrom: first.files }),
      /cannot resume resumeFrom: it was trained with latentDim 4, this run asks for 5/,
    );
  });

  test('bad data gets an error naming the field, the expected and the received value', async () => {
    const images = new Float32Array(10 * D);
    await assert.rejects(
      trainInMemory(
        { images, shape: [28, 28] as number[] & { length: 2 }, name: 'x' },
        { epochs: 1, batchSize: 32 },
      ),
      /fewer than one batch/,
    );
    await assert.rejects(
      trainInMemory({ images: new Float32Array(100), shape: [28, 28, 1] }),
      /"data\.images" must hold a whole number of examples of 784 values, got 100 values/,
    );
    await assert.rejects(
      trainInMemory({ images: [1, 2] as unknown as Float32Array, shape: [2] }),
      /"data\.images" must be a Float32Array, got an array of 2/,
    );
    await assert.rejects(
      trainInMemory({ images, shape: [0, 28] }),
      /"data\.shape" must be the shape of one example, positive integers such as \[28, 28, 1\], got \[0,28\]/,
    );
    await assert.rejects(
      trainInMemory({ images, shape: [28, 28, 1], labels: new Uint8Array(3) }),
      /"data\.labels" must be a Uint8Array of 10 labels \(one per example\), got Uint8Array\(3\)/,
    );
  });
});

describe('model zip', () => {
  test('VaeModel.load takes a zipped model directory (bytes or a .zip path), packed by packModelZip or by a file manager', async () => {
    const dir = join(import.meta.dirname, '..', 'models', 'mnist-mini');
    const files: ModelFiles = {};
    for (const name of ['card.json', 'encoder.onnx', 'decoder.onnx'])
      files[name] = new Uint8Array(readFileSync(join(dir, name)));
    const zip = packModelZip(files);
    assert.deepEqual(packModelZip(files), zip, 'the same files give the same bytes');
    const fromDir = await VaeModel.load(dir);
    const fromBytes = await VaeModel.load(zip);
    const path = join(tempDir(), 'mnist-mini.zip');
    writeFileSync(path, zip);
    const fromPath = await VaeModel.load(path);
    // A zip of the folder itself, as a file manager makes it: every file under mnist-mini/, and the folder entry.
    const nested = zipSync({
      'mnist-mini/': new Uint8Array(0),
      ...Object.fromEntries(Object.entries(files).map(([p, b]) => [`mnist-mini/${p}`, b])),
    });
    const fromNested = await VaeModel.load(nested);
    const z = { data: new Float32Array(fromDir.latentDim).fill(0.3), shape: [1, fromDir.latentDim] };
    const expected = (await fromDir.decode(z)).data;
    for (const m of [fromBytes, fromPath, fromNested]) {
      assert.deepEqual((await m.decode(z)).data, expected);
      assert.equal(m.card?.latentDim, fromDir.card?.latentDim);
    }
    for (const m of [fromDir, fromBytes, fromPath, fromNested]) await m.dispose();
  });

  test('a file that is not a zip, a damaged zip, and a zip without decoder.onnx get errors that name the zip', async () => {
    await assert.rejects(
      VaeModel.load(new Uint8Array([1, 2, 3, 4, 5])),
      /cannot load model\.zip: it is not a zip file \(5 bytes, starting 01 02 03 04\)/,
    );
    const zip = packModelZip({
      'decoder.onnx': new Uint8Array(2000).fill(7),
      'card.json': new Uint8Array(10),
    });
    await assert.rejects(
      VaeModel.load(zip.subarray(0, zip.length - 30)),
      /cannot load model\.zip: the zip is damaged/,
    );
    const noDecoder = packModelZip({ 'tfjs/latest.json': new TextEncoder().encode('{"folder":"step-1"}') });
    await assert.rejects(
      VaeModel.load(noDecoder),
      /cannot load model\.zip\/decoder\.onnx: it does not exist/,
    );
    assert.throws(
      () => packModelZip({}),
      /"files" must hold decoder\.onnx or a tfjs\/ checkpoint, got no files/,
    );
  });
});
