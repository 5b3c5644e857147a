import { countOps, type LayerReport } from '../export/index.js';

/** What each layer of a converted model became, and the op counts: `--report`'s table. */
export function layerTable(part: string, layers: readonly LayerReport[]): string[] {
  const width = Math.max(...layers.map((l) => l.name.length), 5);
  const classWidth = Math.max(...layers.map((l) => l.className.length), 16);
  return [
    `${part}:`,
    ...layers.map(
      (l) =>
        `  ${l.name.padEnd(width)}  ${l.className.padEnd(classWidth)} → ${l.ops.length > 0 ? l.ops.join(', ') : '(identity: no node)'}`,
    ),
    `  ops: ${Object.entries(countOps(layers))
      .map(([op, n]) => `${op} ×${n}`)
      .join(', ')}`,
  ];
}
