import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';
import { op } from '../ops.js';

/** RepeatVector: [N, D] → Unsqueeze at 1 → Tile n times → [N, n, D]. */
export const convertRepeatVector: LayerConverter = (g, info, inputs) => {
  const x = onlyInput(info, inputs);
  const n = Number(info.config.n);
  const expanded = op(
    g,
    'Unsqueeze',
    [x.name, g.int64s(`${info.name}/axes`, [1])],
    `${info.name}/unsqueezed`,
    [x.shape[0] ?? null, 1, x.shape[1] ?? null],
  );
  return [
    op(
      g,
      'Tile',
      [expanded.name, g.int64s(`${info.name}/repeats`, [1, n, 1])],
      info.name,
      info.outputShapes[0] ?? [],
    ),
  ];
};
