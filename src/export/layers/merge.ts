import type { LayerConverter } from '../converter.js';
import { ExportError } from '../errors.js';
import { op } from '../ops.js';

/**
 * The element-wise merge layers: Add (Sum), Multiply (Mul), Average (Mean), Maximum (Max) and Minimum
 * (Min), each over any number of inputs (Sub, two inputs, for a custom Subtract class: tfjs has none).
 * One factory for the classes, which differ only in the op.
 */
export function elementwiseMerge(opType: 'Sum' | 'Mean' | 'Max' | 'Min' | 'Mul' | 'Sub'): LayerConverter {
  return (g, info, inputs) => {
    if (inputs.length < 2 || (opType === 'Sub' && inputs.length !== 2)) {
      throw new ExportError(
        `cannot export ${info.className} layer "${info.name}": it takes ${opType === 'Sub' ? 'exactly 2' : 'at least 2'} inputs, got ${inputs.length}`,
      );
    }
    const shape = info.outputShapes[0] ?? [];
    if (opType !== 'Mul')
      return [
        op(
          g,
          opType,
          inputs.map((v) => v.name),
          info.name,
          shape,
        ),
      ];
    // Mul is binary: chain it.
    let acc = inputs[0] as (typeof inputs)[0];
    inputs.slice(1).forEach((v, i) => {
      acc = op(
        g,
        'Mul',
        [acc.name, v.name],
        i === inputs.length - 2 ? info.name : `${info.name}/mul${i}`,
        shape,
      );
    });
    return [acc];
  };
}
