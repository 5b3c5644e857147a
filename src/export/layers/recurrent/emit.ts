/**
 * Runs recurrent cells over a sequence in ONNX, two ways:
 *
 * - **native**: ONNX's RNN, GRU and LSTM operators, one per cell. They compute what tfjs computes
 *   when every activation is one the operators name (tanh, sigmoid, hardSigmoid with tfjs's 0.2 and
 *   0.5, relu, elu, softsign, softplus) and no mask is involved; GRU with linear_before_reset = 0 is
 *   tfjs's GRU (reset before the recurrent product, the only variant tfjs runs).
 * - **scan**: a Scan over the time axis whose body is the cell's step written out as tfjs writes it.
 *   Used where the operators cannot say what tfjs does: masked steps (tfjs keeps the previous output
 *   and state at a masked step, wherever it sits; the operators only know trailing padding, and pad
 *   outputs with zeros), activations the operators lack (selu, relu6, swish, gelu, mish, softmax,
 *   linear), and ConvLSTM2D (ONNX has no convolutional LSTM).
 *
 * Both take the input batch-major [N, T, …] and return batch-major outputs, so callers need not
 * care which was used.
 */
import { emitActivation } from '../../activations.js';
import { ExportError } from '../../errors.js';
import type { GraphBuilder, Value } from '../../graph-builder.js';
import { HWIO_TO_OIHW, permuteArray } from '../../layout.js';
import { attr, DataType, type Dim } from '../../onnx-builder.js';
import { op, scalar } from '../../ops.js';
import { samePadding } from '../conv2d.js';
import { type Cell, GATES, stateCount } from './cells.js';

/** ONNX names of the activations the RNN operators can apply, with defaults equal to tfjs's. */
const NATIVE_ACTIVATIONS: Readonly<Record<string, string>> = Object.freeze({
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  hardSigmoid: 'HardSigmoid',
  relu: 'Relu',
  elu: 'Elu',
  softsign: 'Softsign',
  softplus: 'Softplus',
});

/** What a run of cells over a sequence gives back, batch-major. */
export interface SequenceRun {
  /** The output at every step, [N, T, units] (in the order the steps were taken). */
  sequence: Value;
  /** The output of the last step taken, [N, units]. */
  last: Value;
  /** The final states in tfjs's order (a stack: last cell's first). */
  states: Value[];
}

/** How a recurrent layer runs: its cells, direction, initial states and mask. */
export interface RunOptions {
  name: string;
  cells: readonly Cell[];
  /** Process the sequence from its end (tfjs's goBackwards): outputs come in processing order. */
  backwards: boolean;
  /** Initial states in tfjs's order, or undefined for zeros. */
  initial?: readonly Value[];
  /** Float 0/1 per step, [N, T]. */
  mask?: Value | null;
  /** Whether the per-step sequence is needed (returnSequences). */
  needSequence: boolean;
}

/** Whether the ONNX operators compute these cells exactly as tfjs does. */
export function nativeCanRun(cells: readonly Cell[], mask: Value | null | undefined): boolean {
  if (mask) return false;
  return cells.every(
    (c) =>
      c.kind !== 'convlstm' &&
      NATIVE_ACTIVATIONS[c.activation] !== undefined &&
      (c.kind === 'simple' || NATIVE_ACTIVATIONS[c.recurrentActivation] !== undefined),
  );
}

