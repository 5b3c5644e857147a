/**
 * A data-parallel training worker: its own wasm backend and its own copy of the networks. Each step
 * it computes the gradient of its share of the batch into its shared slot; once every slot is
 * written, it runs Adam over its share of the parameters (averaging the slots on the way) in the
 * shared weights, and once every share is done it loads the new weights into its networks.
 * Adam runs once per parameter in all, not once per worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../../core/model-dir.js';
import { deriveSeed } from '../../core/random.js';
import { selectBackend } from '../backend.js';
import type { LikelihoodSpec } from '../elbo.js';
import { buildVae } from '../model.js';
import { flattenGradients, lossAndGrads, trainableVariables, wasmHeapView } from '../step.js';
import { adamKernel, adamViews, attachAdamMemory, gradientSlot } from './adam-wasm.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
const send = (message: FromWorker) => port.postMessage(message);

/** Waits until `control[slot]` reaches `target`. */
function barrier(control: Int32Array, slot: number, target: number): void {
  for (let v = Atomics.load(control, slot); v < target; v = Atomics.load(control, slot))
    Atomics.wait(control, slot, v);
}

async function start(): Promise<void> {
  await selectBackend('wasm');
  const shape = setup.inputShape;
  const nets = buildVae(
    setup.arch,
    { inputShape: shape, hiddenDim: setup.hiddenDim, latentDim: setup.latentDim },
    setup.seed,
  );
  const logVariance =
    setup.likelihood === 'gaussian'
      ? tf.variable(tf.scalar(setup.logVariance), setup.learnVariance)
      : undefined;
  const likelihood: LikelihoodSpec =
    logVariance === undefined
      ? { kind: 'bernoulli' }
      : { kind: 'gaussian', logVariance: logVariance as tf.Scalar };
  const variables = trainableVariables(nets, setup.learnVariance && logVariance ? [logVariance] : []);
  const sizes = variables.map((v) => v.size);
  const P = sizes.reduce((a, b) => a + b, 0);
  const D = sizeOf(shape);
  const W = setup.workers;
  const share = setup.batchSize / W;
  const images = new Float32Array(setup.images);
  const control = new Int32Array(setup.control);
  const rows = new Uint32Array(setup.rows);
  const params = new Float64Array(setup.stepParams);
  const losses = new Float64Array(setup.losses);
  const memory = attachAdamMemory(setup.adam, P, W);
  const slot = gradientSlot(memory, setup.index);
  const { weights } = adamViews(memory);
  const adam = adamKernel(memory);
  const batch = new Float32Array(share * D);
  // This worker's share of the parameters for the update, on 16-byte boundaries for the SIMD lanes.
  const boundary = (i: number) => (i === W ? P : 4 * Math.floor((i * P) / W / 4));
  const lo = boundary(setup.index);
  const hi = boundary(setup.index + 1);

  const loadWeights = () => {
    let offset = 0;
    variables.forEach((variable, k) => {
      const n = sizes[k] as number;
      tf.tidy(() => variable.assign(tf.tensor(weights.subarray(offset, offset + n), variable.shape)));
      offset += n;
    });
  };

  const step = () => {
    const first = setup.index * share;
    for (let i = 0; i < share; i++) {
      const row = rows[first + i] as number;
      batch.set(images.subarray(row * D, (row + 1) * D), i * D);
    }
    const [seed = 0, beta = 1, t = 1] = params;
    tf.tidy(() => {
      const x = tf.tensor(batch, [share, ...shape]);
      const eps = tf.randomNormal(
        [share, setup.latentDim],
        0,
        1,
        'float32',
        deriveSeed(seed, setup.index),
      ) as tf.Tensor2D;
      const r = lossAndGrads(nets, variables, x, eps, { likelihood, beta, freeBits: setup.freeBits });
      flattenGradients(r.grads, variables, slot, 0, wasmHeapView);
      losses[2 * setup.index] = r.objective.dataSync()[0] as number;
      losses[2 * setup.index + 1] = r.negElbo.dataSync()[0] as number;
    });
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    barrier(control, 0, W);
    // Adam over this worker's share, with the gradient averaged over the slots in a fixed order.
    adam(lo, hi, setup.learningRate, t);
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
    barrier(control, 1, W);
    loadWeights();
    send({ type: 'stepped' });
  };

  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.type === 'step') step();
      else {
        loadWeights();
        send({ type: 'weights-loaded' });
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  });
  loadWeights();
  send({ type: 'ready', parameters: P });
}

start().catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
