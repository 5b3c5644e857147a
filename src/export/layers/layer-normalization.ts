import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { op, reduce, reducedShape, scalar } from '../ops.js';

/**
 * LayerNormalization, written out so it runs at every opset (ONNX's own op arrives at 17):
 * y = (x − mean) / √(var + ε) · γ + β over the configured axes.
 */
export const convertLayerNormalization: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const c = info.config;
  const rank = x.shape.length;
  const axes = (Array.isArray(c.axis) ? c.axis : [c.axis ?? -1]).map((a) =>
    Number(a) < 0 ? Number(a) + rank : Number(a),
  );
  const kept = reducedShape(x.shape, axes, true);
  const mean = reduce(g, 'ReduceMean', x, axes, true, `${info.name}/mean`, kept);
  const centered = op(g, 'Sub', [x.name, mean.name], `${info.name}/centered`, x.shape);
  const squared = op(g, 'Mul', [centered.name, centered.name], `${info.name}/squared`, x.shape);
  const variance = reduce(g, 'ReduceMean', squared, axes, true, `${info.name}/variance`, kept);
  const std = op(
    g,
    'Sqrt',
    [
      op(
        g,
        'Add',
        [variance.name, scalar(g, `${info.name}/epsilon`, Number(c.epsilon ?? 1e-3))],
        `${info.name}/var_eps`,
        kept,
      ).name,
    ],
    `${info.name}/std`,
    kept,
  );
  let y = op(g, 'Div', [centered.name, std.name], `${info.name}/normalized`, x.shape);
  const weights = layerWeights(info);
  const gamma = c.scale === false ? undefined : weights.find((w) => w.name.endsWith('gamma'));
  const beta = c.center === false ? undefined : weights.find((w) => w.name.endsWith('beta'));
  // γ and β have the shape of the normalized axes; trailing axes line them up for broadcasting.
  const paramDims = x.shape
    .slice(Math.min(...axes))
    .map((d, i) => (axes.includes(i + Math.min(...axes)) ? (d as number) : 1));
  if (gamma) {
    y = op(
      g,
      'Mul',
      [y.name, g.constant(`${info.name}/gamma`, paramDims, gamma.data)],
      beta ? `${info.name}/scaled` : info.name,
      x.shape,
    );
  }
  if (beta)
    y = op(g, 'Add', [y.name, g.constant(`${info.name}/beta`, paramDims, beta.data)], info.name, x.shape);
  return [y];
};
