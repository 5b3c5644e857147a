import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {
  checkInputs,
  ExportError,
  filesSource,
  loadModelJson,
  loadModelJsonFrom,
  predictTfjs,
} from '../src/export/index.js';
import { selectBackend } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';
import { saveModelFolder } from './helpers/save-model.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const L = tf.layers;
let seed = 4000;
const w = () => tf.initializers.randomUniform({ minval: -0.4, maxval: 0.4, seed: seed++ });

function vae(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A Bidirectional-LSTM sequence classifier over token ids (padding id 0 masked). */
function biLstmClassifier(): tf.LayersModel {
  const x = tf.input({ shape: [24] });
  const e = L.embedding({ inputDim: 50, outputDim: 8, maskZero: true, embeddingsInitializer: w() }).apply(x);
  const b = L.bidirectional({
    layer: L.lstm({
      units: 10,
      kernelInitializer: w(),
      recurrentInitializer: w(),
      biasInitializer: w(),
    }) as tf.RNN,
  }).apply(e as tf.SymbolicTensor);
  const y = L.dense({ units: 4, activation: 'softmax', kernelInitializer: w() }).apply(
    b as tf.SymbolicTensor,
  );
  return tf.model({ inputs: x, outputs: y as tf.SymbolicTensor });
}

/** A GRU sequence-to-sequence model: the encoder's final state starts the decoder. */
function gruSeq2seq(): tf.LayersModel {
  const source = tf.input({ shape: [null, 5], name: 'source' });
  const target = tf.input({ shape: [null, 6], name: 'target' });
  const [, state] = L.gru({
    units: 12,
    returnState: true,
    kernelInitializer: w(),
    recurrentInitializer: w(),
    biasInitializer: w(),
  }).apply(source) as tf.SymbolicTensor[];
  const decoded = L.gru({
    units: 12,
    returnSequences: true,
    kernelInitializer: w(),
    recurrentInitializer: w(),
    biasInitializer: w(),
  }).apply(target, { initialState: [state as tf.SymbolicTensor] }) as tf.SymbolicTensor;
  const y = L.timeDistributed({ layer: L.dense({ units: 6, kernelInitializer: w() }) }).apply(decoded);
  return tf.model({ inputs: [source, target], outputs: y as tf.SymbolicTensor });
}

/** A small image classifier, for quantized weights. */
function convClassifier(): tf.LayersModel {
  return tf.sequential({
    layers: [
      L.conv2d({
        inputShape: [12, 12, 3],
        filters: 6,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: w(),
      }),
      L.maxPooling2d({ poolSize: 2 }),
      L.batchNormalization({}),
      L.flatten(),
      L.dense({ units: 5, activation: 'softmax', kernelInitializer: w() }),
    ],
  });
}

/** Teachable Machine's shape: a Sequential holding a Sequential holding a Sequential. */
function nestedThreeDeep(): tf.LayersModel {
  const inner = tf.sequential({
    layers: [L.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: w() })],
  });
  const middle = tf.sequential({ layers: [inner, L.dense({ units: 4, kernelInitializer: w() })] });
  return tf.sequential({
    layers: [middle, L.dense({ units: 3, activation: 'softmax', kernelInitializer: w() })],
  });
}

