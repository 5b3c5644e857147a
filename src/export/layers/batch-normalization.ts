import type { LayerConverter } from '../converter.js';
import { layerWeights, onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { TO_NCHW, TO_NHWC, transpose } from '../layout.js';
import { op } from '../ops.js';

/**
 * BatchNormalization at inference, folded into one Mul and one Add: y = x·s + t with
 * s = γ / √(σ² + ε) and t = β − μ·s, computed in float64 and stored as float32, shaped to broadcast
 * along the normalized axis.
 */
export const convertBatchNormalization: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const c = info.config;
  const rank = x.shape.length;
  const axis = Number(c.axis ?? -1) < 0 ? Number(c.axis ?? -1) + rank : Number(c.axis);
  const weights = layerWeights(info);
  const byName = (suffix: string) => weights.find((w) => w.name.endsWith(suffix));
  const mean = byName('moving_mean');
  const variance = byName('moving_variance');
  if (!mean || !variance)
    throw new ExportError(
      `cannot export BatchNormalization layer "${info.name}": moving statistics are missing`,
    );
  const gamma = c.scale === false ? undefined : byName('gamma');
  const beta = c.center === false ? undefined : byName('beta');
  const eps = Number(c.epsilon ?? 1e-3);
  const n = mean.data.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = (gamma ? (gamma.data[i] as number) : 1) / Math.sqrt((variance.data[i] as number) + eps);
    scale[i] = s;
    shift[i] = (beta ? (beta.data[i] as number) : 0) - (mean.data[i] as number) * s;
  }
  // Right after a channels-first layer (a conv), stay channels-first: the Transpose back to NHWC moves
  // behind the normalization, where the next conv cancels it.
  const channelsFirst = rank === 4 && axis === 3 ? g.inverseTransposeSource(x.name, TO_NCHW) : undefined;
  const input = channelsFirst ?? x;
  // [C] broadcasts against the last axis; for another axis, trailing 1s put C in its place.
  const dims = channelsFirst ? [n, 1, 1] : [n, ...new Array(rank - 1 - axis).fill(1)];
  const scaled = op(
    g,
    'Mul',
    [input.name, g.constant(`${info.name}/scale`, dims, scale)],
    `${info.name}/scaled`,
    input.shape,
  );
  const shiftName = g.constant(`${info.name}/shift`, dims, shift);
  if (!channelsFirst) return [op(g, 'Add', [scaled.name, shiftName], info.name, x.shape)];
  const added = op(g, 'Add', [scaled.name, shiftName], `${info.name}/nchw`, input.shape);
  return [transpose(g, added, TO_NHWC, info.name)];
};
