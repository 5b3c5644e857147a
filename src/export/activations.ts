import { ExportError } from './errors.js';
import type { GraphBuilder, Value } from './graph-builder.js';
import { attr } from './onnx-builder.js';

type Emit = (g: GraphBuilder, x: Value, name: string) => Value;

const unary =
  (op: string, attributes: Record<string, ReturnType<typeof attr.float>> = {}, minOpset?: number): Emit =>
  (g, x, name) =>
    g.node(op, [x.name], [{ name, shape: x.shape }], {
      name: `${name}/${op}`,
      attributes,
      ...(minOpset === undefined ? {} : { minOpset }),
    })[0] as Value;

/** x · f(x), for activations ONNX has no single op for at the opsets we target. */
const gated =
  (gate: Emit): Emit =>
  (g, x, name) => {
    const gate_ = gate(g, x, `${name}/gate`);
    return g.node('Mul', [x.name, gate_.name], [{ name, shape: x.shape }], {
      name: `${name}/Mul`,
    })[0] as Value;
  };

/**
 * Every built-in tfjs activation, as the ONNX nodes that compute it. tfjs's selu, elu and
 * hardSigmoid constants equal ONNX's defaults (hardSigmoid: 0.2·x + 0.5, clipped to [0, 1]).
 */
const ACTIVATIONS: Record<string, Emit> = {
  linear: (_g, x) => x,
  relu: unary('Relu'),
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  elu: unary('Elu', { alpha: attr.float(1) }),
  selu: unary('Selu'),
  softplus: unary('Softplus'),
  softsign: unary('Softsign'),
  hardSigmoid: unary('HardSigmoid', { alpha: attr.float(0.2), beta: attr.float(0.5) }),
  softmax: unary('Softmax', { axis: attr.int(-1) }),
  swish: gated(unary('Sigmoid')),
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
