/**
 * Image resampling as tfjs computes it, written out as Gathers with index tables fixed at export
 * time (the image sizes are known): nearest picks rows and columns, bilinear blends the four
 * neighbours in tfjs's own order (top, bottom, then between them). The tables come from tfjs's CPU
 * kernels' formulas, so the ONNX graph picks the same pixels in every runtime, whatever a runtime's
 * Resize does at the edges. Used by Resizing, CenterCrop and the bilinear branch of CenterCrop.
 */
import type { LayerInfo } from '../converter.js';
import { ExportError } from '../errors.js';
import type { GraphBuilder, Value } from '../graph-builder.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/** One axis of a bilinear resize: the two source indices of each output index and the blend. */
export interface BilinearAxis {
  lo: number[];
  hi: number[];
  frac: number[];
}

function ratio(inSize: number, outSize: number, alignCorners: boolean): number {
  const inEff = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const outEff = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  return inEff / outEff;
}

/** tfjs's resizeBilinear along one axis (halfPixelCenters off, as the layers call it). */
export function bilinearAxis(inSize: number, outSize: number, alignCorners: boolean): BilinearAxis {
  const r = ratio(inSize, outSize, alignCorners);
  const axis: BilinearAxis = { lo: [], hi: [], frac: [] };
  for (let i = 0; i < outSize; i++) {
    const src = r * i;
    const lo = Math.max(0, Math.floor(src));
    axis.lo.push(lo);
    axis.hi.push(Math.min(inSize - 1, Math.ceil(src)));
    axis.frac.push(src - lo);
  }
  return axis;
}

/** tfjs's resizeNearestNeighbor along one axis (halfPixelCenters off). */
export function nearestAxis(inSize: number, outSize: number, alignCorners: boolean): number[] {
  const r = ratio(inSize, outSize, alignCorners);
  return Array.from({ length: outSize }, (_, i) =>
    Math.min(inSize - 1, alignCorners ? Math.round(r * i) : Math.floor(r * i)),
  );
}

/**
 * tfjs's cropAndResize with method "nearest" along one axis, for a box from `start` to `end`
 * (fractions of the size, held as float32 as tfjs holds boxes); −1 where it samples outside the
 * image (tfjs writes the extrapolation value 0 there).
 */
export function cropNearestAxis(inSize: number, cropSize: number, start: number, end: number): number[] {
  const s = Math.fround(start);
  const e = Math.fround(end);
  const scale = cropSize > 1 ? ((e - s) * (inSize - 1)) / (cropSize - 1) : 0;
  return Array.from({ length: cropSize }, (_, i) => {
    const at = cropSize > 1 ? s * (inSize - 1) + i * scale : 0.5 * (s + e) * (inSize - 1);
    return at < 0 || at > inSize - 1 ? -1 : Math.round(at);
  });
}

/** x gathered along `axis` at fixed indices; −1 entries become zeros. */
export function gatherAxis(
  g: GraphBuilder,
  x: Value,
  axis: number,
  indices: readonly number[],
  name: string,
): Value {
  const shape = x.shape.map((d, i) => (i === axis ? indices.length : d));
  const picked = op(
    g,
    'Gather',
    [
      x.name,
      g.int64s(
        `${name}/indices`,
        indices.map((i) => Math.max(0, i)),
      ),
    ],
    name,
    shape,
    { axis: attr.int(axis) },
  );
  if (indices.every((i) => i >= 0)) return picked;
  const keep = new Float32Array(indices.map((i) => (i >= 0 ? 1 : 0)));
  const dims = x.shape.map((_, i) => (i === axis ? indices.length : 1));
  return op(g, 'Mul', [picked.name, g.constant(`${name}/inside`, dims, keep)], `${name}/extrapolated`, shape);
}

/** Bilinear resampling of x along `rowAxis` and `colAxis` with the given tables, in tfjs's order. */
export function bilinear(
  g: GraphBuilder,
  x: Value,
  rows: BilinearAxis,
  cols: BilinearAxis,
  [rowAxis, colAxis]: [number, number],
  name: string,
): Value {
  const fracOf = (values: number[], axis: number, base: string) =>
    g.constant(
      base,
      x.shape.map((_, i) => (i === axis ? values.length : 1)),
      new Float32Array(values),
    );
  const top = gatherAxis(g, x, rowAxis, rows.lo, `${name}/top_rows`);
  const bottom = gatherAxis(g, x, rowAxis, rows.hi, `${name}/bottom_rows`);
  const colFrac = fracOf(cols.frac, colAxis, `${name}/col_frac`);
  const blendCols = (v: Value, side: string) => {
    const left = gatherAxis(g, v, colAxis, cols.lo, `${name}/${side}_left`);
    const right = gatherAxis(g, v, colAxis, cols.hi, `${name}/${side}_right`);
    const diff = op(g, 'Sub', [right.name, left.name], `${name}/${side}_diff`, left.shape);
    const step = op(g, 'Mul', [diff.name, colFrac], `${name}/${side}_step`, left.shape);
    return op(g, 'Add', [left.name, step.name], `${name}/${side}`, left.shape);
  };
  const t = blendCols(top, 'top');
  const b = blendCols(bottom, 'bottom');
  const diff = op(g, 'Sub', [b.name, t.name], `${name}/vertical_diff`, t.shape);
  const step = op(
    g,
    'Mul',
    [diff.name, fracOf(rows.frac, rowAxis, `${name}/row_frac`)],
    `${name}/vertical_step`,
    t.shape,
  );
  return op(g, 'Add', [t.name, step.name], name, t.shape);
}

/** The known height and width of a channels-last image input, or an ExportError naming the layer. */
export function knownImageSize(info: LayerInfo, x: Value): [number, number] {
  const [, h, w] = x.shape.slice(-4);
  if (x.shape.length !== 4 || typeof h !== 'number' || typeof w !== 'number') {
    throw new ExportError(
      `cannot export ${info.className} layer "${info.name}": it needs a batch of images [N, H, W, C] with known H and W, got [${x.shape.join(', ')}]`,
    );
  }
  return [h, w];
}
