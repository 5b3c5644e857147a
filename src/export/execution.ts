/**
 * How tfjs `predict` walks a layers model, reproduced for the exporter: the order in which it calls
 * layers, and the masks that travel with tensors (from Masking and Embedding with maskZero) to the
 * layers that read them (recurrent layers, Bidirectional, the Softmax layer).
 *
 * tfjs's executor keeps one keyword-argument object for the whole walk: once a layer's input carries
 * a mask, every later layer is called with that mask until another masked input replaces it (a
 * recurrent layer reading an unmasked sequence after a masked one still applies the old mask). The
 * exporter reproduces that, so the ONNX graph computes what `predict` computes. Facts from
 * tfjs-layers 4.22's engine/executor.js.
 */
import type * as tf from '@tensorflow/tfjs';
import { ExportError } from './errors.js';
import type { GraphBuilder, Value } from './graph-builder.js';
import { attr, DataType } from './onnx-builder.js';
import { op, reduce, scalar } from './ops.js';

/** What tfjs passes every layer call as `kwargs`: shared by the walk once a mask appears. */
export interface CallState {
  /** Undefined until a layer's input carries a mask (tfjs creates the object then). */
  kwargs: { mask: Value | null } | undefined;
}

/**
 * The symbolic tensors of a model in the order tfjs's executor computes them for `outputs`: a
 * depth-first walk from each output in turn, inputs before the tensors made from them, the
 * outputs' walks merged without repeats.
 */
export function executionOrder(
  outputs: readonly tf.SymbolicTensor[],
  fed: ReadonlySet<string>,
): tf.SymbolicTensor[] {
  const order: tf.SymbolicTensor[] = [];
  const seen = new Set<string>();
  for (const fetch of outputs) {
    const visited = new Set<string>(fed);
    const stack: tf.SymbolicTensor[] = [fetch];
    const marks: number[] = [];
    const sorted: tf.SymbolicTensor[] = [];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as tf.SymbolicTensor;
      if (visited.has(top.name)) {
        stack.pop();
        continue;
      }
      const marked = marks[marks.length - 1] === stack.length - 1;
      if (top.inputs.length === 0 || marked) {
        stack.pop();
        sorted.push(top);
        visited.add(top.name);
        if (marked) marks.pop();
      } else {
        marks.push(stack.length - 1);
        for (const input of top.inputs) if (!visited.has(input.name)) stack.push(input);
      }
    }
    for (const t of sorted) {
      if (!seen.has(t.name)) {
        seen.add(t.name);
        order.push(t);
      }
    }
  }
  return order;
}

/** Layer classes whose `call` reads the mask tfjs passes it. */
export const MASK_READERS: ReadonlySet<string> = new Set([
  'RNN',
  'SimpleRNN',
  'GRU',
  'LSTM',
  'ConvLSTM2D',
  'Bidirectional',
  'Softmax',
]);

/**
 * The mask tfjs's `computeMask` gives a layer's outputs, as a float 0/1 tensor, or null. Only called
 * for layers with `supportsMasking`; the classes that override tfjs's default (carry the first
 * input's mask) are reproduced here.
 */
export function computeOutputMask(
  g: GraphBuilder,
  layer: tf.layers.Layer,
  className: string,
  inputs: readonly Value[],
  masks: readonly (Value | null)[],
): Value | null {
  const config = layer.getConfig() as Record<string, unknown>;
  const name = `${layer.name}/mask`;
  const x = inputs[0] as Value;
  switch (className) {
    case 'Masking':
      return anyNotEqual(g, x, Number(config.maskValue ?? 0), name);
    case 'Embedding':
      return notEqualMask(g, x, 0, name, x.shape);
    case 'RNN':
    case 'SimpleRNN':
    case 'GRU':
    case 'LSTM':
    case 'ConvLSTM2D':
    case 'Bidirectional':
      return config.returnSequences === true ? (masks[0] ?? null) : null;
    case 'Dot':
      return null;
    case 'Concatenate':
      return concatenateMask(g, layer, inputs, masks, name);
    case 'Add':
    case 'Average':
    case 'Maximum':
    case 'Minimum':
    case 'Multiply':
      return mergeMask(g, layer, masks, name);
    default:
      return masks[0] ?? null;
  }
}

/** 1 where x differs from `value`, as float32 (tfjs's notEqual, cast). */
function notEqualMask(g: GraphBuilder, x: Value, value: number, name: string, shape: Value['shape']): Value {
  const equal = op(
    g,
    'Equal',
    [x.name, scalar(g, `${name}/value`, value)],
    `${name}/equal`,
    shape,
    {},
    undefined,
    DataType.BOOL,
  );
  const not = op(g, 'Not', [equal.name], `${name}/not`, shape, {}, undefined, DataType.BOOL);
  return op(g, 'Cast', [not.name], name, shape, { to: attr.int(DataType.FLOAT) });
}

