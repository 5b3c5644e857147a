import { ExportError } from './errors.js';
import type { GraphBuilder, Value } from './graph-builder.js';
import { attr } from './onnx-builder.js';
import { op, scalar } from './ops.js';

type Emit = (g: GraphBuilder, x: Value, name: string) => Value;

const unary =
  (opType: string, attributes: Record<string, ReturnType<typeof attr.float>> = {}): Emit =>
  (g, x, name) =>
    op(g, opType, [x.name], name, x.shape, attributes);

/** x · gate(x), for activations ONNX has no single op for at the opsets targeted. */
const gated =
  (gate: Emit): Emit =>
  (g, x, name) =>
    op(g, 'Mul', [x.name, gate(g, x, `${name}/gate`).name], name, x.shape);

const clip =
  (lo: number, hi: number): Emit =>
  (g, x, name) =>
    op(g, 'Clip', [x.name, scalar(g, `${name}/min`, lo), scalar(g, `${name}/max`, hi)], name, x.shape);

/** GELU with erf, as tfjs's `gelu`: ½·x·(1 + erf(x/√2)). Opset 20 has it as one op. */
const gelu: Emit = (g, x, name) => {
  if (g.opset >= 20) return op(g, 'Gelu', [x.name], name, x.shape);
  const scaled = op(g, 'Div', [x.name, scalar(g, `${name}/sqrt2`, Math.SQRT2)], `${name}/scaled`, x.shape);
  const erf = op(g, 'Erf', [scaled.name], `${name}/erf`, x.shape);
  const onePlus = op(g, 'Add', [erf.name, scalar(g, `${name}/one`, 1)], `${name}/one_plus`, x.shape);
  const half = op(g, 'Mul', [x.name, scalar(g, `${name}/half`, 0.5)], `${name}/half_x`, x.shape);
  return op(g, 'Mul', [half.name, onePlus.name], name, x.shape);
};

/** GELU with tanh, as tfjs's `gelu_new`: ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
const geluTanh: Emit = (g, x, name) => {
  const cube = op(
    g,
    'Mul',
    [x.name, op(g, 'Mul', [x.name, x.name], `${name}/sq`, x.shape).name],
    `${name}/cube`,
    x.shape,
  );
  const inner = op(
    g,
    'Add',
    [x.name, op(g, 'Mul', [cube.name, scalar(g, `${name}/c`, 0.044715)], `${name}/c_cube`, x.shape).name],
    `${name}/inner`,
    x.shape,
  );
  const t = op(
    g,
    'Tanh',
    [
      op(g, 'Mul', [inner.name, scalar(g, `${name}/k`, Math.sqrt(2 / Math.PI))], `${name}/k_inner`, x.shape)
        .name,
    ],
    `${name}/tanh`,
    x.shape,
  );
  const onePlus = op(g, 'Add', [t.name, scalar(g, `${name}/one`, 1)], `${name}/one_plus`, x.shape);
  const half = op(g, 'Mul', [x.name, scalar(g, `${name}/half`, 0.5)], `${name}/half_x`, x.shape);
  return op(g, 'Mul', [half.name, onePlus.name], name, x.shape);
};

/** Mish: x·tanh(softplus(x)); opset 18 has it as one op. */
const mish: Emit = (g, x, name) => {
  if (g.opset >= 18) return op(g, 'Mish', [x.name], name, x.shape);
  return gated((gg, xx, n) =>
    op(gg, 'Tanh', [op(gg, 'Softplus', [xx.name], `${n}/softplus`, xx.shape).name], n, xx.shape),
  )(g, x, name);
};

/**
 * Every built-in tfjs activation, as the ONNX nodes that compute it. tfjs's selu and elu constants
 * equal ONNX's defaults; hardSigmoid is 0.2·x + 0.5 clipped to [0, 1] in both.
 */
const ACTIVATIONS: Record<string, Emit> = {
  linear: (_g, x) => x,
  relu: unary('Relu'),
  relu6: clip(0, 6),
  elu: unary('Elu', { alpha: attr.float(1) }),
  selu: unary('Selu'),
  sigmoid: unary('Sigmoid'),
  hardSigmoid: unary('HardSigmoid', { alpha: attr.float(0.2), beta: attr.float(0.5) }),
  tanh: unary('Tanh'),
  softmax: unary('Softmax', { axis: attr.int(-1) }),
  softplus: unary('Softplus'),
  softsign: unary('Softsign'),
  swish: gated(unary('Sigmoid')),
  mish,
  gelu,
  gelu_new: geluTanh,
};

/** Names of the activations the exporter can emit. */
export const SUPPORTED_ACTIVATIONS: readonly string[] = Object.freeze(Object.keys(ACTIVATIONS).sort());

/**
 * Emits activation `activation` applied to `x`; `linear` adds nothing.
 * @param layerName - names the nodes and, with the layer, the error.
 * @throws ExportError for an activation the exporter does not know.
 */
export function emitActivation(g: GraphBuilder, activation: string, x: Value, layerName: string): Value {
  const emit = ACTIVATIONS[activation];
  if (emit === undefined) {
    throw new ExportError(
      `cannot export layer "${layerName}": unknown activation "${activation}"; supported: ${SUPPORTED_ACTIVATIONS.join(', ')}`,
    );
  }
  return emit(g, x, layerName);
}
