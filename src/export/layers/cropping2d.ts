import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { op } from '../ops.js';
import { pairs } from './zero-padding2d.js';

/** Cropping2D: Slice the height and width axes of the channels-last input. */
export const convertCropping2D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [[t, b], [l, r]] = pairs(info.config.cropping);
  // A negative end counts from the end; "nothing cropped" at the end is the largest int64 index.
  const end = (n: number) => (n > 0 ? -n : Number.MAX_SAFE_INTEGER);
  const starts = g.int64s(`${info.name}/starts`, [t, l]);
  const ends = g.int64s(`${info.name}/ends`, [end(b), end(r)]);
  const axes = g.int64s(`${info.name}/axes`, [1, 2]);
  return [op(g, 'Slice', [x.name, starts, ends, axes], info.name, info.outputShapes[0] ?? [])];
};
