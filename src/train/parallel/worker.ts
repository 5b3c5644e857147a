/**
 * A data-parallel training worker: its own wasm backend and its own copy of the networks. Each step
 * it computes the gradient of its share of the batch into its shared slot; once every slot is
 * written, it runs Adam over its share of the parameters (averaging the slots on the way) in the
 * shared weights, and once every share is done it loads the new weights into its networks.
 * Adam runs once per parameter in all, not once per worker. Steps arrive through shared memory
 * (protocol.ts): the thread blocks between them and starts the next one as soon as it is posted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../../core/model-dir.js';
import { deriveSeed } from '../../core/random.js';
import { selectBackend } from '../backend.js';
import type { LikelihoodSpec } from '../elbo.js';
import { networksOf } from '../model.js';
import { flattenGradients, lossAndGrads, trainableVariables, wasmHeapView } from '../step.js';
import { adamKernel, adamViews, attachAdamMemory, gradientSlot } from './adam-wasm.js';
import { CONTROL, type FromWorker, STEP_SLOTS, type WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
const send = (message: FromWorker) => port.postMessage(message);

/**
 * How long a worker spins (Atomics.load in a loop) before it blocks in Atomics.wait at a barrier or
 * between steps. A blocked thread lets its virtual CPU halt, and waking it again takes time that
 * lands on every step: a step of the MLP 784-512-256-20 is ~20 ms, and its barriers waited 1–2 ms.
 * Spinning for up to 1 ms (OpenMP's threads do the same) measured here on full epochs of it:
 * 5,379 examples/s on average over six against 4,877 over three without (the runs vary ±10 %); the
 * one-hidden-layer MLP, whose steps are shorter, was the same either way.
 */
const SPIN_MS = 1;

/**
 * Waits until `done(control[slot])`, first spinning for up to SPIN_MS, then blocked; returns the
 * value that ended the wait.
 */
function waitUntil(control: Int32Array, slot: number, done: (value: number) => boolean): number {
  let v = Atomics.load(control, slot);
  for (const until = performance.now() + SPIN_MS; !done(v) && performance.now() < until; )
    for (let i = 0; i < 1000 && !done(v); i++) v = Atomics.load(control, slot);
  while (!done(v)) {
    Atomics.wait(control, slot, v);
    v = Atomics.load(control, slot);
  }
  return v;
}

/** Adds this worker to the counter `control[slot]`, then waits until it reaches `target`. */
function arrive(control: Int32Array, slot: number, target: number): void {
  Atomics.add(control, slot, 1);
  Atomics.notify(control, slot);
  waitUntil(control, slot, (v) => v >= target);
}

async function start(): Promise<void> {
  await selectBackend('wasm');
  const shape = setup.inputShape;
  const nets = networksOf(setup.architecture, shape, setup.latentDim, setup.seed);
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
  const gradient = gradientSlot(memory, setup.index);
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

  /** Runs step k (1-based) of this pool from its slot; returns once the new weights are loaded. */
  const step = (k: number) => {
    const slot = (k - 1) % STEP_SLOTS;
    const first = slot * setup.batchSize + setup.index * share;
    for (let i = 0; i < share; i++) {
      const row = rows[first + i] as number;
      batch.set(images.subarray(row * D, (row + 1) * D), i * D);
    }
    const [seed = 0, beta = 1, t = 1] = params.subarray(3 * slot, 3 * slot + 3);
    const out = 2 * (slot * W + setup.index);
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
      flattenGradients(r.grads, variables, gradient, 0, wasmHeapView);
      losses[out] = r.objective.dataSync()[0] as number;
      losses[out + 1] = r.negElbo.dataSync()[0] as number;
    });
    arrive(control, CONTROL.GRADIENTS, W * k);
    // Adam over this worker's share, with the gradient averaged over the slots in a fixed order.
    adam(lo, hi, setup.learningRate, t);
    arrive(control, CONTROL.UPDATED, W * k);
    loadWeights();
    Atomics.add(control, CONTROL.DONE, 1);
    Atomics.notify(control, CONTROL.DONE);
  };

  loadWeights();
  send({ type: 'ready', parameters: P });
  // Run the steps as they are posted, until the coordinator posts −1. The thread blocks in
  // Atomics.wait between steps; it needs no messages.
  for (let k = 1; ; k++) {
    // −1 (stop) ends the wait too.
    const posted = waitUntil(control, CONTROL.POSTED, (v) => v < 0 || v >= k);
    if (posted < 0) return;
    step(k);
  }
}

start().catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
