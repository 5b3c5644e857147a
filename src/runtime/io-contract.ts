/**
 * The I/O contract of a VAE's ONNX files, discovered from session metadata alone: which input and
 * outputs to use, the latent size and the example shape, checked against each other and against
 * card.json. Pure: tests feed it fake metadata.
 */
import { type AnyCard, MODEL_FILES, ModelDirError, modelFilePath, reexportHint } from '../core/model-dir.js';

/** The part of an onnxruntime `InferenceSession` that describes its tensors. */
export interface SessionMetadata {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly TensorMetadata[];
  readonly outputMetadata?: readonly TensorMetadata[];
}

/** One tensor's metadata: a name, and a shape whose entries are sizes or symbolic names. */
export type TensorMetadata =
  | { readonly name: string; readonly isTensor: true; readonly shape: readonly (number | string)[] }
  | { readonly name: string; readonly isTensor: false };

/** The tensor names of one session: its input and the outputs a run asks for. */
export interface IoNames {
  input: string;
  outputs: string[];
}

/** What the decoder takes and gives. */
export interface DecoderContract extends IoNames {
  /** The "logits" output when the decoder has one (a Bernoulli decoder exported by vae-onnx does). */
  logits: string | undefined;
  latentDim: number;
  /** Shape of one decoded example, when the file fixes it. */
  exampleShape: number[] | undefined;
}

/** What the encoder takes and gives. */
export interface EncoderContract extends IoNames {
  /** Width of "mu", when the file fixes it. */
  latentDim: number | undefined;
  /** Shape of one example, when the file fixes it. */
  exampleShape: number[] | undefined;
}

function shapeOf(list: readonly TensorMetadata[] | undefined, name: string): readonly (number | string)[] {
  const meta = list?.find((m) => m.name === name);
  return meta?.isTensor ? meta.shape : [];
}

/** The example part of a [N, ...] shape when every dimension after the batch is a number. */
function fixedExampleShape(shape: readonly (number | string)[]): number[] | undefined {
  const rest = shape.slice(1);
  return rest.length > 0 && rest.every((d) => typeof d === 'number') ? (rest as number[]) : undefined;
}

function pickInput(meta: SessionMetadata, wanted: string, path: string): string {
  if (meta.inputNames.includes(wanted)) return wanted;
  if (meta.inputNames.length === 1) return meta.inputNames[0] as string;
  throw new ModelDirError(
    path,
    `cannot load ${path}: it must have an input named "${wanted}" or exactly one input, got [${meta.inputNames.join(', ')}]`,
  );
}

/**
 * The decoder's contract: input "z" (or its only input) shaped [N, L] with a fixed L; output
 * "x_hat" (or its first output).
 * @param path - the decoder's file, for messages.
 * @throws ModelDirError naming the file when the contract does not hold.
 */
export function decoderContract(meta: SessionMetadata, path: string): DecoderContract {
  const input = pickInput(meta, 'z', path);
  const output = meta.outputNames.includes('x_hat') ? 'x_hat' : meta.outputNames[0];
  if (output === undefined) throw new ModelDirError(path, `cannot load ${path}: the graph has no outputs`);
  const zShape = shapeOf(meta.inputMetadata, input);
  const latentDim = zShape[1];
  if (zShape.length !== 2 || typeof latentDim !== 'number') {
    throw new ModelDirError(
      path,
      `cannot load ${path}: its input "${input}" must have shape [N, L] with a fixed L, got [${zShape.join(', ')}]`,
    );
  }
  return {
    input,
    outputs: [output],
    logits: meta.outputNames.includes('logits') ? 'logits' : undefined,
    latentDim,
    exampleShape: fixedExampleShape(shapeOf(meta.outputMetadata, output)),
  };
}

/**
 * The encoder's contract: input "x" (or its only input); outputs "mu" and "logvar".
 * @throws ModelDirError naming the file when the outputs are missing.
 */
export function encoderContract(meta: SessionMetadata, path: string): EncoderContract {
  const input = pickInput(meta, 'x', path);
  if (!meta.outputNames.includes('mu') || !meta.outputNames.includes('logvar')) {
    throw new ModelDirError(
      path,
      `cannot load ${path}: it must have outputs "mu" and "logvar", got [${meta.outputNames.join(', ')}]`,
    );
  }
  const width = shapeOf(meta.outputMetadata, 'mu')[1];
  return {
    input,
    outputs: ['mu', 'logvar'],
    latentDim: typeof width === 'number' ? width : undefined,
    exampleShape: fixedExampleShape(shapeOf(meta.inputMetadata, input)),
  };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Checks that the encoder fits the decoder (the same latent width and example size).
 * @param where - the model directory or URL, for messages.
 * @throws ModelDirError naming encoder.onnx when it belongs to another model.
 */
export function checkEncoderFits(
  encoder: EncoderContract,
  decoder: DecoderContract,
  where: string | undefined,
): void {
  const path = modelFilePath(where, MODEL_FILES.encoderOnnx);
  const decoderPath = modelFilePath(where, MODEL_FILES.decoderOnnx);
  if (encoder.latentDim !== undefined && encoder.latentDim !== decoder.latentDim) {
    throw new ModelDirError(
      path,
      `cannot load ${path}: its "mu" has ${encoder.latentDim} latent values but ${decoderPath} takes ${decoder.latentDim}; the two files come from different models: ${reexportHint(where)}`,
    );
  }
  if (
    encoder.exampleShape !== undefined &&
    decoder.exampleShape !== undefined &&
    size(encoder.exampleShape) !== size(decoder.exampleShape)
  ) {
    throw new ModelDirError(
      path,
      `cannot load ${path}: it takes examples of shape [${encoder.exampleShape}] but ${decoderPath} makes [${decoder.exampleShape}]; the two files come from different models: ${reexportHint(where)}`,
    );
  }
}

/**
 * The shape of one example: from the decoder's output, else the encoder's input, else card.json;
 * checked against card.json when there is one.
 * @throws ModelDirError naming card.json when it disagrees with the graphs, or the decoder when the
 *   shape is known nowhere.
 */
export function resolveExampleShape(
  decoder: DecoderContract,
  encoder: EncoderContract | undefined,
  card: AnyCard | undefined,
  where: string | undefined,
): number[] {
  const cardPath = modelFilePath(where, MODEL_FILES.card);
  const decoderPath = modelFilePath(where, MODEL_FILES.decoderOnnx);
  if (card !== undefined && card.latentDim !== decoder.latentDim) {
    throw new ModelDirError(
      cardPath,
      `cannot load ${cardPath}: its latentDim ${card.latentDim} disagrees with ${decoderPath}, whose input "${decoder.input}" takes ${decoder.latentDim} values; the card belongs to another model: ${reexportHint(where)}`,
    );
  }
  const fromGraphs = decoder.exampleShape ?? encoder?.exampleShape;
  if (card !== undefined && fromGraphs !== undefined && size(card.inputShape) !== size(fromGraphs)) {
    throw new ModelDirError(
      cardPath,
      `cannot load ${cardPath}: its inputShape [${card.inputShape}] disagrees with the ONNX files' [${fromGraphs}]; the card belongs to another model: ${reexportHint(where)}`,
    );
  }
  const shape = fromGraphs ?? card?.inputShape;
  if (shape === undefined) {
    throw new ModelDirError(
      decoderPath,
      `cannot load ${decoderPath}: the example shape is not fixed in the ONNX files and there is no ${MODEL_FILES.card} to give it`,
    );
  }
  return shape;
}
