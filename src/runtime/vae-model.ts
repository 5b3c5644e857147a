/**
 * The platform-neutral core of the runtime. It talks only to onnxruntime-common's types; the doors
 * (`node.ts`, `web.ts`) bring an actual onnxruntime and the way to read files or URLs.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { ModelCard } from '../core/card.js';
import { normalArray } from '../core/random.js';
import { type Batch, type BatchInput, toBatch } from './tensor-input.js';

/** What a door gives the core: how to make sessions and tensors with its onnxruntime. */
export interface OrtBinding {
  /** What runs, e.g. `onnxruntime-node-cpu` or `onnxruntime-web-wasm`. */
  name: string;
  createSession(bytes: Uint8Array, part: 'encoder' | 'decoder'): Promise<InferenceSession>;
  tensor(data: Float32Array, dims: readonly number[]): Tensor;
}

/** The bytes of a model: decoder.onnx is required, encoder.onnx and the card are optional. */
export interface ModelBytes {
  encoder?: Uint8Array;
  decoder: Uint8Array;
  card?: ModelCard;
}

/** Options shared by every door's `load`. */
export interface CommonLoadOptions {
  /** Largest batch sent to one `session.run`; larger inputs are split. Default 1024. */
  maxBatch?: number;
}

/** The encoder's two outputs for a batch of inputs. */
export interface Moments {
  mu: Batch;
  logvar: Batch;
}

interface IoNames {
  input: string;
  outputs: string[];
}

function tensorMeta(
  session: InferenceSession,
  kind: 'input' | 'output',
  name: string,
): readonly (number | string)[] {
  const list = kind === 'input' ? session.inputMetadata : session.outputMetadata;
  const meta = list?.find((m) => m.name === name);
  return meta?.isTensor ? meta.shape : [];
}

function pickInput(session: InferenceSession, wanted: string, part: string): string {
  if (session.inputNames.includes(wanted)) return wanted;
  if (session.inputNames.length === 1) return session.inputNames[0] as string;
  throw new Error(
    `cannot load model: ${part} must have an input named "${wanted}" or exactly one input, got [${session.inputNames.join(', ')}]`,
  );
}

/** A loaded VAE: ONNX sessions for the decoder and (optionally) the encoder. Call `dispose` when done. */
export class VaeModel {
  /** What the sessions run on, e.g. `onnxruntime-node-cpu`. */
  readonly backend: string;
  /** Shape of one example, e.g. [28, 28, 1]. */
  readonly inputShape: number[];
  /** Size of the latent space. */
  readonly latentDim: number;
  /** The model card, when the model came with one. */
  readonly card: ModelCard | undefined;
  /** Largest batch sent to one `session.run`. */
  readonly maxBatch: number;
  private encoder: InferenceSession | undefined;
  private decoder: InferenceSession | undefined;
  private readonly binding: OrtBinding;
  private readonly encoderIo: IoNames | undefined;
  private readonly decoderIo: IoNames;

