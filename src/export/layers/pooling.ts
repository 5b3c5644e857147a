import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { ExportError } from '../errors.js';
import { TO_NCHW, TO_NHWC, transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op, reduce as reduceOp } from '../ops.js';
import { requireChannelsLast, samePadding } from './conv2d.js';

function list(value: unknown, rank: number): number[] {
  const v = Array.isArray(value) ? value : [value];
  return v.length === rank ? v.map(Number) : Array.from({ length: rank }, () => Number(v[0]));
}

/**
 * MaxPooling1D/2D and AveragePooling1D/2D: channels-first MaxPool / AveragePool between Transposes
 * (which cancel against neighbouring conv layers). Average pooling with "same" padding divides by the
 * number of real pixels, as TensorFlow does (count_include_pad = 0). One factory for the four classes.
 */
export function pooling(opType: 'MaxPool' | 'AveragePool', rank: 1 | 2): LayerConverter {
  return (g, info, inputs) => {
    const x = onlyInput(info, inputs);
    const c = info.config;
    requireChannelsLast(info);
    const kernel = list(c.poolSize, rank);
    const strides = list(c.strides ?? c.poolSize, rank);
    const spatial = x.shape.slice(1, 1 + rank);
    let pads = new Array(2 * rank).fill(0);
    if (c.padding === 'same') {
      if (!spatial.every((d) => typeof d === 'number')) {
        throw new ExportError(`cannot export layer "${info.name}": "same" padding needs known spatial sizes`);
      }
      const p = spatial.map((d, i) => samePadding(d as number, kernel[i] as number, strides[i] as number, 1));
      pads = [...p.map((q) => q[0]), ...p.map((q) => q[1])];
    }
    const toFirst = rank === 2 ? TO_NCHW : [0, 2, 1];
    const toLast = rank === 2 ? TO_NHWC : [0, 2, 1];
    const out = info.outputShapes[0] ?? [];
    const first = transpose(g, x, toFirst, `${info.name}/input_channels_first`);
    const pooled = op(
      g,
      opType,
      [first.name],
      `${info.name}/pooled`,
      out.length === toFirst.length ? toFirst.map((p) => out[p] ?? null) : [],
      {
        kernel_shape: attr.ints(kernel),
        pads: attr.ints(pads),
        strides: attr.ints(strides),
        ...(opType === 'AveragePool' ? { count_include_pad: attr.int(0) } : {}),
      },
    );
    return [transpose(g, pooled, toLast, info.name)];
  };
}

/** GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D: a reduction over the spatial axes of the channels-last input. */
export function globalPooling(opType: 'ReduceMean' | 'ReduceMax', rank: 1 | 2): LayerConverter {
  return (g, info, inputs) => {
    const x = onlyInput(info, inputs);
    const axes = rank === 2 ? [1, 2] : [1];
    return [
      reduceOp(g, opType, x, axes, info.config.keepDims === true, info.name, info.outputShapes[0] ?? []),
    ];
  };
}