/** Runs the cells over x [N, T, …] with whichever of the two ways computes tfjs's result. */
export function runCells(g: GraphBuilder, x: Value, o: RunOptions): SequenceRun {
  return nativeCanRun(o.cells, o.mask) ? runNative(g, x, o) : runScan(g, x, o);
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

const unsqueeze = (g: GraphBuilder, x: Value, axes: number[], name: string, shape: Dim[]) =>
  op(g, 'Unsqueeze', [x.name, g.int64s(`${name}/axes`, axes)], name, shape);
const squeeze = (g: GraphBuilder, x: Value, axes: number[], name: string, shape: Dim[]) =>
  op(g, 'Squeeze', [x.name, g.int64s(`${name}/axes`, axes)], name, shape);

/** x with its axis `axis` reversed (a Slice with step −1; the length may be unknown). */
export function reverseAxis(g: GraphBuilder, x: Value, axis: number, name: string): Value {
  return op(
    g,
    'Slice',
    [
      x.name,
      g.int64s(`${name}/starts`, [-1]),
      g.int64s(`${name}/ends`, [Number.MIN_SAFE_INTEGER]),
      g.int64s(`${name}/axes`, [axis]),
      g.int64s(`${name}/steps`, [-1]),
    ],
    name,
    x.shape,
  );
}

/**
 * A [rows, G·u] matrix (tfjs's layout, gates along the columns) as ONNX's [G·u, rows], with the
 * gates reordered: output gate g is tfjs gate order[g].
 */
function gateRows(w: Float32Array, rows: number, units: number, order: readonly number[]): Float32Array {
  const gates = order.length;
  const cols = gates * units;
  const out = new Float32Array(cols * rows);
  for (let g = 0; g < gates; g++) {
    const src = (order[g] as number) * units;
    for (let j = 0; j < units; j++) {
      const row = (g * units + j) * rows;
      for (let k = 0; k < rows; k++) out[row + k] = w[k * cols + src + j] as number;
    }
  }
  return out;
}

/** ONNX's gate order as indices of tfjs's: LSTM i, o, f, c from tfjs's i, f, c, o; GRU z, r, h as is. */
const ONNX_GATE_ORDER: Readonly<Record<'simple' | 'gru' | 'lstm', readonly number[]>> = Object.freeze({
  simple: [0],
  gru: [0, 1, 2],
  lstm: [0, 3, 1, 2],
});

/** A float32 [N, …dims] of zeros, N taken from x's first axis. */
function batchZeros(g: GraphBuilder, x: Value, dims: readonly number[], name: string): Value {
  const shape = op(g, 'Shape', [x.name], `${name}/shape`, [x.shape.length], {}, undefined, DataType.INT64);
  const n = op(
    g,
    'Slice',
    [shape.name, g.int64s(`${name}/zero`, [0]), g.int64s(`${name}/one`, [1])],
    `${name}/batch`,
    [1],
    {},
    undefined,
    DataType.INT64,
  );
  const full = op(
    g,
    'Concat',
    [n.name, g.int64s(`${name}/dims`, dims)],
    `${name}/full_shape`,
    [1 + dims.length],
    { axis: attr.int(0) },
    undefined,
    DataType.INT64,
  );
  return op(g, 'ConstantOfShape', [full.name], name, [x.shape[0] ?? null, ...dims], {
    value: attr.tensor({ dims: [1], dataType: DataType.FLOAT, floatData: [0] }),
  });
}

// ---------------------------------------------------------------------------------------------
// Native: ONNX RNN / GRU / LSTM

function runNative(g: GraphBuilder, x: Value, o: RunOptions): SequenceRun {
  const [n, t] = x.shape;
  let input = op(
    g,
    'Transpose',
    [x.name],
    `${o.name}/time_major`,
    [t ?? null, n ?? null, x.shape[2] ?? null],
    {
      perm: attr.ints([1, 0, 2]),
    },
  );
  // tfjs's state order is the stack reversed; index the given initial states per cell.
  const perCell: Value[][] = [];
  let k = 0;
  for (const cell of [...o.cells].reverse()) {
    const count = stateCount(cell);
    perCell.unshift(o.initial ? o.initial.slice(k, k + count) : []);
    k += count;
  }
  const finals: Value[][] = [];
  o.cells.forEach((cell, i) => {
    const { y, states } = nativeCell(g, cell, input, perCell[i] ?? [], o.backwards);
    input = y;
    finals.push(states);
  });
  let sequence = op(
    g,
    'Transpose',
    [input.name],
    `${o.name}/sequence_forward`,
    [n ?? null, t ?? null, o.cells.at(-1)?.units ?? null],
    {
      perm: attr.ints([1, 0, 2]),
    },
  );
  // ONNX's reverse direction leaves each output at its input's position; tfjs lists them in the
  // order the steps were taken.
  if (o.backwards) sequence = reverseAxis(g, sequence, 1, `${o.name}/sequence`);
  const states = [...finals].reverse().flat();
  return { sequence, last: finals.at(-1)?.[0] as Value, states };
}

/** One native operator over a time-major input; returns its time-major output and final states. */
function nativeCell(
  g: GraphBuilder,
  cell: Cell,
  xTm: Value,
  initial: readonly Value[],
  backwards: boolean,
): { y: Value; states: Value[] } {
  const kind = cell.kind as 'simple' | 'gru' | 'lstm';
  const u = cell.units;
  const gates = GATES[kind];
  const order = ONNX_GATE_ORDER[kind];
  const inputSize = cell.kernel.shape[0] as number;
  const W = g.weight(
    `${cell.name}/W`,
    [1, gates * u, inputSize],
    gateRows(cell.kernel.data, inputSize, u, order),
    1,
  );
  const R = g.weight(
    `${cell.name}/R`,
    [1, gates * u, u],
    gateRows(cell.recurrentKernel.data, u, u, order),
    1,
  );
  const inputs = [xTm.name, W, R];
  if (cell.bias) {
    const b = new Float32Array(2 * gates * u);
    const bias = cell.bias.data;
    order.forEach((src, dst) => {
      b.set(bias.subarray(src * u, (src + 1) * u), dst * u);
    });
    inputs.push(g.constant(`${cell.name}/B`, [1, 2 * gates * u], b));
  } else {
    inputs.push('');
  }
  inputs.push('');
  const [tm, n] = xTm.shape;
  initial.forEach((s, i) => {
    inputs.push(unsqueeze(g, s, [0], `${cell.name}/initial_${i}`, [1, ...s.shape]).name);
  });
  const activations =
    kind === 'simple'
      ? [cell.activation]
      : kind === 'gru'
        ? [cell.recurrentActivation, cell.activation]
        : [cell.recurrentActivation, cell.activation, cell.activation];
  const opType = kind === 'simple' ? 'RNN' : kind === 'gru' ? 'GRU' : 'LSTM';
  const outs = g.node(
    opType,
    inputs,
    [
      { name: `${cell.name}/Y`, shape: [tm ?? null, 1, n ?? null, u] },
      { name: `${cell.name}/Y_h`, shape: [1, n ?? null, u] },
      ...(kind === 'lstm' ? [{ name: `${cell.name}/Y_c`, shape: [1, n ?? null, u] }] : []),
    ],
    {
      name: `${cell.name}/${opType}`,
      attributes: {
        hidden_size: attr.int(u),
        direction: attr.string(backwards ? 'reverse' : 'forward'),
        activations: attr.strings(activations.map((a) => NATIVE_ACTIVATIONS[a] as string)),
        ...(kind === 'gru' ? { linear_before_reset: attr.int(0) } : {}),
      },
    },
  );
  const [Y, ...finals] = outs as [Value, ...Value[]];
  return {
    y: squeeze(g, Y, [1], `${cell.name}/y`, [tm ?? null, n ?? null, u]),
    states: finals.map((s, i) => squeeze(g, s, [0], `${cell.name}/state_${i}`, [n ?? null, u])),
  };
}

// ---------------------------------------------------------------------------------------------
// Scan: the cell's step as a subgraph

/** The per-step state shape of a cell (without the batch axis), channels-first for ConvLSTM2D. */
function stateDims(cell: Cell, stepShape: readonly Dim[]): number[] {
  if (cell.kind !== 'convlstm') return [cell.units];
  const [, , h, w] = stepShape; // [N, C, H, W]
  const conv = cell.conv as NonNullable<Cell['conv']>;
  const out = (size: Dim, axis: 0 | 1) => {
    if (typeof size !== 'number') {
      throw new ExportError(`cannot export layer "${cell.name}": ConvLSTM2D needs a known height and width`);
    }
    const k = (conv.kernelSize[axis] - 1) * conv.dilations[axis] + 1;
    return conv.padding === 'same'
      ? Math.ceil(size / conv.strides[axis])
      : Math.ceil((size - k + 1) / conv.strides[axis]);
  };
  return [cell.units, out(h ?? null, 0), out(w ?? null, 1)];
}

function runScan(g: GraphBuilder, x: Value, o: RunOptions): SequenceRun {
  const conv = o.cells.some((c) => c.kind === 'convlstm');
  if (conv && o.cells.length > 1) {
    throw new ExportError(`cannot export layer "${o.name}": a stack of ConvLSTM2D cells is not supported`);
  }
  if (conv && o.mask) {
    throw new ExportError(`cannot export layer "${o.name}": a mask on ConvLSTM2D is not supported`);
  }
  // ConvLSTM2D steps run channels-first: [N, T, H, W, C] → [N, T, C, H, W].
  const seq = conv
    ? op(
        g,
        'Transpose',
        [x.name],
        `${o.name}/channels_first`,
        [0, 1, 4, 2, 3].map((p) => x.shape[p] ?? null),
        {
          perm: attr.ints([0, 1, 4, 2, 3]),
        },
      )
    : x;
  const stepShape = [seq.shape[0] ?? null, ...seq.shape.slice(2)];
  const n = seq.shape[0] ?? null;
  // States in tfjs's order: the stack reversed, each cell's own in order (h, then c).
  const layout: { cell: number; dims: number[] }[] = [];
  let widthIn = stepShape;
  const cellDims = o.cells.map((cell) => {
    const dims = stateDims(cell, widthIn);
    widthIn = [n, ...dims];
    return dims;
  });
  for (let i = o.cells.length - 1; i >= 0; i--) {
    for (let s = 0; s < stateCount(o.cells[i] as Cell); s++)
      layout.push({ cell: i, dims: cellDims[i] as number[] });
  }
  const initial = layout.map((l, i) => {
    const given = o.initial?.[i];
    if (given === undefined) return batchZeros(g, x, l.dims, `${o.name}/initial_${i}`);
    return conv
      ? op(g, 'Transpose', [given.name], `${o.name}/initial_${i}_channels_first`, [n, ...l.dims], {
          perm: attr.ints([0, 3, 1, 2]),
        })
      : given;
  });

  const body = g.subgraph();
  const states = layout.map((l, i) => body.bodyInput(`${o.name}/state_${i}`, [n, ...l.dims]));
  const xt = body.bodyInput(`${o.name}/x_t`, stepShape);
  const mt = o.mask ? body.bodyInput(`${o.name}/mask_t`, [n]) : undefined;
  // Cell i's states among the inputs (tfjs's order is the stack reversed).
  const ofCell = (i: number) => layout.flatMap((l, k) => (l.cell === i ? [states[k] as Value] : []));
  let input: Value = xt;
  const newByCell: Value[][] = [];
  o.cells.forEach((cell, i) => {
    const next = stepCell(body, cell, input, ofCell(i));
    newByCell.push(next);
    input = next[0] as Value;
  });
  let newStates = layout.map((l, k) => {
    const own = layout.slice(0, k).filter((m) => m.cell === l.cell).length;
    return newByCell[l.cell]?.[own] as Value;
  });
  let output = input;
  if (mt) {
    // tfjs: output = out·m + states[0]·(1 − m); each state likewise.
    const m = unsqueeze(body, mt, [1], `${o.name}/mask_column`, [n, 1]);
    const notM = op(body, 'Sub', [scalar(g, `${o.name}/one`, 1), m.name], `${o.name}/mask_not`, [n, 1]);
    const blend = (fresh: Value, old: Value, name: string) =>
      op(
        body,
        'Add',
        [
          op(body, 'Mul', [fresh.name, m.name], `${name}/kept`, fresh.shape).name,
          op(body, 'Mul', [old.name, notM.name], `${name}/carried`, fresh.shape).name,
        ],
        name,
        fresh.shape,
      );
    output = blend(output, states[0] as Value, `${o.name}/output_masked`);
    newStates = newStates.map((s, k) => blend(s, states[k] as Value, `${o.name}/state_${k}_masked`));
  }
  const { graph, outerNames } = body.finishBody(`${o.name}_step`, [...newStates, output]);
  const scanInputs = [seq, ...(o.mask ? [o.mask] : [])];
  const t = seq.shape[1] ?? null;
  const lastDims = cellDims.at(-1) as number[];
  const outs = g.node(
    'Scan',
    [...initial.map((v) => v.name), ...scanInputs.map((v) => v.name)],
    [
      ...layout.map((l, k) => ({ name: `${o.name}/final_state_${k}`, shape: [n, ...l.dims] })),
      { name: `${o.name}/steps`, shape: [n, t, ...lastDims] },
    ],
    {
      name: `${o.name}/Scan`,
      attributes: {
        body: attr.graph(graph),
        num_scan_inputs: attr.int(scanInputs.length),
        scan_input_axes: attr.ints(scanInputs.map(() => 1)),
        scan_input_directions: attr.ints(scanInputs.map(() => (o.backwards ? 1 : 0))),
        scan_output_axes: attr.ints([1]),
      },
      implicitInputs: outerNames,
    },
  );
  let finals = outs.slice(0, layout.length);
  let sequence = outs[layout.length] as Value;
  if (conv) {
    const toLast = (v: Value, name: string) =>
      op(
        g,
        'Transpose',
        [v.name],
        name,
        [0, 2, 3, 1].map((p) => v.shape[p] ?? null),
        { perm: attr.ints([0, 2, 3, 1]) },
      );
    finals = finals.map((s, k) => toLast(s, `${o.name}/final_state_${k}_channels_last`));
    sequence = op(
      g,
      'Transpose',
      [sequence.name],
      `${o.name}/steps_channels_last`,
      [0, 1, 3, 4, 2].map((p) => sequence.shape[p] ?? null),
      {
        perm: attr.ints([0, 1, 3, 4, 2]),
      },
    );
  }
  // The last output is the (masked) output of the last step, which is the first state.
  return { sequence, last: finals[0] as Value, states: finals };
}

/** Splits the last (or, channels-first, the second) axis into equal parts. */
function splitParts(b: GraphBuilder, v: Value, parts: number, axis: number, name: string): Value[] {
  const size = v.shape[axis];
  const each = typeof size === 'number' ? size / parts : null;
  return b.node(
    'Split',
    [
      v.name,
      b.int64s(
        `${name}/sizes`,
        Array.from({ length: parts }, () => each as number),
      ),
    ],
    Array.from({ length: parts }, (_, i) => ({
      name: `${name}_${i}`,
      shape: v.shape.map((d, k) => (k === axis ? each : d)),
    })),
    { name: `${name}/Split`, attributes: { axis: attr.int(axis) } },
  );
}

/** One step of a cell in the Scan body, as tfjs computes it; returns [output/h, …new states]. */
function stepCell(b: GraphBuilder, cell: Cell, x: Value, states: readonly Value[]): Value[] {
  if (cell.kind === 'convlstm') return stepConvLstm(b, cell, x, states);
  const u = cell.units;
  const n = x.shape[0] ?? null;
  const name = `${cell.name}/step`;
  const gates = GATES[cell.kind];
  const inputSize = cell.kernel.shape[0] as number;
  const K = b.weight(`${cell.name}/kernel`, [inputSize, gates * u], cell.kernel.data, 1);
  const dot = (a: Value, w: string, out: string, cols: number) =>
    op(b, 'MatMul', [a.name, w], out, [n, cols]);
  const add = (a: Value, c: Value | string, out: string) =>
    op(b, 'Add', [a.name, typeof c === 'string' ? c : c.name], out, a.shape);
  const mul = (a: Value, c: Value, out: string) => op(b, 'Mul', [a.name, c.name], out, a.shape);
  const bias = cell.bias ? b.constant(`${cell.name}/bias`, [gates * u], cell.bias.data) : undefined;
  const act = (v: Value, which: 'activation' | 'recurrentActivation', out: string) =>
    emitActivation(b, cell[which], v, out);
  const h = states[0] as Value;
  if (cell.kind === 'simple') {
    const R = b.weight(`${cell.name}/recurrent_kernel`, [u, u], cell.recurrentKernel.data, 1);
    let xk = dot(x, K, `${name}/x_kernel`, u);
    if (bias) xk = add(xk, bias, `${name}/x_biased`);
    const pre = add(xk, dot(h, R, `${name}/h_recurrent`, u), `${name}/pre`);
    const out = act(pre, 'activation', `${name}/h`);
    return [out];
  }
  if (cell.kind === 'gru') {
    const rk = cell.recurrentKernel.data;
    const rk1 = new Float32Array(u * 2 * u);
    const rk2 = new Float32Array(u * u);
    for (let r = 0; r < u; r++) {
      rk1.set(rk.subarray(r * 3 * u, r * 3 * u + 2 * u), r * 2 * u);
      rk2.set(rk.subarray(r * 3 * u + 2 * u, (r + 1) * 3 * u), r * u);
    }
    const R1 = b.weight(`${cell.name}/recurrent_kernel_zr`, [u, 2 * u], rk1, 1);
    const R2 = b.weight(`${cell.name}/recurrent_kernel_h`, [u, u], rk2, 1);
    let mx = dot(x, K, `${name}/x_kernel`, 3 * u);
    if (bias) mx = add(mx, bias, `${name}/x_biased`);
    const inner = dot(h, R1, `${name}/h_recurrent_zr`, 2 * u);
    const [xz, xr, xh] = splitParts(b, mx, 3, 1, `${name}/x_gates`) as [Value, Value, Value];
    const [rz, rr] = splitParts(b, inner, 2, 1, `${name}/h_gates`) as [Value, Value];
    const z = act(add(xz, rz, `${name}/z_pre`), 'recurrentActivation', `${name}/z`);
    const r = act(add(xr, rr, `${name}/r_pre`), 'recurrentActivation', `${name}/r`);
    const rh = dot(mul(r, h, `${name}/r_h`), R2, `${name}/h_recurrent_h`, u);
    const hh = act(add(xh, rh, `${name}/hh_pre`), 'activation', `${name}/hh`);
    const oneMinusZ = op(b, 'Sub', [scalar(b, `${name}/one`, 1), z.name], `${name}/one_minus_z`, z.shape);
    const next = add(mul(z, h, `${name}/z_h`), mul(oneMinusZ, hh, `${name}/z_hh`), `${name}/h`);
    return [next];
  }
  // LSTM: z = x·K + h·R + b, split i, f, c, o.
  const R = b.weight(`${cell.name}/recurrent_kernel`, [u, 4 * u], cell.recurrentKernel.data, 1);
  const c = states[1] as Value;
  let z = add(dot(x, K, `${name}/x_kernel`, 4 * u), dot(h, R, `${name}/h_recurrent`, 4 * u), `${name}/z_sum`);
  if (bias) z = add(z, bias, `${name}/z`);
  return lstmGates(b, cell, splitParts(b, z, 4, 1, `${name}/gates`) as [Value, Value, Value, Value], c, name);
}

/** tfjs's LSTM update from the four pre-activations: c = f·c + i·act(z_c); h = o·act(c). */
function lstmGates(
  b: GraphBuilder,
  cell: Cell,
  [z0, z1, z2, z3]: [Value, Value, Value, Value],
  c: Value,
  name: string,
): Value[] {
  const act = (v: Value, which: 'activation' | 'recurrentActivation', out: string) =>
    emitActivation(b, cell[which], v, out);
  const mul = (a: Value, d: Value, out: string) => op(b, 'Mul', [a.name, d.name], out, a.shape);
  const i = act(z0, 'recurrentActivation', `${name}/i`);
  const f = act(z1, 'recurrentActivation', `${name}/f`);
  const cNext = op(
    b,
    'Add',
    [
      mul(f, c, `${name}/f_c`).name,
      mul(i, act(z2, 'activation', `${name}/candidate`), `${name}/i_candidate`).name,
    ],
    `${name}/c`,
    c.shape,
  );
  const o = act(z3, 'recurrentActivation', `${name}/o`);
  const h = mul(o, act(cNext, 'activation', `${name}/c_activated`), `${name}/h`);
  return [h, cNext];
}

/** One ConvLSTM2D step, channels-first: both products are convolutions (the recurrent one "same"). */
function stepConvLstm(b: GraphBuilder, cell: Cell, x: Value, states: readonly Value[]): Value[] {
  const conv = cell.conv as NonNullable<Cell['conv']>;
  const [kh, kw] = conv.kernelSize;
  const f = cell.units;
  const name = `${cell.name}/step`;
  const [h, c] = states as [Value, Value];
  const inC = cell.kernel.shape[2] as number;
  const K = b.weight(
    `${cell.name}/kernel`,
    [4 * f, inC, kh, kw],
    permuteArray(cell.kernel.data, cell.kernel.shape, HWIO_TO_OIHW),
    0,
  );
  const R = b.weight(
    `${cell.name}/recurrent_kernel`,
    [4 * f, f, kh, kw],
    permuteArray(cell.recurrentKernel.data, cell.recurrentKernel.shape, HWIO_TO_OIHW),
    0,
  );
  const [, , hIn, wIn] = x.shape;
  let pads = [0, 0, 0, 0];
  if (conv.padding === 'same') {
    const [t, bo] = samePadding(hIn as number, kh, conv.strides[0], conv.dilations[0]);
    const [l, r] = samePadding(wIn as number, kw, conv.strides[1], conv.dilations[1]);
    pads = [t, l, bo, r];
  }
  const outShape = [x.shape[0] ?? null, 4 * f, ...(h.shape.slice(2) as Dim[])];
  const xc = op(
    b,
    'Conv',
    cell.bias ? [x.name, K, b.constant(`${cell.name}/bias`, [4 * f], cell.bias.data)] : [x.name, K],
    `${name}/x_conv`,
    outShape,
    {
      dilations: attr.ints(conv.dilations),
      kernel_shape: attr.ints([kh, kw]),
      pads: attr.ints(pads),
      strides: attr.ints(conv.strides),
    },
  );
  const [rt, rb] = samePadding(Number(h.shape[2]), kh, 1, 1);
  const [rl, rr] = samePadding(Number(h.shape[3]), kw, 1, 1);
  const hc = op(b, 'Conv', [h.name, R], `${name}/h_conv`, outShape, {
    kernel_shape: attr.ints([kh, kw]),
    pads: attr.ints([rt, rl, rb, rr]),
  });
  const xs = splitParts(b, xc, 4, 1, `${name}/x_gates`);
  const hs = splitParts(b, hc, 4, 1, `${name}/h_gates`);
  const z = xs.map((v, i) => op(b, 'Add', [v.name, (hs[i] as Value).name], `${name}/z${i}`, v.shape)) as [
    Value,
    Value,
    Value,
    Value,
  ];
  // tfjs's ConvLSTM2D orders the same four gates as LSTM (i, f, c, o).
  return lstmGates(b, cell, z, c, name);
}
