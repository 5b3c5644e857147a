import type { GraphBuilder, Value } from './graph-builder.js';
import type { Dim } from './onnx-builder.js';

/** NHWC → NCHW and back, for rank-4 image tensors. */
export const TO_NCHW = Object.freeze([0, 3, 1, 2]);
export const TO_NHWC = Object.freeze([0, 2, 3, 1]);
/** tfjs conv kernels [kh, kw, in, out] (and transposed-conv kernels [kh, kw, out, in]) to ONNX's [out, in, kh, kw] ([in, out, kh, kw]). */
export const HWIO_TO_OIHW = Object.freeze([3, 2, 0, 1]);

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

/**
 * A row-major array of shape `dims` with its axes permuted (output axis i is input axis perm[i]):
 * how tfjs's kernel layouts become ONNX's (HWIO → OIHW is [3, 2, 0, 1]).
 */
export function permuteArray(
  data: Float32Array,
  dims: readonly number[],
  perm: readonly number[],
): Float32Array {
  const rank = dims.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let a = rank - 2; a >= 0; a--) inStrides[a] = (inStrides[a + 1] as number) * (dims[a + 1] as number);
  const outDims = perm.map((p) => dims[p] as number);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += (index[a] as number) * (inStrides[perm[a] as number] as number);
    out[o] = data[src] as number;
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = (index[a] as number) + 1;
      if ((index[a] as number) < (outDims[a] as number)) break;
      index[a] = 0;
    }
  }
  return out;
}