  protected constructor(
    binding: OrtBinding,
    sessions: { encoder: InferenceSession | undefined; decoder: InferenceSession },
    card: ModelCard | undefined,
    options: CommonLoadOptions,
  ) {
    this.binding = binding;
    this.backend = binding.name;
    this.card = card;
    this.encoder = sessions.encoder;
    this.decoder = sessions.decoder;
    this.maxBatch = options.maxBatch ?? 1024;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new RangeError(`load: "maxBatch" must be a positive integer, got ${options.maxBatch}`);
    }
    const dec = sessions.decoder;
    const z = pickInput(dec, 'z', 'decoder.onnx');
    const xHat = dec.outputNames.includes('x_hat') ? 'x_hat' : dec.outputNames[0];
    if (xHat === undefined) throw new Error('cannot load model: decoder.onnx has no outputs');
    this.decoderIo = { input: z, outputs: [xHat] };
    const zShape = tensorMeta(dec, 'input', z);
    const latent = zShape[1];
    if (zShape.length !== 2 || typeof latent !== 'number') {
      throw new Error(
        `cannot load model: decoder input "${z}" must have shape [N, L] with a fixed L, got [${zShape.join(', ')}]`,
      );
    }
    this.latentDim = latent;
    let inputShape = tensorMeta(dec, 'output', xHat).slice(1);
    const enc = sessions.encoder;
    if (enc) {
      const x = pickInput(enc, 'x', 'encoder.onnx');
      for (const name of ['mu', 'logvar']) {
        if (!enc.outputNames.includes(name)) {
          throw new Error(
            `cannot load model: encoder.onnx must have outputs "mu" and "logvar", got [${enc.outputNames.join(', ')}]`,
          );
        }
      }
      this.encoderIo = { input: x, outputs: ['mu', 'logvar'] };
      const muLatent = tensorMeta(enc, 'output', 'mu')[1];
      if (typeof muLatent === 'number' && muLatent !== latent) {
        throw new Error(
          `cannot load model: the encoder's "mu" has ${muLatent} latent values but the decoder's "${z}" takes ${latent}`,
        );
      }
      const xShape = tensorMeta(enc, 'input', x).slice(1);
      if (!inputShape.every((d) => typeof d === 'number')) inputShape = xShape;
    }
    if (inputShape.length === 0 || !inputShape.every((d) => typeof d === 'number')) {
      if (card === undefined) {
        throw new Error(
          `cannot load model: the example shape is not fixed in the ONNX files and there is no card.json`,
        );
      }
      inputShape = card.inputShape;
    }
    this.inputShape = inputShape as number[];
  }

  /**
   * Creates sessions from model bytes with `binding` and checks that they fit together. A failed
   * load releases every session it created.
   */
  protected static async createSessions(
    binding: OrtBinding,
    bytes: ModelBytes,
  ): Promise<{ encoder: InferenceSession | undefined; decoder: InferenceSession }> {
    const decoder = await binding.createSession(bytes.decoder, 'decoder');
    try {
      const encoder = bytes.encoder ? await binding.createSession(bytes.encoder, 'encoder') : undefined;
      return { encoder, decoder };
    } catch (error) {
      await decoder.release();
      throw error;
    }
  }

  /** Builds the model from sessions, releasing them if they do not fit together. */
  protected static async assemble<T extends VaeModel>(
    make: () => T,
    sessions: { encoder: InferenceSession | undefined; decoder: InferenceSession },
  ): Promise<T> {
    try {
      return make();
    } catch (error) {
      await Promise.all([sessions.decoder.release(), sessions.encoder?.release()]);
      throw error;
    }
  }

  /** True when the model has an encoder (encode, reconstruct and score need it). */
  get hasEncoder(): boolean {
    return this.encoderIo !== undefined;
  }

  /**
   * Encodes examples into the parameters of q(z|x).
   * @param x - nested arrays, one per example, or `{ data, shape }` with shape [N, ...inputShape].
   */
  async encode(x: BatchInput): Promise<Moments> {
    const session = this.encoder;
    const io = this.encoderIo;
    if (!session || !io) {
      throw new Error(
        this.decoder ? 'encode: this model has no encoder.onnx' : 'encode: the model is disposed',
      );
    }
    const batch = toBatch(x, this.inputShape, 'encode', 'x');
    const [mu, logvar] = await this.runBatched(session, io, batch, [this.latentDim]);
    return { mu: mu as Batch, logvar: logvar as Batch };
  }

  /**
   * Decodes latent codes into x_hat, the mean of p(x|z) (pixel probabilities for a Bernoulli VAE).
   * @param z - nested arrays of `latentDim` numbers, or `{ data, shape: [N, latentDim] }`.
   */
  async decode(z: BatchInput): Promise<Batch> {
    const session = this.decoder;
    if (!session) throw new Error('decode: the model is disposed');
    const batch = toBatch(z, [this.latentDim], 'decode', 'z');
    const [xHat] = await this.runBatched(session, this.decoderIo, batch, this.inputShape);
    return xHat as Batch;
  }

  /**
   * Draws `n` codes z ~ N(0, I) from `seed` and decodes them. The same seed gives the same z in every
   * runtime, Node or browser.
   */
  async sample(n: number, options: { seed?: number } = {}): Promise<{ z: Batch; x: Batch }> {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`sample: "n" must be a positive integer, got ${n}`);
    const z = { data: normalArray(n * this.latentDim, options.seed ?? 0), shape: [n, this.latentDim] };
    return { z, x: await this.decode(z) };
  }

  /** Encodes and decodes the mean code: x → mu → x_hat. */
  async reconstruct(x: BatchInput): Promise<Batch> {
    const { mu } = await this.encode(x);
    return this.decode(mu);
  }

  /** Releases the ONNX sessions. The model cannot be used afterwards. */
  async dispose(): Promise<void> {
    const sessions = [this.encoder, this.decoder];
    this.encoder = undefined;
    this.decoder = undefined;
    await Promise.all(sessions.map((s) => s?.release()));
  }

  private async runBatched(
    session: InferenceSession,
    io: IoNames,
    batch: Batch,
    outputShape: readonly number[],
  ): Promise<Batch[]> {
    const [n = 0, ...rest] = batch.shape;
    const inSize = rest.reduce((a, b) => a * b, 1);
    const outSize = outputShape.reduce((a, b) => a * b, 1);
    const outs = io.outputs.map(() => new Float32Array(n * outSize));
    for (let start = 0; start < n; start += this.maxBatch) {
      const count = Math.min(this.maxBatch, n - start);
      const data =
        n <= this.maxBatch ? batch.data : batch.data.subarray(start * inSize, (start + count) * inSize);
      const feeds = { [io.input]: this.binding.tensor(data, [count, ...rest]) };
      const results = await session.run(feeds, io.outputs);
      io.outputs.forEach((name, k) => {
        const t = results[name] as Tensor;
        (outs[k] as Float32Array).set(t.data as Float32Array, start * outSize);
        t.dispose?.();
      });
    }
    return outs.map((data) => ({ data, shape: [n, ...outputShape] }));
  }
}
