import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { attr, DataType } from '../onnx-builder.js';
import { op, reduce, scalar } from '../ops.js';

/**
 * Masking: x · any(x ≠ maskValue) over the feature axis, as tfjs computes it. The mask itself (which
 * later recurrent layers read) is made by the exporter's mask tracking (execution.ts).
 */
export const convertMasking: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const value = Number(info.config.maskValue ?? 0);
  const equal = op(
    g,
    'Equal',
    [x.name, scalar(g, `${info.name}/mask_value`, value)],
    `${info.name}/equal`,
    x.shape,
    {},
    undefined,
    DataType.BOOL,
  );
  const not = op(g, 'Not', [equal.name], `${info.name}/not_equal`, x.shape, {}, undefined, DataType.BOOL);
  const differs = op(g, 'Cast', [not.name], `${info.name}/differs`, x.shape, {
    to: attr.int(DataType.FLOAT),
  });
  const keep = reduce(g, 'ReduceMax', differs, [x.shape.length - 1], true, `${info.name}/keep`, [
    ...x.shape.slice(0, -1),
    1,
  ]);
  return [op(g, 'Mul', [x.name, keep.name], info.name, x.shape)];
};
