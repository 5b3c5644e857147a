import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withSeededMathRandom } from '../core/random.js';
import { isSeedMlp, mlpLossAndGrads } from './mlp-grad.js';
import type { VaeNetworks } from './model.js';
import { applyForTraining, splitMoments } from './model.js';
import { batchObjective, type ObjectiveSettings } from './objective.js';

/** The objective of one batch, its plain negative ELBO, and the gradient of the objective per variable. */
export interface StepResult {
  objective: tf.Scalar;
  negElbo: tf.Scalar;
  /** Gradients keyed by variable name, in the order of `variables`. */
  grads: tf.NamedTensorMap;
}

/** Whether each network pair is the seed's MLP, decided once per pair. */
const seedMlp = new WeakMap<VaeNetworks, boolean>();

/**
 * Runs the VAE forward on a batch with noise `eps` and differentiates the objective with respect to
 * `variables`: by hand for the seed's MLP (mlp-grad.ts, about twice as fast on wasm), else with
 * tfjs's autodiff. The caller owns the returned tensors (call inside tf.tidy).
 */
export function lossAndGrads(
  nets: VaeNetworks,
  variables: tf.Variable[],
  x: tf.Tensor,
  eps: tf.Tensor2D,
  settings: ObjectiveSettings,
): StepResult {
  let mlp = seedMlp.get(nets);
  if (mlp === undefined) {
    mlp = isSeedMlp(nets);
    seedMlp.set(nets, mlp);
  }
  return mlp
    ? mlpLossAndGrads(variables, x, eps, settings)
    : autodiffLossAndGrads(nets, variables, x, eps, settings);
}

/** The objective and its gradient by tfjs's autodiff (any architecture). */
export function autodiffLossAndGrads(
  nets: VaeNetworks,
  variables: tf.Variable[],
  x: tf.Tensor,
  eps: tf.Tensor2D,
  settings: ObjectiveSettings,
): StepResult {
  let negElbo: tf.Scalar | undefined;
  const forward = () =>
    tf.variableGrads(() => {
      const { mu, logvar } = splitMoments(applyForTraining(nets.encoder, x, true));
      const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
      const decoded = applyForTraining(nets.decoder, z, false) as tf.Tensor;
      const terms = batchObjective(x, decoded, mu, logvar, settings);
      // Kept past variableGrads, which disposes of what its function made; the caller disposes of it.
      negElbo = tf.keep(terms.negElbo as tf.Scalar);
      return terms.objective;
    }, variables);
  const { value, grads } =
    settings.randomSeed === undefined ? forward() : withSeededMathRandom(settings.randomSeed, forward);
  return { objective: value, negElbo: negElbo as tf.Scalar, grads };
}

/** The trainable variables of a VAE in a fixed order (encoder, decoder, then extras such as a learned variance). */
export function trainableVariables(nets: VaeNetworks, extra: tf.Variable[] = []): tf.Variable[] {
  return [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights]
    .map((w) => w.read() as tf.Variable)
    .concat(extra);
}

/** A step's two losses, read back from the backend. */
export interface StepLosses {
  objective: number;
  negElbo: number;
}

/**
 * Reads a step's losses and copies its gradients, in the order of `variables`, into `out` from
 * `offset`; then disposes of the step's tensors. The reads are asynchronous: a GPU backend
 * (webgpu, webgl) then downloads without stalling, and webgpu's synchronous read, which needs a
 * canvas and fails on some devices, is never used.
 */
export async function readStep(
  r: StepResult,
  variables: readonly tf.Variable[],
  out: Float32Array,
  offset = 0,
): Promise<StepLosses> {
  try {
    const [objective, negElbo, ...grads] = await Promise.all([
      r.objective.data(),
      r.negElbo.data(),
      ...variables.map((v) => (r.grads[v.name] as tf.Tensor).data()),
    ]);
    let at = offset;
    for (const g of grads) {
      out.set(g as Float32Array, at);
      at += g.length;
    }
    return { objective: objective[0] as number, negElbo: negElbo[0] as number };
  } finally {
    tf.dispose([r.objective, r.negElbo, ...Object.values(r.grads)]);
  }
}

/**
 * Copies every gradient, in the order of `variables`, into one flat array. `read` gives a tensor's
 * values; by default `dataSync()`, which copies them out of the backend first. On the wasm backend,
 * `wasmHeapView` reads them in place, saving that copy.
 */
export function flattenGradients(
  grads: tf.NamedTensorMap,
  variables: readonly tf.Variable[],
  out: Float32Array,
  offset = 0,
  read: (t: tf.Tensor) => Float32Array = (t) => t.dataSync() as Float32Array,
): void {
  let at = offset;
  for (const v of variables) {
    const g = read(grads[v.name] as tf.Tensor);
    out.set(g, at);
    at += g.length;
  }
}

/**
 * A view of a float32 tensor's values inside the wasm backend's memory (no copy), valid until the
 * next tfjs operation may grow that memory. Only for the wasm backend.
 */
export function wasmHeapView(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as BackendWasm;
  return backend.typedArrayFromHeap(t) as Float32Array;
}
