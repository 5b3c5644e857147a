import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { exportVae } from '../src/export/index.js';
import { runParity } from '../src/parity/parity.js';
import { VaeModel } from '../src/runtime/node.js';
import { checkNetworks } from '../src/train/architecture.js';
import {
  checkpointFolder,
  type Dataset,
  loadDataset,
  selectBackend,
  trainInMemory,
  trainVae,
} from '../src/train/index.js';
import { parameterCount } from '../src/train/memory-estimate.js';
import { buildConvVae, buildMlpVae } from '../src/train/model.js';
import { tempDir } from './helpers/fixtures.js';
import { ownNetworks } from './helpers/own-networks.js';

const D = 784;
const L = 6;

async function digits(count = 320): Promise<Dataset> {
  const full = await loadDataset('mnist-mini');
  return {
    name: 'mnist-mini',
    shape: full.shape,
    train: { images: full.train.images.slice(0, count * D), count },
    test: { images: full.test.images.slice(0, 100 * D), count: 100 },
  };
}

/** A functional encoder with two outputs (mu, logvar) and a plain MLP decoder. */
function twoHeadNetworks(): { encoder: tf.LayersModel; decoder: tf.LayersModel } {
  const x = tf.input({ shape: [28, 28, 1] });
  const h = tf.layers
    .dense({ units: 32, activation: 'elu' })
    .apply(tf.layers.flatten().apply(x)) as tf.SymbolicTensor;
  const mu = tf.layers.dense({ units: L }).apply(h) as tf.SymbolicTensor;
  const logvar = tf.layers.dense({ units: L }).apply(h) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: x, outputs: [mu, logvar] });
  const decoder = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [L], units: 32, activation: 'elu' }),
      tf.layers.dense({ units: D }),
      tf.layers.reshape({ targetShape: [28, 28, 1] }),
    ],
  });
  return { encoder, decoder };
}

async function weightsOf(dir: string): Promise<Buffer[]> {
  const folder = await checkpointFolder(dir);
  return ['encoder', 'decoder'].map((part) => readFileSync(join(folder, part, 'weights.bin')));
}

const run = { latentDim: L, batchSize: 32, evalIw: 0, backend: 'wasm' as const, workers: 1 };

describe('networks of your own', () => {
  test('the contract is checked before anything trains, naming the network, the expected and the received shape', async () => {
    const data = await digits(64);
    const out = tempDir();
    const odd = ownNetworks();
    const badEncoder = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 7 })],
    });
    await assert.rejects(
      trainVae({ ...run, dataset: data, out, networks: { encoder: badEncoder, decoder: odd.decoder } }),
      /"networks\.encoder" must output \[N, 2·L\] \(mu then logvar\) or two outputs \[N, L\] \(mu, logvar\), got \[N, 7\]/,
    );
    const wrongInput = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [32, 32, 1] }), tf.layers.dense({ units: 2 * L })],
    });
    await assert.rejects(
      trainVae({ ...run, dataset: data, out, networks: { encoder: wrongInput, decoder: odd.decoder } }),
      /"networks\.encoder" must take one input of the data's shape \[N, 28, 28, 1\], got \[N, 32, 32, 1\]/,
    );
    const flatDecoder = tf.sequential({ layers: [tf.layers.dense({ inputShape: [L], units: D })] });
    await assert.rejects(
      trainVae({ ...run, dataset: data, out, networks: { encoder: odd.encoder, decoder: flatDecoder } }),
      /"networks\.decoder" must output one tensor of the data's shape \[N, 28, 28, 1\] .*got \[N, 784\]/,
    );
    const otherLatent = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: D }),
        tf.layers.reshape({ targetShape: [28, 28, 1] }),
      ],
    });
    assert.throws(
      () => checkNetworks({ encoder: odd.encoder, decoder: otherLatent }, [28, 28, 1]),
      /"networks\.decoder" must take one input \[N, 6\] \(the encoder gives L = 6\), got \[N, 3\]/,
    );
    await assert.rejects(
      trainVae({ ...run, dataset: data, out, networks: { encoder: odd.encoder } as never }),
      /"networks\.decoder" must be a tfjs-layers model taking \[N, L\] \(the latent code\), got nothing/,
    );
    await assert.rejects(
      trainVae({ ...run, dataset: data, out, latentDim: 4, networks: odd }),
      /"latentDim" is 4, but "networks\.decoder" takes codes of 6/,
    );
    await assert.rejects(
      trainVae({ ...run, dataset: data, out, workers: 2, networks: odd }),
      /"workers" must be 1 or "auto" with networks of your own/,
    );
  });

  test('BatchNormalization, LeakyReLU and Dropout train, resume bit for bit, export, and every runtime agrees within 1e-5', async () => {
    const data = await digits();
    const straight = tempDir();
    const result = await trainVae({
      ...run,
      dataset: data,
      out: straight,
      epochs: 2,
      networks: ownNetworks(),
    });
    assert.equal(result.card.arch, 'custom');
    assert.equal(result.card.latentDim, L);
    assert.deepEqual(result.card.networks?.encoder, [
      'Conv2D',
      'LeakyReLU',
      'Flatten',
      'Dense',
      'BatchNormalization',
      'LeakyReLU',
      'Dropout',
      'Dense',
    ]);
    assert.ok(result.history.every((h) => Number.isFinite(h.trainLoss)));
    assert.ok(
      (result.history[1]?.valNegElbo as number) < (result.history[0]?.valNegElbo as number) + 1,
      JSON.stringify(result.history),
    );

    // Resume with fresh networks of the same structure: the checkpoint's weights and the step's seeds carry on.
    const resumed = tempDir();
    await trainVae({ ...run, dataset: data, out: resumed, epochs: 1, networks: ownNetworks() });
    await trainVae({ ...run, dataset: data, out: resumed, epochs: 2, resume: true, networks: ownNetworks() });
    assert.deepEqual(await weightsOf(resumed), await weightsOf(straight));
    await assert.rejects(
      trainVae({ ...run, dataset: data, out: resumed, epochs: 3, resume: true, networks: twoHeadNetworks() }),
      /cannot resume .*networks/,
    );

    await exportVae(straight);
    const report = await runParity(straight, {
      batch: 4,
      seed: 3,
      runtimes: ['tfjs-cpu', 'tfjs-wasm', 'onnxruntime-node-cpu', 'onnxruntime-web-wasm-node'],
      tolerance: 1e-5,
    });
    assert.equal(report.reference, 'tfjs-cpu');
    assert.equal(report.ok, true, JSON.stringify(report.rows.filter((r) => r.ok !== true)));
    assert.ok(report.rows.filter((r) => r.ok === true).length >= 9);

    const model = await VaeModel.load(straight);
    try {
      const x = { data: data.test.images.slice(0, 3 * D), shape: [3, 28, 28, 1] };
      const scored = await model.score(x);
      assert.equal(scored.values.length, 3);
      assert.ok(Array.from(scored.values).every(Number.isFinite), String(scored.values));
      assert.equal(scored.percentiles?.length, 3, 'calibrated at training time');
    } finally {
      await model.dispose();
    }
  });

  test('trainInMemory takes a two-output encoder; its files export and agree with onnxruntime', async () => {
    await selectBackend('wasm');
    const data = await digits(128);
    const result = await trainInMemory(
      { images: data.train.images, shape: data.shape, test: { images: data.test.images }, name: 'digits' },
      { latentDim: L, batchSize: 32, evalIw: 0, epochs: 1, networks: twoHeadNetworks() },
    );
    assert.equal(result.card.arch, 'custom');
    const dir = tempDir();
    for (const [path, bytes] of Object.entries(result.files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    await exportVae(dir);
    const report = await runParity(dir, {
      batch: 3,
      seed: 1,
      runtimes: ['tfjs-cpu', 'onnxruntime-node-cpu', 'onnxruntime-web-wasm-node'],
      tolerance: 1e-5,
    });
    assert.equal(report.ok, true, JSON.stringify(report.rows.filter((r) => r.ok !== true)));
    result.networks.encoder.dispose();
    result.networks.decoder.dispose();
  });
});

