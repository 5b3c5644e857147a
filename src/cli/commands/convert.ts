import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CHECK_TOLERANCE,
  type CheckRow,
  checkInputs,
  compareCheck,
  convertLoadedModel,
  ExportError,
  loadModelJsonFrom,
  predictTfjs,
} from '../../export/index.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { nodeBinding } from '../../runtime/node.js';
import { selectBackend } from '../../train/index.js';
import { type Command, intFlag, onePositional, stringFlag, UsageError } from '../args.js';
import { layerTable, ONNX_FLAGS, onnxFlags } from '../layer-report.js';
import { note, out } from '../output.js';

function names(cmd: string, raw: unknown, flag: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = String(raw)
    .split(',')
    .map((n) => n.trim());
  if (list.some((n) => !/^[A-Za-z_][A-Za-z0-9_.:/-]*$/.test(n))) {
    throw new UsageError(
      `vae ${cmd}: --${flag} must be names separated by commas (letters, digits, _ . : / -), got "${String(raw)}"`,
    );
  }
  return list;
}

/** Runs the ONNX bytes on onnxruntime (onnxruntime-node when installed, else onnxruntime-web's wasm). */
async function runOnnx(
  bytes: Uint8Array,
  inputs: { name: string; shape: number[]; data: Float32Array }[],
  outputNames: readonly string[],
): Promise<{ runtime: string; outputs: Float32Array[] }> {
  const binding = await nodeBinding({ backend: 'auto' });
  const session = await binding.createSession(bytes, 'decoder');
  try {
    const feeds = Object.fromEntries(inputs.map((x) => [x.name, binding.tensor(x.data, x.shape)]));
    const result = await session.run(feeds);
    return {
      runtime: binding.name,
      outputs: outputNames.map((n) => Float32Array.from((result[n]?.data ?? []) as ArrayLike<number>)),
    };
  } finally {
    await session.release();
  }
}

function checkTable(rows: readonly CheckRow[]): string[] {
  const width = Math.max(...rows.map((r) => r.output.length), 6);
  return [
    `${'output'.padEnd(width)}  ${'shape'.padEnd(16)}  max |Δ|     relative    ok`,
    ...rows.map(
      (r) =>
        `${r.output.padEnd(width)}  ${`[${r.shape.join(', ')}]`.padEnd(16)}  ${r.maxAbs.toExponential(2).padEnd(10)}  ${(r.maxAbs / Math.max(1, r.scale)).toExponential(2).padEnd(10)}  ${r.ok ? 'yes' : 'NO'}`,
    ),
  ];
}

/** `vae convert SOURCE --out FILE`: any tfjs layers model.json to ONNX. */
export const convertCommand: Command = {
  name: 'convert',
  usage:
    'SOURCE --out FILE [--opset N] [--precision fp32|fp16|int8] [--batch dynamic|N] [--input-names A,B] [--output-names A,B] [--check] [--report]',
  flags: {
    out: { type: 'string', value: 'FILE', description: 'the ONNX file to write', default: 'model.onnx' },
    ...ONNX_FLAGS,
    batch: {
      type: 'string',
      value: 'B',
      description: '"dynamic" (a symbolic batch dimension N) or a fixed batch size',
      default: 'dynamic',
    },
    'input-names': {
      type: 'string',
      value: 'A,B',
      description: "names of the graph's inputs, in the model's order",
    },
    'output-names': {
      type: 'string',
      value: 'A,B',
      description: "names of the graph's outputs, in the model's order",
    },
    check: {
      type: 'boolean',
      description: `run tfjs and onnxruntime on seeded inputs and print the largest difference per output; nothing is written unless every output is within ${CHECK_TOLERANCE} (relative)`,
    },
    report: { type: 'boolean', description: 'list what each layer became and the op counts' },
  },
  details: [
    'SOURCE is a tfjs layers model: the path of model.json (its weight shards beside it), its folder, or an',
    'http(s) URL. Models written by tfjs (model.save) and by tensorflowjs_converter from Keras',
    '(--output_format tfjs_layers_model, weights quantized to uint8, uint16 or float16 included) are read;',
    'a graph model is refused with a message saying so. A layer that cannot be converted stops the command',
    'before anything is written, naming the layer, its class and the classes supported.',
  ].join('\n'),
  async run(args) {
    const source = onePositional('convert', args, 'model.json, its folder, or URL');
    const outPath = stringFlag('convert', args, 'out');
    const { opset, precision } = onnxFlags('convert', args);
    const batchRaw = stringFlag('convert', args, 'batch');
    const batch = batchRaw === 'dynamic' ? 'dynamic' : intFlag('convert', args, 'batch', 1, 1_000_000);
    const inputNames = names('convert', args.flags['input-names'], 'input-names');
    const outputNames = names('convert', args.flags['output-names'], 'output-names');
    // The pure-JS backend: it implements every op a layers model can hold, and predict is its reference.
    await selectBackend('cpu');
    const loadStarted = performance.now();
    const loaded = await loadModelJsonFrom(source);
    const loadMs = performance.now() - loadStarted;
    const { model } = loaded;
    try {
      const started = performance.now();
      const converted = await convertLoadedModel(loaded, {
        opset,
        precision,
        batch,
        ...(inputNames ? { inputNames } : {}),
        ...(outputNames ? { outputNames } : {}),
      });
      const convertMs = performance.now() - started;
      if (args.flags.check) {
        const inputs = checkInputs(model, converted.inputNames, batch === 'dynamic' ? {} : { batch });
        let reference: ReturnType<typeof predictTfjs>;
        try {
          reference = predictTfjs(model, inputs);
        } catch (error) {
          throw new ExportError(
            `cannot check: tfjs's own predict fails on this model: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
        const onnx = await runOnnx(converted.bytes, inputs, converted.outputNames);
        const rows = compareCheck(converted.outputNames, onnx.outputs, reference);
        out(
          `check: ${onnx.runtime} against tfjs-${tf.getBackend()} on seeded inputs ${inputs.map((x) => `${x.name} [${x.shape.join(', ')}] (${x.kind})`).join(', ')}`,
        );
        out(checkTable(rows).join('\n'));
        if (rows.some((r) => !r.ok)) {
          note(
            `vae convert: the ONNX graph differs from tfjs beyond ${CHECK_TOLERANCE} (relative) on ${rows
              .filter((r) => !r.ok)
              .map((r) => r.output)
              .join(', ')}; ${outPath} was not written`,
          );
          return 1;
        }
      }
      await writeFileAtomic(outPath, converted.bytes);
      const count = model.countParams();
      note(
        `wrote ${outPath} (${converted.bytes.length.toLocaleString('en-US')} bytes): ${converted.layers.length} layers, ${count.toLocaleString('en-US')} parameters${loaded.quantized > 0 ? ` (${loaded.quantized} weights stored quantized, dequantized at load)` : ''}, opset ${opset}, ${precision}; loaded in ${loadMs.toFixed(0)} ms, converted in ${convertMs.toFixed(0)} ms`,
      );
      if (args.flags.report) {
        out(layerTable(basename(outPath), converted.layers).join('\n'));
        out(`inputs: ${converted.inputNames.join(', ')}; outputs: ${converted.outputNames.join(', ')}`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};
