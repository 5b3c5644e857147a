import type { LayerConverter } from '../converter.js';
import { ExportError } from '../errors.js';
import type { Value } from '../graph-builder.js';
import { transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op, reduce } from '../ops.js';

/**
 * Dot: for rank-2 inputs, Σ a·b over the feature axis → [N, 1]; for rank-3 inputs, a batched MatMul
 * with the contracted axes moved into place. `normalize` L2-normalizes each input along its axis first.
 */
export const convertDot: LayerConverter = (g, info, inputs) => {
  const [a0, b0] = inputs;
  if (inputs.length !== 2 || !a0 || !b0)
    throw new ExportError(`cannot export Dot layer "${info.name}": it takes 2 inputs`);
  const rank = a0.shape.length;
  const raw = info.config.axes;
  const axes = (Array.isArray(raw) ? raw : [raw, raw]).map((a) =>
    Number(a) < 0 ? Number(a) + rank : Number(a),
  );
  const out = info.outputShapes[0] ?? [];
  const normalize = (v: Value, axis: number, tag: string): Value =>
    info.config.normalize
      ? op(g, 'LpNormalization', [v.name], `${info.name}/${tag}_normalized`, v.shape, {
          axis: attr.int(axis),
          p: attr.int(2),
        })
      : v;
  const a = normalize(a0, axes[0] as number, 'a');
  const b = normalize(b0, axes[1] as number, 'b');
  if (rank === 2) {
    const product = op(g, 'Mul', [a.name, b.name], `${info.name}/product`, a.shape);
    return [reduce(g, 'ReduceSum', product, [1], true, info.name, out)];
  }
  if (rank !== 3 || b.shape.length !== 3) {
    throw new ExportError(
      `cannot export Dot layer "${info.name}": only rank-2 and rank-3 inputs are supported, got rank ${rank}`,
    );
  }
  const left = axes[0] === 2 ? a : transpose(g, a, [0, 2, 1], `${info.name}/a_t`);
  const right = axes[1] === 1 ? b : transpose(g, b, [0, 2, 1], `${info.name}/b_t`);
  return [op(g, 'MatMul', [left.name, right.name], info.name, out)];
};
