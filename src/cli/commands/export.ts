import { exportVae } from '../../export/index.js';
import { type Command, intFlag, onePositional } from '../args.js';
import { note } from '../output.js';

/** `vae export DIR`: write encoder.onnx and decoder.onnx from the tfjs checkpoint. */
export const exportCommand: Command = {
  name: 'export',
  summary: 'export a trained model directory to encoder.onnx and decoder.onnx',
  usage: 'DIR [--opset N]',
  flags: {
    opset: { type: 'string', value: 'N', description: 'ONNX opset, 13 to 21', default: '13' },
  },
  async run(args) {
    const dir = onePositional('export', args, 'model directory');
    const opset = intFlag('export', args, 'opset', 13, 21);
    const started = performance.now();
    const onnx = await exportVae(dir, { opset });
    const ms = performance.now() - started;
    note(
      `wrote ${dir}/encoder.onnx (${onnx.encoder.length.toLocaleString('en-US')} bytes) and decoder.onnx (${onnx.decoder.length.toLocaleString('en-US')} bytes), opset ${opset}, in ${ms.toFixed(0)} ms`,
    );
    return 0;
  },
};
