import type { GraphBuilder, Value } from './graph-builder.js';
import type { Dim } from './onnx-builder.js';

/** NHWC → NCHW and back, for rank-4 image tensors. */
export const TO_NCHW = Object.freeze([0, 3, 1, 2]);
export const TO_NHWC = Object.freeze([0, 2, 3, 1]);

function permuted(shape: readonly Dim[], perm: readonly number[]): Dim[] {
  return shape.length === perm.length ? perm.map((p) => shape[p] ?? null) : [];
}

/**
 * A Transpose node, unless `x` was itself made by the inverse Transpose: then that node's input is
 * returned and no node is added, so conv stacks stay in NCHW between layers.
 */
export function transpose(g: GraphBuilder, x: Value, perm: readonly number[], name: string): Value {
  const source = g.inverseTransposeSource(x.name, perm);
  if (source !== undefined) return source;
  return g.node('Transpose', [x.name], [{ name, shape: permuted(x.shape, perm) }], {
    name: `${name}/Transpose`,
    attributes: { perm: { ints: perm } },
  })[0] as Value;
}

/**
 * Applies an element-wise function (an activation) where it keeps conv stacks channels-first: when
 * `x` is a Transpose's output, `f` runs on the Transpose's input and the Transpose moves after it,
 * where the next layer can cancel it. Otherwise `f` runs on `x`.
 */
export function elementwise(
  g: GraphBuilder,
  x: Value,
  name: string,
  f: (input: Value, outName: string) => Value,
): Value {
  const made = g.transposeOf(x.name);
  if (!made) return f(x, name);
  const y = f(made.source, `${name}/channels_first`);
  if (y.name === made.source.name) return x;
  return transpose(g, y, made.perm, name);
}
