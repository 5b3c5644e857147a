import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { TO_NCHW, TO_NHWC, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/**
 * UpSampling2D: channels-first Resize by [1, 1, sh, sw]. tfjs resizes with alignCorners and
 * halfPixelCenters off, which is ONNX's "asymmetric" coordinate mode (nearest rounds down).
 */
export const convertUpSampling2D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const size = (
    Array.isArray(info.config.size) ? info.config.size : [info.config.size, info.config.size]
  ).map(Number);
  const interpolation = String(info.config.interpolation ?? 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new ExportError(
      `cannot export layer "${info.name}": interpolation ${interpolation} is not supported`,
    );
  }
  const out = info.outputShapes[0] ?? [];
  const first = transpose(g, x, TO_NCHW, `${info.name}/input_nchw`);
  const scales = g.constant(
    `${info.name}/scales`,
    [4],
    new Float32Array([1, 1, size[0] as number, size[1] as number]),
  );
  const resized = op(
    g,
    'Resize',
    [first.name, '', scales],
    `${info.name}/resized`,
    out.length === 4 ? TO_NCHW.map((p) => out[p] ?? null) : [],
    {
      coordinate_transformation_mode: attr.string('asymmetric'),
      mode: attr.string(interpolation === 'nearest' ? 'nearest' : 'linear'),
      ...(interpolation === 'nearest' ? { nearest_mode: attr.string('floor') } : {}),
    },
  );
  return [transpose(g, resized, TO_NHWC, info.name)];
};
