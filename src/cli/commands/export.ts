import { sizeOf } from '../../core/model-dir.js';
import { createRng, normalArray } from '../../core/random.js';
import { exportVae } from '../../export/index.js';
import { compareOutputs, runOnnx, runTfjs } from '../../parity/runtime-parity.js';
import { readCard, selectBackend } from '../../train/index.js';
import { type Command, onePositional } from '../args.js';
import { layerTable, ONNX_FLAGS, onnxFlags } from '../layer-report.js';
import { note, out } from '../output.js';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** `vae export DIR`: write encoder.onnx and decoder.onnx from the tfjs checkpoint. */
export const exportCommand: Command = {
  name: 'export',
  usage: 'DIR [--opset N] [--precision fp32|fp16|int8] [--fp16-decoder] [--report]',
  flags: {
    ...ONNX_FLAGS,
    'fp16-decoder': {
      type: 'boolean',
      description:
        'also write decoder.fp16.onnx, half-float weights for web pages (VaeModel.load(url, { precision: "fp16" })); one already there is always rewritten',
    },
    report: {
      type: 'boolean',
      description: 'list what each layer became, op counts, file sizes, and parity with tfjs on random input',
    },
  },
  async run(args) {
    const dir = onePositional('export', args, 'model directory');
    const { opset, precision } = onnxFlags('export', args);
    const started = performance.now();
    const onnx = await exportVae(dir, {
      opset,
      precision,
      ...(args.flags['fp16-decoder'] ? { fp16Decoder: true } : {}),
    });
    const ms = performance.now() - started;
    const bytes = (b: Uint8Array) => `${b.length.toLocaleString('en-US')} bytes`;
    note(
      `wrote ${dir}/encoder.onnx (${bytes(onnx.encoder)}) and decoder.onnx (${bytes(onnx.decoder)})${onnx.decoderFp16 ? ` and decoder.fp16.onnx (${bytes(onnx.decoderFp16)})` : ''}, opset ${opset}, ${precision}, in ${ms.toFixed(0)} ms`,
    );
    if (!args.flags.report) return 0;
    const card = await readCard(dir);
    await selectBackend('auto');
    const n = 16;
    const rng = createRng(7);
    const x = {
      data: Float32Array.from({ length: n * sizeOf(card.inputShape) }, () => rng.uniform()),
      shape: [n, ...card.inputShape],
    };
    const z = { data: normalArray(n * card.latentDim, 8), shape: [n, card.latentDim] };
    const onnxRun = await runOnnx(dir, 'auto', x, z);
    const tfjsRun = await runTfjs(dir, x, z);
    const rows = compareOutputs(onnxRun, tfjsRun);
    out(
      [
        ...layerTable('encoder.onnx', onnx.layers.encoder),
        ...layerTable('decoder.onnx', onnx.layers.decoder),
      ].join('\n'),
    );
    out(
      `file sizes: encoder ${kb(onnx.encoder.length)}, decoder ${kb(onnx.decoder.length)} (${precision} weights)`,
    );
    out(
      `parity on ${n} random inputs, ${onnxRun.runtime} against ${tfjsRun.runtime}: ${rows.map((r) => `${r.tensor} max |Δ| ${r.maxAbs.toExponential(2)}`).join(', ')}`,
    );
    return 0;
  },
};
