/** Small emitters shared by converters: one node with the naming conventions of the exporter. */
import type { GraphBuilder, Value } from './graph-builder.js';
import { type AttributeValue, attr, type Dim } from './onnx-builder.js';

/** One node with one output named `name` (made unique) of shape `shape`. */
export function op(
  g: GraphBuilder,
  opType: string,
  inputs: readonly string[],
  name: string,
  shape: Dim[] = [],
  attributes: Record<string, AttributeValue> = {},
  minOpset?: number,
  type?: number,
): Value {
  return g.node(opType, inputs, [{ name, shape, ...(type === undefined ? {} : { type }) }], {
    name: `${name}/${opType}`,
    attributes,
    ...(minOpset === undefined ? {} : { minOpset }),
  })[0] as Value;
}

/**
 * A reduction over `axes`. ReduceSum takes its axes as an input from opset 13, the other reductions
 * from opset 18; before that they are an attribute.
 */
export function reduce(
  g: GraphBuilder,
  opType: 'ReduceMean' | 'ReduceMax' | 'ReduceSum' | 'ReduceMin',
  x: Value,
  axes: readonly number[],
  keepdims: boolean,
  name: string,
  shape: Dim[] = [],
): Value {
  const axesAsInput = opType === 'ReduceSum' || g.opset >= 18;
  if (axesAsInput) {
    const a = g.int64s(`${name}/axes`, axes);
    return op(g, opType, [x.name, a], name, shape, { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  return op(g, opType, [x.name], name, shape, {
    axes: attr.ints(axes),
    keepdims: attr.int(keepdims ? 1 : 0),
  });
}

/** A float32 scalar initializer. */
export function scalar(g: GraphBuilder, name: string, value: number): string {
  return g.constant(name, [], new Float32Array([value]));
}

/** The shape after dropping `axes` (or keeping them as 1). */
export function reducedShape(shape: readonly Dim[], axes: readonly number[], keepdims: boolean): Dim[] {
  const rank = shape.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  return shape.flatMap((d, i) => (norm.includes(i) ? (keepdims ? [1] : []) : [d]));
}
