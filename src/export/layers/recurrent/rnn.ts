/**
 * The recurrent layers of tfjs-layers: LSTM, GRU, SimpleRNN, ConvLSTM2D, RNN (over any of their cells
 * or a StackedRNNCells), and Bidirectional over any of them. Inputs after the sequence are initial
 * states; outputs are the sequence or the last output, then the final states when returnState is
 * set, exactly as tfjs lists them.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerConverter } from '../../converter.js';
import { ExportError } from '../../errors.js';
import { sequenceMask } from '../../execution.js';
import type { GraphBuilder, Value } from '../../graph-builder.js';
import { attr } from '../../onnx-builder.js';
import { op, scalar } from '../../ops.js';
import { cellsOf, stateCount } from './cells.js';
import { reverseAxis, runCells, type SequenceRun } from './emit.js';

interface RecurrentConfig {
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
}

/** Runs one tfjs recurrent layer over x with the given initial states and mask. */
function runLayer(
  g: GraphBuilder,
  layer: tf.layers.Layer,
  name: string,
  x: Value,
  initial: readonly Value[],
  mask: Value | null,
): SequenceRun & { config: RecurrentConfig } {
  const config = layer.getConfig() as RecurrentConfig;
  const cells = cellsOf(layer);
  const expected = cells.reduce((k, c) => k + stateCount(c), 0);
  if (initial.length > 0 && initial.length !== expected) {
    throw new ExportError(
      `cannot export layer "${name}": it is given ${initial.length} initial states, its cells carry ${expected}`,
    );
  }
  const run = runCells(g, x, {
    name,
    cells,
    backwards: config.goBackwards === true,
    ...(initial.length > 0 ? { initial } : {}),
    mask,
    needSequence: config.returnSequences === true,
  });
  return { ...run, config };
}

/** LSTM, GRU, SimpleRNN, ConvLSTM2D and RNN. */
export const convertRecurrent: LayerConverter = (g, info, inputs) => {
  const [x, ...initial] = inputs as [Value, ...Value[]];
  const mask = sequenceMask(info.mask, x, info.name);
  const run = runLayer(g, info.layer, info.name, x, initial, mask);
  const output = run.config.returnSequences ? run.sequence : run.last;
  return run.config.returnState ? [output, ...run.states] : [output];
};

/**
 * Bidirectional: the forward and backward copies tfjs keeps, each run as its own layer; with
 * returnSequences the backward outputs are turned back to input order, then merged (concat, sum,
 * ave, mul, or both outputs when mergeMode is null); final states follow, forward's then backward's.
 */
export const convertBidirectional: LayerConverter = (g, info, inputs) => {
  const layer = info.layer as tf.layers.Layer & {
    forwardLayer?: tf.layers.Layer;
    backwardLayer?: tf.layers.Layer;
    mergeMode?: string | null;
  };
  const { forwardLayer, backwardLayer } = layer;
  if (!forwardLayer || !backwardLayer) {
    throw new ExportError(
      `cannot export Bidirectional layer "${info.name}": it has no forward and backward layers`,
    );
  }
  const [x, ...initial] = inputs as [Value, ...Value[]];
  if (initial.length % 2 !== 0) {
    throw new ExportError(
      `cannot export Bidirectional layer "${info.name}": it is given ${initial.length} initial states; it needs as many for each direction`,
    );
  }
  const mask = sequenceMask(info.mask, x, info.name);
  const half = initial.length / 2;
  const fwd = runLayer(g, forwardLayer, `${info.name}/forward`, x, initial.slice(0, half), mask);
  const bwd = runLayer(g, backwardLayer, `${info.name}/backward`, x, initial.slice(half), mask);
  const sequences = fwd.config.returnSequences === true;
  const y = sequences ? fwd.sequence : fwd.last;
  const yRev = sequences ? reverseAxis(g, bwd.sequence, 1, `${info.name}/backward_in_order`) : bwd.last;
  const shape = info.outputShapes[0] ?? [];
  const mode = layer.mergeMode === undefined ? 'concat' : layer.mergeMode;
  let merged: Value[];
  if (mode === 'concat') {
    merged = [op(g, 'Concat', [y.name, yRev.name], info.name, shape, { axis: attr.int(-1) })];
  } else if (mode === 'sum') {
    merged = [op(g, 'Add', [y.name, yRev.name], info.name, shape)];
  } else if (mode === 'mul') {
    merged = [op(g, 'Mul', [y.name, yRev.name], info.name, shape)];
  } else if (mode === 'ave') {
    const sum = op(g, 'Add', [y.name, yRev.name], `${info.name}/sum`, shape);
    merged = [op(g, 'Mul', [scalar(g, `${info.name}/half`, 0.5), sum.name], info.name, shape)];
  } else if (mode === null) {
    merged = [y, yRev];
  } else {
    throw new ExportError(
      `cannot export Bidirectional layer "${info.name}": mergeMode ${String(mode)} is not supported`,
    );
  }
  return fwd.config.returnState ? [...merged, ...fwd.states, ...bwd.states] : merged;
};
