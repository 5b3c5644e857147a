/** What `vae export` and `vae convert` share: the ONNX flags and `--report`'s layer table. */
import { countOps, DEFAULT_OPSET, type LayerReport, type Precision } from '../export/index.js';
import { choiceFlag, type FlagSpec, intFlag, type ParsedArgs } from './args.js';

/** --opset and --precision, as both exporting commands take them. */
export const ONNX_FLAGS: Record<string, FlagSpec> = Object.freeze({
  opset: {
    type: 'string',
    value: 'N',
    description: 'ONNX opset, 13 to 21',
    default: String(DEFAULT_OPSET),
  },
  precision: {
    type: 'string',
    value: 'P',
    description: 'weights as fp32, fp16 or int8 (inputs and outputs stay float32)',
    default: 'fp32',
  },
});

/** The values of ONNX_FLAGS, each checked. */
export function onnxFlags(cmd: string, args: ParsedArgs): { opset: number; precision: Precision } {
  return {
    opset: intFlag(cmd, args, 'opset', 13, 21),
    precision: choiceFlag<Precision>(cmd, args, 'precision', ['fp32', 'fp16', 'int8']),
  };
}

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
