import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { normalArray } from '../src/core/random.js';
import {
  decodeModel,
  ExportError,
  exportModel,
  GraphBuilder,
  type LayerConverter,
  registerConverter,
  SUPPORTED_OPSETS,
} from '../src/export/index.js';
import { toHalfBits } from '../src/export/precision.js';
import { selectBackend } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';

const L = tf.layers;

function convNet(): tf.LayersModel {
  let s = 500;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  const m = tf.sequential();
  m.add(
    L.conv2d({
      inputShape: [12, 12, 2],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
    }),
  );
  m.add(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: init() }));
  m.add(L.flatten({}));
  m.add(L.dense({ units: 64, activation: 'relu', kernelInitializer: init() }));
  m.add(L.dense({ units: 10, kernelInitializer: init() }));
  return m;
}

async function maxDiff(model: tf.LayersModel, bytes: Uint8Array, batch = 4): Promise<number> {
  const shape = [batch, ...((model.inputs[0] as tf.SymbolicTensor).shape.slice(1) as number[])];
  const x = normalArray(
    shape.reduce((a, b) => a * b, 1),
    9,
  );
  const want = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ [session.inputNames[0] as string]: new ort.Tensor('float32', x, shape) });
  await session.release();
  const got = out[session.outputNames[0] as string]?.data as Float32Array;
  return got.reduce((m, v, i) => Math.max(m, Math.abs(v - (want[i] as number))), 0);
}

describe('export options', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  test('fp16 and int8 weights: smaller files, float32 inputs and outputs, a bounded accuracy cost', async () => {
    const model = convNet();
    const sizes: Record<string, number> = {};
    const diffs: Record<string, number> = {};
    const dir = tempDir();
    for (const precision of ['fp32', 'fp16', 'int8'] as const) {
      const bytes = await exportModel(model, { precision, opset: 17 });
      sizes[precision] = bytes.length;
      diffs[precision] = await maxDiff(model, bytes);
      writeFileSync(join(dir, `${precision}.onnx`), bytes);
      const graph = decodeModel(bytes).graph;
      assert.equal(graph?.input?.[0]?.type?.tensorType?.elemType, 1, 'input stays float32');
      assert.equal(graph?.output?.[0]?.type?.tensorType?.elemType, 1, 'output stays float32');
    }
    checkWithReferenceChecker(join(dir, 'fp32.onnx'), join(dir, 'fp16.onnx'), join(dir, 'int8.onnx'));
    // The stated bounds (outputs of this net are of order 1): fp32 1e-5, fp16 1e-2, int8 5e-2.
    assert.ok((diffs.fp32 as number) <= 1e-5, `fp32 ${diffs.fp32}`);
    assert.ok((diffs.fp16 as number) <= 1e-2 && (diffs.fp16 as number) > 0, `fp16 ${diffs.fp16}`);
    assert.ok(
      (diffs.int8 as number) <= 5e-2 && (diffs.int8 as number) > (diffs.fp16 as number) / 100,
      `int8 ${diffs.int8}`,
    );
    assert.ok(
      (sizes.fp16 as number) < 0.55 * (sizes.fp32 as number),
      `fp16 ${sizes.fp16} vs fp32 ${sizes.fp32}`,
    );
    assert.ok(
      (sizes.int8 as number) < 0.35 * (sizes.fp32 as number),
      `int8 ${sizes.int8} vs fp32 ${sizes.fp32}`,
    );
  });

  test('half-precision rounding: exact values, nearest even, overflow, subnormals', () => {
    assert.equal(toHalfBits(1), 0x3c00);
    assert.equal(toHalfBits(-2), 0xc000);
    assert.equal(toHalfBits(65504), 0x7bff);
    assert.equal(toHalfBits(1e6), 0x7c00);
    assert.equal(toHalfBits(2 ** -24), 0x0001);
    assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00, 'a tie rounds to even');
    assert.equal(toHalfBits(0), 0);
  });

  test('every opset from 13 to 21 runs in onnxruntime with the same numbers; 13–17 pass the checker', async () => {
    const model = convNet();
    const dir = tempDir();
    const checkable: string[] = [];
    for (const opset of SUPPORTED_OPSETS) {
      const bytes = await exportModel(model, { opset });
      assert.equal(Number(decodeModel(bytes).opsetImport[0]?.version), opset);
      assert.ok((await maxDiff(model, bytes)) <= 1e-5, `opset ${opset}`);
      const path = join(dir, `opset${opset}.onnx`);
      writeFileSync(path, bytes);
      // python3-onnx 1.12 knows opsets up to 17.
      if (opset <= 17) checkable.push(path);
    }
    checkWithReferenceChecker(...checkable);
  });

  test('fixed batch, names and metadata_props', async () => {
    const model = convNet();
    const bytes = await exportModel(model, {
      batch: 4,
      inputNames: ['image'],
      outputNames: ['scores'],
      metadata: { b: '2', a: '1' },
    });
    const m = decodeModel(bytes);
    assert.equal(m.graph?.input?.[0]?.name, 'image');
    assert.equal(m.graph?.output?.[0]?.name, 'scores');
    assert.equal(Number(m.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimValue), 4);
    assert.deepEqual(
      m.metadataProps.map((p) => `${p.key}=${p.value}`),
      ['a=1', 'b=2'],
    );
    assert.ok(
      (m.graph?.node ?? []).every((n) => typeof n.name === 'string' && n.name.length > 0),
      'every node is named',
    );
  });

  test('the same model and options give the same bytes', async () => {
    const model = convNet();
    assert.deepEqual(
      await exportModel(model, { precision: 'int8' }),
      await exportModel(model, { precision: 'int8' }),
    );
    assert.notDeepEqual(
      await exportModel(model, { precision: 'fp16' }),
      await exportModel(model, { precision: 'int8' }),
    );
  });

  test('a model that was never built is an ExportError', async () => {
    await assert.rejects(
      exportModel(tf.sequential()),
      (e: Error) => e instanceof ExportError && /was never built \(no input shape\)/.test(e.message),
    );
  });

  test('an opset below what a converter needs is an ExportError naming the layer, the op and both opsets', async () => {
    const needs18: LayerConverter = (g, info, inputs) =>
      g.node('Mish', [inputs[0]?.name as string], [{ name: info.name }], {
        name: `${info.name}/Mish`,
        minOpset: 18,
      });
    registerConverter('Softmax', needs18);
    try {
      const m = tf.sequential();
      m.add(L.softmax({ inputShape: [3], name: 'needs_18' }));
      await assert.rejects(
        exportModel(m, { opset: 17 }),
        /cannot export needs_18\/Mish: Mish needs opset 18 or higher, the export targets opset 17/,
      );
    } finally {
      const { convertSoftmax } = await import('../src/export/layers/softmax.js');
      registerConverter('Softmax', convertSoftmax);
    }
    assert.ok(new GraphBuilder(18));
  });

  test('an unknown activation and an unknown precision are ExportErrors', async () => {
    const m = tf.sequential();
    m.add(L.dense({ units: 2, inputShape: [3] }));
    const layer = m.layers[0] as tf.layers.Layer;
    const original = layer.getConfig.bind(layer);
    layer.getConfig = () => ({ ...original(), activation: 'sparkle' });
    await assert.rejects(exportModel(m), /unknown activation "sparkle"; supported: elu, gelu/);
    await assert.rejects(
      exportModel(convNet(), { precision: 'int4' as 'int8' }),
      /"precision" must be fp32, fp16 or int8, got "int4"/,
    );
  });
});