/** Masking's mask: any(x ≠ value) over the last axis. */
function anyNotEqual(g: GraphBuilder, x: Value, value: number, name: string): Value {
  const differs = notEqualMask(g, x, value, `${name}/differs`, x.shape);
  return reduce(g, 'ReduceMax', differs, [x.shape.length - 1], false, name, x.shape.slice(0, -1));
}

/**
 * Concatenate's mask: the masks (all-ones for unmasked inputs) concatenated on the layer's axis, then
 * all() over the last axis. For the usual case (masks one rank below their inputs, concatenation
 * on the feature axis) that is the AND of the masks; other layouts are refused.
 */
function concatenateMask(
  g: GraphBuilder,
  layer: tf.layers.Layer,
  inputs: readonly Value[],
  masks: readonly (Value | null)[],
  name: string,
): Value | null {
  const present = masks.filter((m): m is Value => m !== null);
  if (present.length === 0) return null;
  const rank = (inputs[0] as Value).shape.length;
  const axis = Number((layer.getConfig() as { axis?: number }).axis ?? -1);
  const lastAxis = axis === -1 || axis === rank - 1;
  if (!lastAxis || present.some((m) => m.shape.length !== rank - 1)) {
    throw new ExportError(
      `cannot export Concatenate layer "${layer.name}": it concatenates masked inputs on axis ${axis}; only masks of sequences concatenated on the last axis are supported`,
    );
  }
  let acc = present[0] as Value;
  present.slice(1).forEach((m, i) => {
    acc = op(g, 'Mul', [acc.name, m.name], i === present.length - 2 ? name : `${name}/and${i}`, acc.shape);
  });
  return acc;
}

/**
 * The element-wise merge layers' mask, as tfjs 4.22 computes it: the first input's mask with a
 * leading axis added (so [1, N, T]), AND the masks of the inputs between the first and the last.
 * A recurrent layer cannot read a mask of that rank (tfjs's own predict fails on it); the exporter
 * refuses where one would.
 */
function mergeMask(
  g: GraphBuilder,
  layer: tf.layers.Layer,
  masks: readonly (Value | null)[],
  name: string,
): Value | null {
  if (masks.every((m) => m === null)) return null;
  const first = masks[0];
  if (first === null || first === undefined) {
    if (masks.length > 2) {
      throw new ExportError(
        `cannot export ${layer.getClassName()} layer "${layer.name}": its first input has no mask while others do, which tfjs's own predict cannot compute`,
      );
    }
    return null;
  }
  let acc = op(g, 'Unsqueeze', [first.name, g.int64s(`${name}/axes`, [0])], `${name}/expanded`, [
    1,
    ...first.shape,
  ]);
  masks.slice(1, -1).forEach((m, i) => {
    if (m === null) {
      throw new ExportError(
        `cannot export ${layer.getClassName()} layer "${layer.name}": input ${i + 1} has no mask while the first has one, which tfjs's own predict cannot compute`,
      );
    }
    const expanded = op(
      g,
      'Unsqueeze',
      [m.name, g.int64s(`${name}/axes${i + 1}`, [0])],
      `${name}/expanded${i + 1}`,
      [1, ...m.shape],
    );
    acc = op(g, 'Mul', [acc.name, expanded.name], `${name}/and${i + 1}`, acc.shape);
  });
  return acc;
}

/**
 * The mask a recurrent layer reads, checked: float 0/1 of shape [N, T] for a sequence [N, T, …].
 * @throws ExportError for a mask of another rank (tfjs cannot apply those either).
 */
export function sequenceMask(mask: Value | null | undefined, x: Value, layerName: string): Value | null {
  if (mask === null || mask === undefined) return null;
  if (mask.shape.length !== 2) {
    throw new ExportError(
      `cannot export layer "${layerName}": it receives a mask of rank ${mask.shape.length} ([${mask.shape.join(', ')}]) for an input of shape [${x.shape.join(', ')}]; only a mask per sequence step ([N, T]) is supported, and tfjs's own predict does not apply other ranks either`,
    );
  }
  const [, t] = mask.shape;
  const [, steps] = x.shape;
  if (typeof t === 'number' && typeof steps === 'number' && t !== steps) {
    throw new ExportError(
      `cannot export layer "${layerName}": tfjs passes it a mask of ${t} steps (left by an earlier masked layer) for a sequence of ${steps} steps, which tfjs's own predict cannot compute`,
    );
  }
  return mask;
}
