/** `exportVae`: a model directory on disk to its ONNX files (Node). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_FILES } from '../core/model-dir.js';
import { type CommitEntries, commitEntries, recoverCommits } from '../node/commit.js';
import { lockModelDir } from '../node/dir-lock.js';
import { loadCheckpoint, readCard } from '../node/model-dir-files.js';
import { weightsIdOfNetworks } from '../tfjs/checkpoint.js';
import { ExportError } from './errors.js';
import { type ExportVaeOptions, type VaeOnnx, vaeToOnnx } from './export-vae.js';

/**
 * Exports a trained model directory: reads card.json and the tfjs checkpoint, and writes
 * encoder.onnx and decoder.onnx (and decoder.fp16.onnx with `fp16Decoder`) next to them in one
 * commit (see node/commit.ts): a kill leaves the old files or the new ones, never a mix. Every file
 * carries the id of the checkpoint's weights; a card written before ids existed gets it in the same
 * commit.
 * @throws ExportError when card.json names other weights than the checkpoint holds; ModelDirError
 *   when another process writes the directory.
 */
export async function exportVae(modelDir: string, options: Partial<ExportVaeOptions> = {}): Promise<VaeOnnx> {
  const lock = await lockModelDir(modelDir, 'vae export');
  try {
    await recoverCommits(modelDir);
    const read = await readCard(modelDir);
    const networks = await loadCheckpoint(modelDir, read);
    try {
      const weightsId = await weightsIdOfNetworks(networks);
      if (read.weightsId !== undefined && read.weightsId !== weightsId) {
        throw new ExportError(
          `cannot export ${modelDir}: card.json was written for weights ${read.weightsId}, but the tfjs checkpoint holds ${weightsId}; the two come from different runs: train the model again (vae train --force) or restore the matching card.json`,
        );
      }
      const card = { ...read, weightsId };
      const onnx = vaeToOnnx(networks, card, options);
      // A half-float decoder already there is written again, or it would be of the old weights.
      const fp16 = options.fp16Decoder ?? existsSync(join(modelDir, MODEL_FILES.decoderFp16Onnx));
      const decoderFp16 = fp16
        ? vaeToOnnx(networks, card, { ...options, precision: 'fp16' }).decoder
        : undefined;
      const entries: CommitEntries = {
        [MODEL_FILES.encoderOnnx]: onnx.encoder,
        [MODEL_FILES.decoderOnnx]: onnx.decoder,
        ...(decoderFp16 ? { [MODEL_FILES.decoderFp16Onnx]: decoderFp16 } : {}),
        ...(read.weightsId === undefined ? { [MODEL_FILES.card]: `${JSON.stringify(card, null, 2)}\n` } : {}),
      };
      await commitEntries(modelDir, entries);
      return { ...onnx, ...(decoderFp16 ? { decoderFp16 } : {}) };
    } finally {
      networks.encoder.dispose();
      networks.decoder.dispose();
    }
  } finally {
    await lock.release();
  }
}