describe('vae convert: tfjs layers model.json to ONNX', () => {
  const dir = tempDir('vae-onnx-convert-');
  before(async () => {
    await selectBackend('cpu');
  });

  for (const [name, build, options] of [
    ['a Bidirectional-LSTM sequence classifier (masked padding)', biLstmClassifier, {}],
    ['a GRU sequence-to-sequence model (two inputs, an initial state)', gruSeq2seq, {}],
    [
      'a CNN with weights quantized to uint8, uint16 and float16 over several shards',
      convClassifier,
      { quantize: ['uint8', 'uint16', 'float16', 'none'], shardBytes: 700 },
    ],
    ['a model nested three deep (as Teachable Machine exports)', nestedThreeDeep, {}],
  ] as const) {
    test(`${name}: converts, --check passes, the reference checker passes`, async () => {
      const folder = join(dir, name.replace(/\W+/g, '-'));
      await saveModelFolder(build(), folder, options as Parameters<typeof saveModelFolder>[2]);
      const out = join(folder, 'model.onnx');
      const r = vae('convert', folder, '--out', out, '--check', '--report');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /max \|Δ\|/);
      assert.doesNotMatch(r.stdout, / NO\b/);
      assert.match(r.stderr, /wrote .*model\.onnx/);
      checkWithReferenceChecker(out);
    });
  }

  test('the converted model computes what tfjs computes (here, not through the CLI)', async () => {
    const folder = join(dir, 'direct');
    await saveModelFolder(gruSeq2seq(), folder);
    const { model } = await loadModelJsonFrom(folder);
    const r = vae('convert', join(folder, 'model.json'), '--out', join(folder, 'm.onnx'));
    assert.equal(r.code, 0, r.stderr);
    const session = await ort.InferenceSession.create(readFileSync(join(folder, 'm.onnx')));
    const inputs = checkInputs(model, session.inputNames, { batch: 3, unknown: 30 });
    const want = predictTfjs(model, inputs);
    const got = await session.run(
      Object.fromEntries(inputs.map((x) => [x.name, new ort.Tensor('float32', x.data, x.shape)])),
    );
    const y = got[session.outputNames[0] as string]?.data as Float32Array;
    const ref = (want[0] as { data: Float32Array }).data;
    assert.equal(y.length, ref.length);
    const worst = y.reduce((m, v, i) => Math.max(m, Math.abs(v - (ref[i] as number))), 0);
    assert.ok(worst <= 1e-5, `max |Δ| ${worst} over 30 steps`);
    await session.release();
  });

  test('from an http(s) URL, shards fetched beside model.json', async () => {
    const folder = join(dir, 'served');
    await saveModelFolder(convClassifier(), folder, { shardBytes: 500 });
    const server = createServer((req, res) => {
      const file = join(folder, (req.url ?? '/').replace(/^\/models\//, ''));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
      const out = join(dir, 'from-url.onnx');
      const ok = await new Promise<ReturnType<typeof vae>>((resolve) => {
        // Run the CLI asynchronously: the server lives in this process.
        import('node:child_process').then(({ execFile }) =>
          execFile(
            process.execPath,
            ['--import', 'tsx', MAIN, 'convert', `${base}/model.json`, '--out', out, '--check'],
            (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
          ),
        );
      });
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(existsSync(out));
      const missing = await loadModelJsonFrom(`${base}/nothing/model.json`).catch((e: Error) => e);
      assert.ok(missing instanceof ExportError);
      assert.match(missing.message, /nothing\/model\.json: HTTP 404/);
    } finally {
      server.close();
    }
  });

  test('files in memory (what the Convert panel gets from a drop) load the same model', async () => {
    const folder = join(dir, 'memory');
    await saveModelFolder(nestedThreeDeep(), folder, { shardBytes: 64 });
    const names = readdirSync(folder).sort();
    assert.ok(names.length > 3, names.join(', '));
    const files = names.map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(folder, n))) }));
    const { model } = await loadModelJson(filesSource(files));
    assert.equal(model.countParams(), (await loadModelJsonFrom(folder)).model.countParams());
    const json = files.filter((f) => f.name === 'model.json');
    const shards = files.filter((f) => f.name !== 'model.json');
    await assert.rejects(
      loadModelJson(filesSource([...json, ...shards.slice(1)])),
      /weight shard group1-shard1of\d+\.bin is missing/,
    );
    assert.throws(() => filesSource(shards), /expected model\.json among the files/);
  });

  test('Keras 3 writes batch_shape and dtype policies: rewritten so tfjs can load the model', async () => {
    const folder = join(dir, 'keras3');
    await saveModelFolder(convClassifier(), folder, {
      edit: (json) => {
        const topology = json.modelTopology as {
          config: { layers: { class_name: string; config: Record<string, unknown> }[] };
        };
        for (const layer of topology.config.layers) {
          if (layer.config.batch_input_shape) {
            layer.config.batch_shape = layer.config.batch_input_shape;
            delete layer.config.batch_input_shape;
          }
          layer.config.dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } };
        }
        topology.config.layers.unshift({
          class_name: 'InputLayer',
          config: { batch_shape: [null, 12, 12, 3], name: 'pixels', dtype: 'float32' },
        });
      },
    });
    const r = vae('convert', folder, '--out', join(folder, 'm.onnx'), '--check');
    assert.equal(r.code, 0, r.stderr);
  });

  test('what it cannot read is named, and nothing is written', async () => {
    const folder = join(dir, 'bad');
    mkdirSync(folder, { recursive: true });
    const out = join(folder, 'out.onnx');
    writeFileSync(out, 'earlier file');
    const cases: [string, RegExp][] = [];
    const write = (name: string, json: unknown) => {
      const sub = join(folder, name);
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
      return sub;
    };
    cases.push([
      write('graph', { format: 'graph-model', modelTopology: { node: [] } }),
      /is a tfjs graph model.*tfjs_layers_model/,
    ]);
    cases.push([
      write('keras-config', { class_name: 'Sequential', config: { layers: [] } }),
      /Keras model configuration.*without weights/,
    ]);
    cases.push([write('not-json', '{ nope'), /it is not JSON/]);
    const saved = join(folder, 'traversal');
    await saveModelFolder(nestedThreeDeep(), saved, {
      edit: (json) => {
        (json.weightsManifest as { paths: string[] }[])[0] = {
          ...(json.weightsManifest as { paths: string[] }[])[0],
          paths: ['../../secret.bin'],
        } as { paths: string[] };
      },
    });
    cases.push([saved, /leaves the model's folder/]);
    const truncated = join(folder, 'truncated');
    await saveModelFolder(nestedThreeDeep(), truncated);
    const shard = join(truncated, 'group1-shard1of1.bin');
    writeFileSync(shard, readFileSync(shard).subarray(0, 40));
    cases.push([truncated, /hold 40 bytes, its weights declare \d+; a shard is truncated/]);
    const linked = join(folder, 'symlinked');
    await saveModelFolder(nestedThreeDeep(), linked);
    writeFileSync(join(folder, 'outside.bin'), readFileSync(join(linked, 'group1-shard1of1.bin')));
    const inside = join(linked, 'group1-shard1of1.bin');
    writeFileSync(inside, '');
    await import('node:fs/promises').then((fs) => fs.rm(inside));
    symlinkSync(join(folder, 'outside.bin'), inside);
    cases.push([linked, /leads outside the model's folder/]);
    const unknown = join(folder, 'unknown-class');
    await saveModelFolder(nestedThreeDeep(), unknown, {
      edit: (json) => {
        const t = json.modelTopology as { config: { layers: { class_name: string }[] } };
        (t.config.layers[1] as { class_name: string }).class_name = 'MyAttention';
      },
    });
    cases.push([unknown, /layer class MyAttention is not one tfjs-layers 4\.22 knows/]);
    cases.push([join(folder, 'nowhere'), /does not exist/]);
    for (const [source, expected] of cases) {
      const r = vae('convert', source, '--out', out);
      assert.equal(r.code, 1, `${source}: ${r.stderr}`);
      assert.match(r.stderr, expected, source);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(readFileSync(out, 'utf8'), 'earlier file', 'the earlier file is left alone');
    }
  });

  test('a layer the exporter cannot convert stops before writing, naming layer, class and the supported classes', async () => {
    class Doubler extends tf.layers.Layer {
      static className = 'Doubler';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs, 2);
      }
    }
    tf.serialization.registerClass(Doubler);
    const model = tf.sequential({
      layers: [L.dense({ inputShape: [3], units: 2 }), new Doubler({ name: 'twice' })],
    });
    const folder = join(dir, 'custom');
    await saveModelFolder(model, folder);
    const { model: loaded } = await loadModelJsonFrom(folder);
    const { exportModel } = await import('../src/export/index.js');
    await assert.rejects(
      exportModel(loaded),
      /layer "twice": class Doubler is not supported; supported classes: Activation, Add/,
    );
  });
});

after(() => undefined);
