import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import {
  DEFAULT_OPSET,
  decodeModel,
  ExportError,
  exportModel,
  exportVae,
  supportedLayerClasses,
} from '../src/export/index.js';
import { checkpointFolder, readCard, selectBackend } from '../src/train/index.js';
import { tempDir, trainTiny } from './helpers/fixtures.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';

function seededMlp(seed: number): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      units: 6,
      inputShape: [4],
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 3,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return m;
}

describe('exportVae', () => {
  let dir: string;
  before(async () => {
    dir = await trainTiny();
    await exportVae(dir);
  });

  test('both files pass the reference checker (onnx.checker, full_check)', () => {
    checkWithReferenceChecker(join(dir, 'encoder.onnx'), join(dir, 'decoder.onnx'));
  });

  test('names, symbolic batch, the default opset and the card in metadata_props', async () => {
    const card = await readCard(dir);
    const enc = decodeModel(readFileSync(join(dir, 'encoder.onnx')));
    const dec = decodeModel(readFileSync(join(dir, 'decoder.onnx')));
    const dims = (vi: onnxProto.onnx.IValueInfoProto) =>
      vi.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
    assert.deepEqual(
      enc.graph?.input?.map((v) => v.name),
      ['x'],
    );
    assert.deepEqual(
      enc.graph?.output?.map((v) => v.name),
      ['mu', 'logvar'],
    );
    assert.deepEqual(dims(enc.graph?.input?.[0] ?? {}), ['N', 28, 28, 1]);
    assert.deepEqual(dims(enc.graph?.output?.[0] ?? {}), ['N', card.latentDim]);
    assert.deepEqual(
      dec.graph?.input?.map((v) => v.name),
      ['z'],
    );
    assert.deepEqual(
      dec.graph?.output?.map((v) => v.name),
      ['x_hat', 'logits'],
    );
    assert.deepEqual(dims(dec.graph?.output?.[0] ?? {}), ['N', 28, 28, 1]);
    assert.equal(Number(enc.opsetImport[0]?.version), DEFAULT_OPSET);
    const meta = Object.fromEntries(dec.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta['vae_onnx.latent_dim'], String(card.latentDim));
    assert.equal(meta['vae_onnx.input_shape'], '[28,28,1]');
    assert.equal(meta['vae_onnx.likelihood'], 'bernoulli');
  });

  test('same weights give byte-identical files', async () => {
    const first = await exportVae(dir);
    const second = await exportVae(dir);
    assert.deepEqual(second.encoder, first.encoder);
    assert.deepEqual(second.decoder, first.decoder);
    // And two trainings with the same seed give the same weights, so the same bytes.
    const other = await trainTiny();
    const third = await exportVae(other);
    assert.deepEqual(third.encoder, first.encoder);
    assert.deepEqual(third.decoder, first.decoder);
  });

  test('a failed export leaves earlier files intact', async () => {
    const before = readFileSync(join(dir, 'decoder.onnx'));
    writeFileSync(join(await checkpointFolder(dir), 'decoder', 'model.json'), '{ not json');
    await assert.rejects(
      exportVae(dir),
      /cannot load .*decoder\/model\.json: it is not valid JSON; the tfjs checkpoint is damaged/,
    );
    assert.deepEqual(readFileSync(join(dir, 'decoder.onnx')), before);
  });
});

describe('exportModel', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  test('a Sequential model gives the same numbers in onnxruntime-node as tfjs predict', async () => {
    const model = seededMlp(1);
    const bytes = await exportModel(model, { inputNames: ['input'], outputNames: ['probs'] });
    const dir = tempDir();
    writeFileSync(join(dir, 'm.onnx'), bytes);
    checkWithReferenceChecker(join(dir, 'm.onnx'));
    const x = Float32Array.from({ length: 5 * 4 }, (_, i) => Math.sin(i));
    const want = tf.tidy(() => (model.predict(tf.tensor2d(x, [5, 4])) as tf.Tensor).dataSync());
    const session = await ort.InferenceSession.create(bytes);
    const got = (await session.run({ input: new ort.Tensor('float32', x, [5, 4]) })).probs
      ?.data as Float32Array;
    await session.release();
    assert.equal(got.length, want.length);
    got.forEach((v, i) => {
      assert.ok(Math.abs(v - (want[i] as number)) <= 1e-6, `${i}: ${v} vs ${want[i]}`);
    });
  });

  test('an unsupported layer fails naming the layer, its class and the supported classes', async () => {
    /** A custom layer the exporter has no converter for. */
    class Doubler extends tf.layers.Layer {
      static className = 'Doubler';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs, 2);
      }
    }
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 2, inputShape: [3] }));
    model.add(new Doubler({ name: 'double1' }));
    await assert.rejects(
      exportModel(model),
      (e: Error) =>
        e instanceof ExportError &&
        /layer "double1": class Doubler is not supported/.test(e.message) &&
        e.message.includes(supportedLayerClasses().join(', ')),
    );
  });

  test('weights holding NaN fail naming the layer and the weight', async () => {
    const model = seededMlp(2);
    const layer = model.layers[1] as tf.layers.Layer;
    const [kernel, bias] = layer.getWeights() as [tf.Tensor, tf.Tensor];
    const poisoned = kernel.arraySync() as number[][];
    (poisoned[2] as number[])[1] = Number.NaN;
    layer.setWeights([tf.tensor2d(poisoned), bias]);
    await assert.rejects(
      exportModel(model),
      (e: Error) =>
        e instanceof ExportError &&
        new RegExp(`layer "${layer.name}".*holds NaN at flat index 7`).test(e.message),
    );
  });

  test('an unknown opset is a clear ExportError', async () => {
    await assert.rejects(
      exportModel(seededMlp(3), { opset: 11 }),
      /"opset" must be one of 13, 14, 15, 16, 17, 18, 19, 20, 21, got 11/,
    );
  });
});