describe('deeper built-ins', () => {
  test('an MLP of any depth: layer widths as asked, the parameter count the memory check uses', () => {
    const nets = buildMlpVae(
      { inputShape: [28, 28, 1], hiddenDim: 0, hidden: [64, 32, 16], latentDim: 5 },
      2,
    );
    const dense = (m: tf.LayersModel) =>
      m.layers.filter((l) => l.getClassName() === 'Dense').map((l) => (l.getConfig().units as number) ?? 0);
    assert.deepEqual(dense(nets.encoder), [64, 32, 16, 10]);
    assert.deepEqual(dense(nets.decoder), [16, 32, 64, D]);
    assert.equal(
      nets.encoder.countParams() + nets.decoder.countParams(),
      parameterCount({ kind: 'mlp', hidden: [64, 32, 16] }, [28, 28, 1], 5),
    );
    nets.encoder.dispose();
    nets.decoder.dispose();
  });

  test('a four-level conv stack on 64×64 halves the image four times and mirrors it back', () => {
    const filters = [32, 64, 128, 256];
    const nets = buildConvVae({ inputShape: [64, 64, 1], hiddenDim: 0, filters, latentDim: 10 }, 4);
    const convs = nets.encoder.layers.filter((l) => l.getClassName() === 'Conv2D');
    assert.deepEqual(
      convs.map((l) => l.outputShape),
      [
        [null, 32, 32, 32],
        [null, 16, 16, 64],
        [null, 8, 8, 128],
        [null, 4, 4, 256],
      ],
    );
    assert.deepEqual(nets.encoder.outputs[0]?.shape, [null, 20]);
    assert.deepEqual(nets.decoder.outputs[0]?.shape, [null, 64, 64, 1]);
    assert.equal(
      nets.encoder.countParams() + nets.decoder.countParams(),
      parameterCount({ kind: 'conv', filters }, [64, 64, 1], 10),
    );
    assert.throws(
      () => buildConvVae({ inputShape: [60, 60, 1], hiddenDim: 0, filters, latentDim: 10 }, 4),
      /H and W multiples of 16 \(2\^4 for 4 levels of filters\), got \[60,60,1\]/,
    );
    nets.encoder.dispose();
    nets.decoder.dispose();
  });

  test('vae train --hidden 64,32 trains the deep MLP on the hand gradient; the card records it; float64 parity holds', async () => {
    const data = await digits();
    const dir = tempDir();
    const result = await trainVae({
      ...run,
      latentDim: 4,
      dataset: data,
      out: dir,
      epochs: 1,
      hidden: [64, 32],
    });
    assert.equal(result.card.arch, 'mlp');
    assert.deepEqual(result.card.hidden, [64, 32]);
    assert.equal(result.card.hiddenDim, 64);
    await exportVae(dir);
    const report = await runParity(dir, {
      batch: 3,
      seed: 2,
      runtimes: ['tfjs-wasm', 'onnxruntime-node-cpu', 'onnxruntime-web-wasm-node'],
    });
    assert.equal(report.reference, 'float64');
    assert.equal(report.ok, true, JSON.stringify(report.rows.filter((r) => r.ok !== true)));
  });
});
