/**
 * The platform-neutral core of the runtime. It talks only to onnxruntime-common's types; the doors
 * (`node.ts`, `web.ts`) bring an actual onnxruntime and the way to read files or URLs.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { ModelCard } from '../core/card.js';
import { normalArray } from '../core/random.js';
import { type InterpolationMethod, interpolateCodes, traverseCodes } from './latent-paths.js';
import { type Batch, type BatchInput, toBatch } from './tensor-input.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** log p(x|decoded) summed over one example, in float64. */
function logLikelihood(
  likelihood: { kind: 'bernoulli' } | { kind: 'gaussian'; logVariance: number },
  decoded: Float32Array,
  x: Float32Array,
  isLogits: boolean,
): number {
  let sum = 0;
  if (likelihood.kind === 'gaussian') {
    const inv = Math.exp(-likelihood.logVariance);
    for (let j = 0; j < x.length; j++) {
      const d = (x[j] as number) - (decoded[j] as number);
      sum -= 0.5 * (d * d * inv + likelihood.logVariance + LOG_2PI);
    }
    return sum;
  }
  for (let j = 0; j < x.length; j++) {
    const xj = x[j] as number;
    if (isLogits) {
      const l = decoded[j] as number;
      sum -= Math.max(l, 0) - l * xj + Math.log1p(Math.exp(-Math.abs(l)));
    } else {
      // Probabilities only: clamp away from 0 and 1 so that log stays finite.
      const p = Math.min(1 - 1e-7, Math.max(1e-7, decoded[j] as number));
      sum += xj * Math.log(p) + (1 - xj) * Math.log(1 - p);
    }
  }
  return sum;
}

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
  decode(z: BatchInput): Promise<Batch> {
    // Not an async function: the hot path (one session.run) then costs no extra promise hops.
    try {
      const session = this.decoder;
      if (!session) throw new Error('decode: the model is disposed');
      const batch = toBatch(z, [this.latentDim], 'decode', 'z');
      const io = this.decoderIo;
      if ((batch.shape[0] as number) <= this.maxBatch) {
        // One run and one promise hop: this is the path a batch-1 caller takes on every call.
        return this.runOnce(session, io, batch).then((results) =>
          this.outputBatch(results, io.outputs[0] as string, batch, this.inputShape),
        );
      }
      return this.runInChunks(session, io, batch, this.inputShape).then((outs) => outs[0] as Batch);
    } catch (error) {
      return Promise.reject(error);
    }
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

  /**
   * Decodes `steps` codes on the path from `a` to `b` (each a latent code, or an example when
   * `from: 'examples'`, which is encoded to its mean first).
   */
  async interpolate(
    a: readonly number[] | Float32Array,
    b: readonly number[] | Float32Array,
    options: { steps?: number; method?: InterpolationMethod; from?: 'codes' | 'examples' } = {},
  ): Promise<{ z: Batch; x: Batch }> {
    const steps = options.steps ?? 8;
    if (!Number.isInteger(steps) || steps < 2)
      throw new RangeError(`interpolate: "steps" must be an integer >= 2, got ${steps}`);
    const method = options.method ?? 'linear';
    if (method !== 'linear' && method !== 'spherical') {
      throw new TypeError(
        `interpolate: "method" must be "linear" or "spherical", got ${JSON.stringify(method)}`,
      );
    }
    let codes: Float32Array[];
    if (options.from === 'examples') {
      const { mu } = await this.encode([Array.from(a), Array.from(b)]);
      codes = [mu.data.subarray(0, this.latentDim), mu.data.subarray(this.latentDim)];
    } else {
      codes = [a, b].map(
        (v, i) => toBatch([Array.from(v)], [this.latentDim], 'interpolate', i === 0 ? 'a' : 'b').data,
      );
    }
    const z = interpolateCodes(codes[0] as Float32Array, codes[1] as Float32Array, steps, method);
    return { z, x: await this.decode(z) };
  }

  /**
   * A latent traversal: decodes copies of `z` with dimension `dim` set to each of `values` (default:
   * 9 values from −3 to 3), to see what one latent dimension controls.
   */
  async traverse(
    z: readonly number[] | Float32Array,
    dim: number,
    values?: readonly number[],
  ): Promise<{ z: Batch; x: Batch }> {
    const code = toBatch([Array.from(z)], [this.latentDim], 'traverse', 'z').data;
    if (!Number.isInteger(dim) || dim < 0 || dim >= this.latentDim) {
      throw new RangeError(`traverse: "dim" must be an integer from 0 to ${this.latentDim - 1}, got ${dim}`);
    }
    const path = traverseCodes(code, dim, values ?? Array.from({ length: 9 }, (_, i) => -3 + (6 * i) / 8));
    return { z: path, x: await this.decode(path) };
  }

  /**
   * The anomaly score of each example: −log p(x) estimated by importance sampling with `samples`
   * draws from q(z|x) (the IWAE bound; 1 sample is the negative ELBO estimate), in nats. Higher is
   * more anomalous. Seeded, so the same call gives the same scores in every runtime.
   * @throws Error when the likelihood is unknown (no card.json and no "logits" output to infer Bernoulli).
   */
  async score(x: BatchInput, options: { samples?: number; seed?: number } = {}): Promise<Float64Array> {
    const K = options.samples ?? 1;
    if (!Number.isInteger(K) || K < 1)
      throw new RangeError(`score: "samples" must be a positive integer, got ${K}`);
    const likelihood = this.likelihood();
    const batch = toBatch(x, this.inputShape, 'score', 'x');
    const { mu, logvar } = await this.encode(batch);
    const n = batch.shape[0] as number;
    const L = this.latentDim;
    const D = batch.data.length / n;
    const eps = normalArray(n * K * L, options.seed ?? 0);
    const z = new Float32Array(n * K * L);
    const logPzMinusLogQ = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let d = 0; d < L; d++) {
          const e = eps[(i * K + k) * L + d] as number;
          const lv = logvar.data[i * L + d] as number;
          const zi = (mu.data[i * L + d] as number) + Math.exp(0.5 * lv) * e;
          z[(i * K + k) * L + d] = zi;
          acc += -0.5 * zi * zi + 0.5 * (e * e + lv);
        }
        logPzMinusLogQ[i * K + k] = acc;
      }
    }
    const session = this.decoder;
    if (!session) throw new Error('score: the model is disposed');
    const outName =
      likelihood.kind === 'bernoulli' && session.outputNames.includes('logits')
        ? 'logits'
        : this.decoderIo.outputs[0];
    const [decoded] = await this.runBatched(
      session,
      { input: this.decoderIo.input, outputs: [outName as string] },
      { data: z, shape: [n * K, L] },
      this.inputShape,
    );
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const logW = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        const row = (decoded as Batch).data.subarray((i * K + k) * D, (i * K + k + 1) * D);
        const xi = batch.data.subarray(i * D, (i + 1) * D);
        logW[k] =
          logLikelihood(likelihood, row, xi, outName === 'logits') + (logPzMinusLogQ[i * K + k] as number);
      }
      const max = Math.max(...logW);
      const lse = max + Math.log(logW.reduce((s, w) => s + Math.exp(w - max), 0));
      scores[i] = -(lse - Math.log(K));
    }
    return scores;
  }

  /**
   * The kind of p(x|z) that `score` uses: from card.json, else Bernoulli when the decoder has a
   * "logits" output; undefined when neither tells.
   */
  get likelihoodKind(): 'bernoulli' | 'gaussian' | undefined {
    if (this.card?.likelihood === 'gaussian' || this.card?.likelihood === 'bernoulli')
      return this.card.likelihood;
    return this.decoder?.outputNames.includes('logits') ? 'bernoulli' : undefined;
  }

  /** The likelihood of p(x|z): from card.json, else Bernoulli when the decoder has a "logits" output. */
  private likelihood(): { kind: 'bernoulli' } | { kind: 'gaussian'; logVariance: number } {
    if (this.card?.likelihood === 'gaussian') {
      const logVariance = this.card.likelihoodParams?.logVariance;
      if (logVariance === undefined)
        throw new Error('score: card.json says gaussian but gives no likelihoodParams.logVariance');
      return { kind: 'gaussian', logVariance };
    }
    if (this.card?.likelihood === 'bernoulli' || this.decoder?.outputNames.includes('logits'))
      return { kind: 'bernoulli' };
    throw new Error(
      'score: the likelihood is unknown (no card.json, and the decoder has no "logits" output)',
    );
  }

  /** Releases the ONNX sessions. The model cannot be used afterwards. */
  async dispose(): Promise<void> {
    const sessions = [this.encoder, this.decoder];
    this.encoder = undefined;
    this.decoder = undefined;
    await Promise.all(sessions.map((s) => s?.release()));
  }

  /** Runs `batch` through `session`, split into runs of at most `maxBatch` examples. */
  private runBatched(
    session: InferenceSession,
    io: IoNames,
    batch: Batch,
    outputShape: readonly number[],
  ): Promise<Batch[]> {
    if ((batch.shape[0] ?? 0) <= this.maxBatch) {
      return this.runOnce(session, io, batch).then((results) =>
        io.outputs.map((name) => this.outputBatch(results, name, batch, outputShape)),
      );
    }
    return this.runInChunks(session, io, batch, outputShape);
  }

  /** One `session.run` of the whole batch. */
  private runOnce(
    session: InferenceSession,
    io: IoNames,
    batch: Batch,
  ): Promise<InferenceSession.OnnxValueMapType> {
    return session.run({ [io.input]: this.binding.tensor(batch.data, batch.shape) }, io.outputs);
  }

  /** One output of a single run, handed over as the runtime made it (no copy on the hot path). */
  private outputBatch(
    results: InferenceSession.OnnxValueMapType,
    name: string,
    batch: Batch,
    outputShape: readonly number[],
  ): Batch {
    const n = batch.shape[0] as number;
    let outSize = 1;
    for (const d of outputShape) outSize *= d;
    const data = (results[name] as Tensor).data as Float32Array;
    if (data.length !== n * outSize) {
      throw new Error(
        `${name} has ${data.length} values, expected ${n} × ${outSize}; the model's output shape is not [N, ${outputShape}]`,
      );
    }
    return { data, shape: [n, ...outputShape] };
  }

  private async runInChunks(
    session: InferenceSession,
    io: IoNames,
    batch: Batch,
    outputShape: readonly number[],
  ): Promise<Batch[]> {
    const [n = 0, ...rest] = batch.shape;
    const outSize = outputShape.reduce((a, b) => a * b, 1);
    const inSize = rest.reduce((a, b) => a * b, 1);
    const outs = io.outputs.map(() => new Float32Array(n * outSize));
    for (let start = 0; start < n; start += this.maxBatch) {
      const count = Math.min(this.maxBatch, n - start);
      const data = batch.data.subarray(start * inSize, (start + count) * inSize);
      const feeds = { [io.input]: this.binding.tensor(data, [count, ...rest]) };
      const results = await session.run(feeds, io.outputs);
      io.outputs.forEach((name, k) => {
        const t = results[name] as Tensor;
        (outs[k] as Float32Array).set(t.data as Float32Array, start * outSize);
      });
    }
    return outs.map((data) => ({ data, shape: [n, ...outputShape] }));
  }
}
