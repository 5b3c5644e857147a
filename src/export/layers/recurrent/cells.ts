/**
 * The recurrent cells of tfjs-layers (SimpleRNNCell, GRUCell, LSTMCell, ConvLSTM2DCell, and a stack
 * of them) read into plain descriptions: kind, sizes, activations and weights. The RNN converters
 * turn a description into ONNX's RNN, GRU or LSTM operator where that operator computes what tfjs
 * computes, and into a Scan whose body is the cell's step otherwise.
 */
import type * as tf from '@tensorflow/tfjs';
import { ExportError } from '../../errors.js';

/** A weight read from a cell: row-major float32 data and its shape. */
export interface CellWeight {
  data: Float32Array;
  shape: number[];
}

/** Which cell it is (ConvLSTM2DCell is an LSTM whose products are convolutions). */
export type CellKind = 'simple' | 'gru' | 'lstm' | 'convlstm';

/** One recurrent cell, as the converters need it. */
export interface Cell {
  kind: CellKind;
  /** Names its nodes and initializers. */
  name: string;
  /** Units (or ConvLSTM2D filters): the size of each state. */
  units: number;
  activation: string;
  /** The gates' activation (GRU, LSTM, ConvLSTM2D). */
  recurrentActivation: string;
  /** [in, G·units] for dense cells (G gates), [kh, kw, in, 4·filters] for ConvLSTM2D. */
  kernel: CellWeight;
  /** [units, G·units], or [kh, kw, filters, 4·filters] for ConvLSTM2D. */
  recurrentKernel: CellWeight;
  bias?: CellWeight;
  /** Convolution settings (ConvLSTM2D). */
  conv?: {
    kernelSize: [number, number];
    strides: [number, number];
    dilations: [number, number];
    padding: 'same' | 'valid';
  };
}

/** Gates per cell kind, in tfjs's order (LSTM: i, f, c, o; GRU: z, r, h). */
export const GATES: Readonly<Record<CellKind, number>> = Object.freeze({
  simple: 1,
  gru: 3,
  lstm: 4,
  convlstm: 4,
});

/** How many states a cell carries (LSTM: h and c). */
export function stateCount(cell: Cell): number {
  return cell.kind === 'lstm' || cell.kind === 'convlstm' ? 2 : 1;
}

function readWeight(v: tf.LayerVariable | null | undefined, what: string, layerName: string): CellWeight {
  if (!v) throw new ExportError(`cannot export layer "${layerName}": its cell has no ${what}`);
  const data = v.read().dataSync() as Float32Array;
  const bad = data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    throw new ExportError(
      `cannot export layer "${layerName}": weight "${v.originalName ?? v.name}" holds ${data[bad]} at flat index ${bad}`,
    );
  }
  return { data: Float32Array.from(data), shape: [...v.shape] as number[] };
}

function pairOf(value: unknown, fallback: number): [number, number] {
  const v = Array.isArray(value) ? value : [value ?? fallback, value ?? fallback];
  return [Number(v[0] ?? fallback), Number(v[1] ?? fallback)];
}

type TfCell = tf.layers.Layer & {
  kernel?: tf.LayerVariable;
  recurrentKernel?: tf.LayerVariable;
  bias?: tf.LayerVariable | null;
  cells?: TfCell[];
};

/** One tfjs cell (not a stack) as a `Cell`. */
function readCell(cell: TfCell, layerName: string, index: number, count: number): Cell {
  const className = cell.getClassName();
  const kinds: Record<string, CellKind> = {
    SimpleRNNCell: 'simple',
    GRUCell: 'gru',
    LSTMCell: 'lstm',
    ConvLSTM2DCell: 'convlstm',
  };
  const kind = kinds[className];
  if (kind === undefined) {
    throw new ExportError(
      `cannot export layer "${layerName}": its cell class ${className} is not supported; supported cells: ${Object.keys(kinds).join(', ')} and StackedRNNCells of them`,
    );
  }
  const c = cell.getConfig() as Record<string, unknown>;
  if (c.resetAfter === true) {
    throw new ExportError(
      `cannot export layer "${layerName}": GRU with resetAfter is not something tfjs runs`,
    );
  }
  const useBias = c.useBias !== false;
  const name = count > 1 ? `${layerName}/cell${index}` : layerName;
  const out: Cell = {
    kind,
    name,
    units: Number(kind === 'convlstm' ? c.filters : c.units),
    activation: String(c.activation ?? 'tanh'),
    recurrentActivation: String(c.recurrentActivation ?? 'hardSigmoid'),
    kernel: readWeight(cell.kernel, 'kernel', layerName),
    recurrentKernel: readWeight(cell.recurrentKernel, 'recurrent kernel', layerName),
    ...(useBias ? { bias: readWeight(cell.bias, 'bias', layerName) } : {}),
  };
  if (kind === 'convlstm') {
    if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
      throw new ExportError(
        `cannot export layer "${layerName}": dataFormat ${String(c.dataFormat)} is not supported (only channelsLast)`,
      );
    }
    const padding = String(c.padding ?? 'valid');
    if (padding !== 'same' && padding !== 'valid') {
      throw new ExportError(`cannot export layer "${layerName}": padding ${padding} is not supported`);
    }
    out.conv = {
      kernelSize: pairOf(c.kernelSize, 1),
      strides: pairOf(c.strides, 1),
      dilations: pairOf(c.dilationRate, 1),
      padding,
    };
  }
  return out;
}

/**
 * The cells of a tfjs recurrent layer (LSTM, GRU, SimpleRNN, ConvLSTM2D, or RNN over a cell or a
 * StackedRNNCells), first to last.
 * @throws ExportError for a custom cell class or a stateful layer.
 */
export function cellsOf(layer: tf.layers.Layer): Cell[] {
  const rnn = layer as tf.layers.Layer & { cell?: TfCell; stateful?: boolean };
  if (rnn.stateful) {
    throw new ExportError(
      `cannot export layer "${layer.name}": it is stateful (its state carries over between predict calls); rebuild it with stateful: false, and pass the state as an initial state input`,
    );
  }
  const cell = rnn.cell;
  if (!cell) throw new ExportError(`cannot export layer "${layer.name}": it has no cell`);
  const list = cell.getClassName() === 'StackedRNNCells' ? (cell.cells ?? []) : [cell];
  return list.map((c, i) => readCell(c, layer.name, i, list.length));
}
