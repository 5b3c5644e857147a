/** `exportVae`: a model directory on disk to its ONNX files (Node). */
import { join } from 'node:path';
import { MODEL_FILES } from '../core/model-dir.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { loadCheckpoint, readCard } from '../node/model-dir-files.js';
import { type ExportVaeOptions, type VaeOnnx, vaeToOnnx } from './export-vae.js';

/**
 * Exports a trained model directory: reads card.json and the tfjs checkpoint, and writes
 * encoder.onnx and decoder.onnx (and decoder.fp16.onnx with `fp16Decoder`) next to them, each
 * atomically (all are built before any is written).
 */
export async function exportVae(modelDir: string, options: Partial<ExportVaeOptions> = {}): Promise<VaeOnnx> {
  const card = await readCard(modelDir);
  const networks = await loadCheckpoint(modelDir, card);
  try {
    const onnx = vaeToOnnx(networks, card, options);
    const decoderFp16 = options.fp16Decoder
      ? vaeToOnnx(networks, card, { ...options, precision: 'fp16' }).decoder
      : undefined;
    await writeFileAtomic(join(modelDir, MODEL_FILES.encoderOnnx), onnx.encoder);
    await writeFileAtomic(join(modelDir, MODEL_FILES.decoderOnnx), onnx.decoder);
    if (decoderFp16) await writeFileAtomic(join(modelDir, MODEL_FILES.decoderFp16Onnx), decoderFp16);
    return { ...onnx, ...(decoderFp16 ? { decoderFp16 } : {}) };
  } finally {
    networks.encoder.dispose();
    networks.decoder.dispose();
  }
}
