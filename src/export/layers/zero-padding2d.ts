import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { op } from '../ops.js';

/** The [[top, bottom], [left, right]] of a ZeroPadding2D or Cropping2D config (tfjs also allows n or [h, w]). */
export function pairs(value: unknown): [[number, number], [number, number]] {
  if (typeof value === 'number')
    return [
      [value, value],
      [value, value],
    ];
  const [h, w] = value as (number | number[])[];
  const two = (v: number | number[] | undefined): [number, number] =>
    Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)];
  return [two(h), two(w)];
}

/** ZeroPadding2D: Pad the channels-last input with zeros on the height and width axes. */
export const convertZeroPadding2D: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const [[t, b], [l, r]] = pairs(info.config.padding);
  const pads = g.int64s(`${info.name}/pads`, [0, t, l, 0, 0, b, r, 0]);
  return [op(g, 'Pad', [x.name, pads], info.name, info.outputShapes[0] ?? [])];
};
