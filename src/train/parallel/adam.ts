import * as tf from '@tensorflow/tfjs';

/** Parameters and Adam state, each laid out as all variables end to end; `t` is the number of steps taken. */
export interface SharedState {
  weights: Float32Array;
  firstMoment: Float32Array;
  secondMoment: Float32Array;
  t: number;
}

/**
 * Adam's constants, as tf.train.adam uses them by default (epsilon is the float32 backend's 1e-7), so
 * that the workers' shared-memory Adam and tfjs's own follow the same rule:
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; w ← w − lr·(m / (1−β1^t)) / (√(v / (1−β2^t)) + ε).
 */
export const ADAM = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });

/** All variables' values end to end, in order (read asynchronously, as GPU backends prefer). */
export async function flattenVariables(variables: readonly tf.Variable[]): Promise<Float32Array> {
  const values = await Promise.all(variables.map((v) => v.data()));
  const out = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
  let offset = 0;
  for (const v of values) {
    out.set(v as Float32Array, offset);
    offset += v.length;
  }
  return out;
}

/** Sets every variable from a flat array laid out as `flattenVariables` makes it. */
export function assignFlat(variables: readonly tf.Variable[], flat: Float32Array): void {
  let offset = 0;
  for (const v of variables) {
    const n = v.size;
    tf.tidy(() => v.assign(tf.tensor(flat.subarray(offset, offset + n), v.shape)));
    offset += n;
  }
}

/**
 * Shared-memory Adam state from tf.train.adam's saved weights ([iterations, first moments…, second
 * moments…], one moment per variable in order), or a fresh state when there are none.
 */
export async function sharedStateFrom(
  variables: readonly tf.Variable[],
  adamWeights?: readonly { name: string; tensor: tf.Tensor }[],
): Promise<SharedState> {
  const weights = await flattenVariables(variables);
  const state: SharedState = {
    weights,
    firstMoment: new Float32Array(weights.length),
    secondMoment: new Float32Array(weights.length),
    t: 0,
  };
  if (!adamWeights) return state;
  const k = variables.length;
  if (adamWeights.length !== 1 + 2 * k) {
    throw new Error(
      `cannot restore Adam: expected ${1 + 2 * k} saved tensors for ${k} variables, got ${adamWeights.length}`,
    );
  }
  const saved = (await Promise.all(adamWeights.map((w) => w.tensor.data()))) as Float32Array[];
  state.t = saved[0]?.[0] as number;
  let offset = 0;
  variables.forEach((v, i) => {
    state.firstMoment.set(saved[1 + i] as Float32Array, offset);
    state.secondMoment.set(saved[1 + k + i] as Float32Array, offset);
    offset += v.size;
  });
  return state;
}

/** The shared Adam state in tf.train.adam's own saved layout, so either trainer can resume it. */
export function adamWeightsFrom(
  variables: readonly tf.Variable[],
  state: SharedState,
): { name: string; tensor: tf.Tensor }[] {
  const part = (flat: Float32Array, suffix: string) => {
    let offset = 0;
    return variables.map((v) => {
      const tensor = tf.tensor(flat.slice(offset, offset + v.size), v.shape);
      offset += v.size;
      return { name: `${v.name}/${suffix}`, tensor };
    });
  };
  return [
    { name: 'iter', tensor: tf.scalar(state.t, 'int32') },
    ...part(state.firstMoment, 'm'),
    ...part(state.secondMoment, 'v'),
  ];
}
