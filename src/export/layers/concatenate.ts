import type { LayerConverter } from '../converter.js';
import { attr } from '../onnx-builder.js';
import { op } from '../ops.js';

/** Concatenate: Concat on the configured axis (channels-last layout is kept, so the axis carries over). */
export const convertConcatenate: LayerConverter = (g, info, inputs) => {
  const axis = Number(info.config.axis ?? -1);
  return [
    op(
      g,
      'Concat',
      inputs.map((v) => v.name),
      info.name,
      info.outputShapes[0] ?? [],
      { axis: attr.int(axis) },
    ),
  ];
};
