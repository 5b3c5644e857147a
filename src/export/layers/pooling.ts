import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { transpose } from '../layout.js';
import { attr } from '../onnx-builder.js';
import { op, reduce as reduceOp } from '../ops.js';
import { paddingAttributes, requireChannelsLast } from './conv2d.js';

function list(value: unknown, rank: number): number[] {
  const v = Array.isArray(value) ? value : [value];
  return v.length === rank ? v.map(Number) : Array.from({ length: rank }, () => Number(v[0]));
}

/** Channels-last → channels-first permutation for `rank` spatial axes, and back. */
export function channelsFirst(rank: number): { toFirst: number[]; toLast: number[] } {
  const toFirst = [0, rank + 1, ...Array.from({ length: rank }, (_, i) => i + 1)];
  const toLast = [0, ...Array.from({ length: rank }, (_, i) => i + 2), 1];
  return { toFirst, toLast };
}

/**
 * MaxPooling1D/2D/3D and AveragePooling1D/2D/3D: channels-first MaxPool / AveragePool between
 * Transposes (which cancel against neighbouring conv layers). Average pooling with "same" padding
 * divides by the number of real pixels, as TensorFlow does (count_include_pad = 0). One factory for
 * the six classes.
 */
export function pooling(opType: 'MaxPool' | 'AveragePool', rank: 1 | 2 | 3): LayerConverter {
  return (g, info, inputs) => {
    const x = onlyInput(info, inputs);
    const c = info.config;
    requireChannelsLast(info);
    const kernel = list(c.poolSize, rank);
    const strides = list(c.strides ?? c.poolSize, rank);
    const padding = paddingAttributes(
      info,
      x.shape.slice(1, 1 + rank),
      kernel,
      strides,
      kernel.map(() => 1),
    );
    const { toFirst, toLast } = channelsFirst(rank);
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
        ...padding,
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
