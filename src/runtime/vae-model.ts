/**
 * The platform-neutral core of the runtime. It talks only to onnxruntime-common's types; the doors
 * (`node.ts`, `web.ts`) bring an onnxruntime (a binding) and the model's bytes, and hand both to
 * `VaeModel.create`.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { AnomalyCalibration } from '../core/anomaly-card.js';
import { SCORE_NAMES, type ScoreName } from '../core/anomaly-card.js';
import {
  type AnyCard,
  checkWeightsIds,
  MODEL_FILES,
  type ModelBytes,
  modelFilePath,
} from '../core/model-dir.js';
import { destandardize, logStdSum, type Normalization, standardize } from '../core/normalization.js';
import { readOnnxMetadata } from '../core/onnx-metadata.js';
import { normalArray } from '../core/random.js';
import { WEIGHTS_ID_KEY } from '../core/weights-id.js';
import type { ScoringNetworks } from './anomaly/compute.js';
import type { ExampleStatistics } from './anomaly/statistics.js';
import {
  checkEncoderFits,
  type DecoderContract,
  decoderContract,
  type EncoderContract,
  encoderContract,
  resolveExampleShape,
} from './io-contract.js';
import { type InterpolationMethod, interpolateCodes, traverseCodes } from './latent-paths.js';
import { cardLikelihood, checkLikelihood, type LikelihoodOption, type LikelihoodSpec } from './likelihood.js';
import { openSession, outputBatch, runBatched, runOnce } from './session-runner.js';
import { type Batch, type BatchInput, checkUnitInterval, toBatch } from './tensor-input.js';

/** The anomaly scores' code, loaded when first needed. */
async function loadAnomaly() {
  const [compute, scores] = await Promise.all([
    import('./anomaly/compute.js'),
    import('./anomaly/scores.js'),
  ]);
  return { ...compute, ...scores };
}

/** What a door gives the core: how to make sessions and tensors with its onnxruntime. */
export interface OrtBinding {
  /** What runs, e.g. `onnxruntime-node-cpu` or `onnxruntime-web-wasm`. */
  name: string;
  createSession(bytes: Uint8Array, part: 'encoder' | 'decoder'): Promise<InferenceSession>;
  tensor(data: Float32Array, dims: readonly number[]): Tensor;
}

/** Options shared by every door's `load`. */
export interface CommonLoadOptions {
  /** Largest batch sent to one `session.run`; larger inputs are split. Default 1024. */
  maxBatch?: number;
  /** The likelihood `score` uses; overrides card.json. */
  likelihood?: LikelihoodOption;
  /**
   * Apply card.json's per-feature standardisation, so that values go in and come out in the data's
   * own units. Default true; false works in the networks' own (standardized) space, as the ONNX
   * files do (parity checks compare there).
   */
  standardize?: boolean;
}

/** The encoder's two outputs for a batch of inputs. */
export interface Moments {
  mu: Batch;
  logvar: Batch;
}

/** Options of `score`. */
export interface ScoreOptions {
  /**
   * Which score (see SCORE_NAMES). Default: the card's default (`dose`) when the model is
   * calibrated, else `nll`.
   */
  score?: ScoreName;
  /**
   * Draws of q(z|x) per example. Default: as many as the model's calibration used (16). Percentiles
   * and verdicts need that number; `dose` requires it.
   */
  samples?: number;
  /** Seeds the draws. Default: the calibration's (0). */
  seed?: number;
  /** The share of the model's held-out data a verdict flags. Default: the card's, 1 %. */
  falseAlarmRate?: number;
  /** Also give every other score the model allows (`complexity` included) in `variants`. */
  variants?: boolean;
  /** Called as examples are scored: done, and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What `score` gives: one value per example, with its percentile and verdict when the model is calibrated. */
export interface AnomalyResult {
  /** The score the values are. */
  score: ScoreName;
  values: Float64Array;
  samples: number;
  /** Each value's percentile (0–100) among the model's held-out data; absent without calibration. */
  percentiles?: Float64Array;
  /** Whether each value is past `threshold`: unusual at the false-alarm rate. */
  anomalous?: boolean[];
  threshold?: number;
  falseAlarmRate?: number;
  /**
   * The model's statistics of each example, which the scores are made of: nll, rate, distortion and
   * misfit (and bitsPerDim for Bernoulli models), in the networks' space (nll without a
   * standardized model's Σ log std).
   */
  statistics: ExampleStatistics;
  /** Every score the model allows, when asked with `variants`. */
  variants?: Partial<Record<ScoreName, Float64Array>>;
}

interface Part<C> {
  session: InferenceSession;
  io: C;
}

/** What `VaeModel.create` hands the constructor. Internal: build models with a door's `load`. */
export interface ModelParts {
  binding: OrtBinding;
  decoder: Part<DecoderContract>;
  encoder: Part<EncoderContract> | undefined;
  /** Reads encoder.onnx when it is first needed (a lazily fetched model). */
  encoderLoader: (() => Promise<Uint8Array | undefined>) | undefined;
  card: AnyCard | undefined;
  where: string | undefined;
  decoderFile: string;
  /** The weights id decoder.onnx carries, for checking an encoder fetched later. */
  decoderWeightsId?: string | undefined;
  inputShape: number[];
  maxBatch: number;
  likelihood: LikelihoodSpec | undefined;
  normalization: Normalization | undefined;
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
  readonly card: AnyCard | undefined;
  /** Largest batch sent to one `session.run`. */
  readonly maxBatch: number;
  /** The decoder file the model runs (decoder.onnx, or a variant such as decoder.fp16.onnx). */
  readonly decoderFile: string;
  /** The per-feature standardisation applied to what goes in and comes out (card.json's), if any. */
  readonly normalization: Normalization | undefined;
  private readonly binding: OrtBinding;
  private readonly where: string | undefined;
  private readonly decoderWeightsId: string | undefined;
  private readonly explicitLikelihood: LikelihoodSpec | undefined;
  private decoder: Part<DecoderContract> | undefined;
  private encoder: Part<EncoderContract> | undefined;
  private encoderLoader: (() => Promise<Uint8Array | undefined>) | undefined;
  private encoderPending: Promise<Part<EncoderContract>> | undefined;

  /** Internal: models are made by a door's `VaeModel.load`, which calls `create`. */
  constructor(parts: ModelParts) {
    this.binding = parts.binding;
    this.backend = parts.binding.name;
    this.decoder = parts.decoder;
    this.encoder = parts.encoder;
    this.encoderLoader = parts.encoderLoader;
    this.card = parts.card;
    this.where = parts.where;
    this.inputShape = parts.inputShape;
    this.latentDim = parts.decoder.io.latentDim;
    this.maxBatch = parts.maxBatch;
    this.decoderFile = parts.decoderFile;
    this.decoderWeightsId = parts.decoderWeightsId;
    this.explicitLikelihood = parts.likelihood;
    this.normalization = parts.normalization;
  }

  /**
   * Opens sessions for the model's bytes with a door's binding, checks that the files fit together
   * (and card.json with them), and builds the model. A failed create releases every session it made.
   * @throws ModelDirError naming the file that does not fit; Error naming the file onnxruntime refused.
   */
  static async create<T extends VaeModel>(
    this: new (
      parts: ModelParts,
    ) => T,
    binding: OrtBinding,
    bytes: ModelBytes,
    options: CommonLoadOptions = {},
  ): Promise<T> {
    const maxBatch = options.maxBatch ?? 1024;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`load: "maxBatch" must be a positive integer, got ${options.maxBatch}`);
    }
    const likelihood = checkLikelihood(options.likelihood);
    const { where, card } = bytes;
    const decoderFile = bytes.decoderFile ?? MODEL_FILES.decoderOnnx;
    const decoderSession = await openSession(binding, bytes.decoder, 'decoder', where, decoderFile);
    let encoderSession: InferenceSession | undefined;
    try {
      const decoder = {
        session: decoderSession,
        io: decoderContract(decoderSession, modelFilePath(where, decoderFile)),
      };
      let encoder: Part<EncoderContract> | undefined;
      if (bytes.encoder instanceof Uint8Array) {
        encoderSession = await openSession(binding, bytes.encoder, 'encoder', where, MODEL_FILES.encoderOnnx);
        encoder = {
          session: encoderSession,
          io: encoderContract(encoderSession, modelFilePath(where, MODEL_FILES.encoderOnnx)),
        };
        checkEncoderFits(encoder.io, decoder.io, where);
      }
      checkWeightsIds(where, [
        { file: MODEL_FILES.card, id: card?.origin === 'foreign' ? undefined : card?.weightsId },
        { file: decoderFile, id: readOnnxMetadata(bytes.decoder)[WEIGHTS_ID_KEY] },
        ...(bytes.encoder instanceof Uint8Array
          ? [{ file: MODEL_FILES.encoderOnnx, id: readOnnxMetadata(bytes.encoder)[WEIGHTS_ID_KEY] }]
          : []),
      ]);
      return new this({
        binding,
        decoder,
        encoder,
        encoderLoader: typeof bytes.encoder === 'function' ? bytes.encoder : undefined,
        card,
        where,
        decoderFile,
        decoderWeightsId: readOnnxMetadata(bytes.decoder)[WEIGHTS_ID_KEY],
        inputShape: resolveExampleShape(decoder.io, encoder?.io, card, where),
        maxBatch,
        likelihood,
        normalization: options.standardize === false ? undefined : card?.normalization,
      });
    } catch (error) {
      await Promise.all([decoderSession.release(), encoderSession?.release()]);
      throw error;
    }
  }

  /**
   * True when the model has an encoder (encode, reconstruct and score need it). For a model whose
   * encoder is fetched when first needed, true until a fetch finds none.
   */
  get hasEncoder(): boolean {
    return this.encoder !== undefined || this.encoderLoader !== undefined;
  }

  /**
   * Encodes examples into the parameters of q(z|x).
   * @param x - nested arrays, one per example, or `{ data, shape }` with shape [N, ...inputShape].
   */
  async encode(x: BatchInput): Promise<Moments> {
    return this.encodeModelSpace(this.toModelSpace(toBatch(x, this.inputShape, 'encode', 'x')));
  }

  /** The encoder on examples already in the networks' space (standardized, when the card says so). */
  private async encodeModelSpace(batch: Batch): Promise<Moments> {
    const encoder = this.encoder ?? (await this.loadEncoder('encode'));
    const [mu, logvar] = await runBatched(
      encoder.session,
      this.binding.tensor,
      encoder.io,
      batch,
      [this.latentDim],
      this.maxBatch,
    );
    return { mu: mu as Batch, logvar: logvar as Batch };
  }

  /**
   * Decodes latent codes into x_hat, the mean of p(x|z) (pixel probabilities for a Bernoulli VAE).
   * @param z - nested arrays of `latentDim` numbers, or `{ data, shape: [N, latentDim] }`.
   */
  decode(z: BatchInput): Promise<Batch> {
    // Not an async function: the hot path (one session.run) then costs no extra promise hops.
    try {
      const decoder = this.decoder;
      if (!decoder) throw new Error('decode: the model is disposed');
      const batch = toBatch(z, [this.latentDim], 'decode', 'z');
      const n = batch.shape[0] as number;
      if (n <= this.maxBatch) {
        return runOnce(decoder.session, this.binding.tensor, decoder.io, batch).then((results) =>
          this.fromModelSpace(outputBatch(results, decoder.io.outputs[0] as string, n, this.inputShape)),
        );
      }
      return runBatched(
        decoder.session,
        this.binding.tensor,
        decoder.io,
        batch,
        this.inputShape,
        this.maxBatch,
      ).then((outs) => this.fromModelSpace(outs[0] as Batch));
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
   * 9 values from −3 to 3), to see what one latent dimension controls. `z` is one code (L numbers) or
   * a batch of codes (nested arrays, or `{ data, shape }` as `sample` and `encode` give): each code is
   * traversed in turn, so the result holds `values.length` rows per code, code by code.
   */
  async traverse(
    z: readonly number[] | Float32Array | BatchInput,
    dim: number,
    values?: readonly number[],
  ): Promise<{ z: Batch; x: Batch }> {
    const oneCode = z instanceof Float32Array || (Array.isArray(z) && !Array.isArray(z[0]));
    const codes = oneCode
      ? toBatch([Array.from(z as ArrayLike<number>)], [this.latentDim], 'traverse', 'z')
      : toBatch(z as BatchInput, [this.latentDim], 'traverse', 'z');
    if (!Number.isInteger(dim) || dim < 0 || dim >= this.latentDim) {
      throw new RangeError(`traverse: "dim" must be an integer from 0 to ${this.latentDim - 1}, got ${dim}`);
    }
    const steps = values ?? Array.from({ length: 9 }, (_, i) => -3 + (6 * i) / 8);
    const L = this.latentDim;
    const n = codes.data.length / L;
    const data = new Float32Array(n * steps.length * L);
    for (let r = 0; r < n; r++) {
      data.set(traverseCodes(codes.data.subarray(r * L, (r + 1) * L), dim, steps).data, r * steps.length * L);
    }
    const path = { data, shape: [n * steps.length, L] };
    return { z: path, x: await this.decode(path) };
  }

  /**
   * Anomaly scores of each example, higher meaning more unusual. The default is `dose`, how atypical
   * the model's own statistics of the example (its likelihood, its 8-bit likelihood, its rate and its
   * misfit) are among its training data; raw likelihood (`nll`, −log p(x) by importance sampling)
   * ranks images that are simply easy to compress as normal, whatever the model knows. With the
   * model's calibration (card.json `anomaly`, written at training or by `vae calibrate`), each value
   * also gets its percentile among the model's held-out data and a verdict at a false-alarm rate.
   * Seeded: the same call gives the same scores in every runtime, and an example's score does not
   * depend on the rest of the batch.
   * @throws Error when the likelihood is unknown (see the `likelihood` load option), or the score
   *   needs what the model lacks (`dose` without calibration, `complexity` for a non-image model);
   *   RangeError for bad options and for Bernoulli inputs outside [0, 1].
   */
  async score(x: BatchInput, options: ScoreOptions = {}): Promise<AnomalyResult> {
    // The scores' code is a chunk of its own in a browser bundle: a page that never scores skips it.
    const {
      computeScores,
      DEFAULT_SCORE_SAMPLES,
      scoresImages,
      availableScores,
      DEFAULT_FALSE_ALARM_RATE,
      verdicts,
    } = await loadAnomaly();
    const likelihood = this.likelihood();
    const calibration = this.card?.anomaly;
    const name = options.score ?? (calibration ? calibration.defaultScore : 'nll');
    const nets = this.scoringNetworks(likelihood);
    const available = availableScores(
      likelihood.kind === 'bernoulli',
      calibration !== undefined,
      scoresImages(nets),
    );
    if (!SCORE_NAMES.includes(name)) {
      throw new RangeError(
        `score: "score" must be one of ${SCORE_NAMES.join(', ')}, got ${JSON.stringify(name)}`,
      );
    }
    if (!available.includes(name)) {
      throw new Error(
        name === 'dose'
          ? `score: the dose score needs the model's calibration (card.json "anomaly"), which ${modelFilePath(this.where, MODEL_FILES.card)} does not have; calibrate it on data like its training data (vae calibrate DIR --dataset NAME), or ask for one of ${available.join(', ')}`
          : `score: "${name}" needs ${name === 'complexity' ? 'a Bernoulli model of images' : 'a Bernoulli model'}; this model offers ${available.join(', ')}`,
      );
    }
    const samples = options.samples ?? calibration?.samples ?? DEFAULT_SCORE_SAMPLES;
    if (!Number.isInteger(samples) || samples < 1)
      throw new RangeError(`score: "samples" must be a positive integer, got ${samples}`);
    const seed = options.seed ?? calibration?.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0)
      throw new RangeError(`score: "seed" must be an integer >= 0, got ${seed}`);
    const rate = options.falseAlarmRate ?? calibration?.falseAlarmRate ?? DEFAULT_FALSE_ALARM_RATE;
    if (!(rate > 0 && rate < 1))
      throw new RangeError(`score: "falseAlarmRate" must be between 0 and 1, got ${options.falseAlarmRate}`);
    if (name === 'dose' && calibration && samples !== calibration.samples) {
      throw new RangeError(
        `score: the dose score uses the ${calibration.samples} draws per example its reference was measured with; got "samples" ${samples}`,
      );
    }
    const given = toBatch(x, this.inputShape, 'score', 'x');
    if (likelihood.kind === 'bernoulli') checkUnitInterval(given, 'score', 'x');
    // The statistics are measured where the networks work (standardized values, when the card says so).
    const batch = this.toModelSpace(given);
    const { statistics, scores } = await computeScores(nets, batch.data, {
      samples,
      seed,
      rows: this.scoreRows,
      ...(calibration ? { reference: calibration.reference } : {}),
      complexity: name === 'complexity' || options.variants === true,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const values = scores[name] as Float64Array;
    const table = calibration?.calibration.scores[name];
    const calibrated = table !== undefined && samples === calibration?.samples;
    return {
      score: name,
      values,
      samples,
      ...(calibrated ? verdicts(values, table, rate) : {}),
      statistics,
      ...(options.variants ? { variants: scores } : {}),
    };
  }

  /**
   * Measures the anomaly scores on the model's own kind of data: the `dose` reference on `reference`
   * (examples like the training data) and every score's calibration on `heldOut` (examples it did
   * not train on), which is what card.json's `anomaly` holds (`vae calibrate` writes it). The model's
   * `score` uses the section once it is in its card.
   * @throws RangeError for inputs that do not fit; Error when the likelihood is unknown.
   */
  async calibrate(
    reference: BatchInput,
    heldOut: BatchInput,
    options: {
      samples?: number;
      seed?: number;
      referenceSplit?: string;
      heldOutSplit?: string;
      onStage?: (stage: string, done: number, total: number) => void;
    } = {},
  ): Promise<AnomalyCalibration> {
    const { calibrateAnomaly } = await loadAnomaly();
    const likelihood = this.likelihood();
    const prepare = (input: BatchInput, arg: string) => {
      const batch = toBatch(input, this.inputShape, 'calibrate', arg);
      if (likelihood.kind === 'bernoulli') checkUnitInterval(batch, 'calibrate', arg);
      return this.toModelSpace(batch).data;
    };
    return calibrateAnomaly(
      this.scoringNetworks(likelihood),
      { x: prepare(reference, 'reference'), split: options.referenceSplit ?? 'reference' },
      { x: prepare(heldOut, 'heldOut'), split: options.heldOutSplit ?? 'held-out' },
      {
        rows: this.scoreRows,
        ...(options.samples === undefined ? {} : { samples: options.samples }),
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(options.onStage ? { onStage: options.onStage } : {}),
      },
    );
  }

  /**
   * Decoder rows per run and per slice of the scores' arithmetic: `maxBatch` within [256, 1024], so
   * that a slice takes a few milliseconds (a server's event loop stays free between slices).
   */
  private get scoreRows(): number {
    return Math.min(1024, Math.max(256, this.maxBatch));
  }

  /** The networks as the anomaly scores use them: in the model's space, Bernoulli logits when the decoder gives them. */
  private scoringNetworks(likelihood: LikelihoodSpec): ScoringNetworks {
    const logits = likelihood.kind === 'bernoulli' ? this.decoder?.io.logits : undefined;
    return {
      inputShape: this.inputShape,
      latentDim: this.latentDim,
      likelihood,
      nllShift: this.normalization ? logStdSum(this.normalization) : 0,
      encode: async (data, n) => {
        const { mu, logvar } = await this.encodeModelSpace({ data, shape: [n, ...this.inputShape] });
        return { mu: mu.data, logvar: logvar.data };
      },
      decode: async (z, n) => {
        const decoder = this.decoder;
        if (!decoder) throw new Error('score: the model is disposed');
        const [decoded] = await runBatched(
          decoder.session,
          this.binding.tensor,
          { input: decoder.io.input, outputs: [logits ?? (decoder.io.outputs[0] as string)] },
          { data: z, shape: [n, this.latentDim] },
          this.inputShape,
          this.maxBatch,
        );
        return { data: (decoded as Batch).data, isLogits: logits !== undefined };
      },
    };
  }

  private toModelSpace(batch: Batch): Batch {
    const n = this.normalization;
    return n ? { data: standardize(batch.data, n), shape: batch.shape } : batch;
  }

  private fromModelSpace(batch: Batch): Batch {
    const n = this.normalization;
    return n ? { data: destandardize(batch.data, n), shape: batch.shape } : batch;
  }

  /**
   * The kind of p(x|z) that `score` uses: the `likelihood` load option, else card.json, else
   * Bernoulli when the decoder has a "logits" output; undefined when none of them tells.
   */
  /** The likelihood `score` uses (the load option's, else the card's, else Bernoulli when the decoder gives logits), or undefined when unknown. */
  get likelihoodSpec(): LikelihoodSpec | undefined {
    try {
      return this.likelihood();
    } catch {
      return undefined;
    }
  }

  /** The kind of likelihood `score` uses, or undefined when unknown. */
  get likelihoodKind(): 'bernoulli' | 'gaussian' | undefined {
    if (this.explicitLikelihood) return this.explicitLikelihood.kind;
    if (this.card?.likelihood === 'gaussian' || this.card?.likelihood === 'bernoulli')
      return this.card.likelihood;
    return this.decoder?.io.logits !== undefined ? 'bernoulli' : undefined;
  }

  /** Releases the ONNX sessions. The model cannot be used afterwards. */
  async dispose(): Promise<void> {
    const parts = [this.encoder, this.decoder];
    // A pending encoder load that already finished is in `parts`; one still running is released when it ends.
    const pending = this.encoder ? undefined : this.encoderPending;
    this.encoder = undefined;
    this.decoder = undefined;
    this.encoderLoader = undefined;
    this.encoderPending = undefined;
    await Promise.all([
      ...parts.map((p) => p?.session.release()),
      pending?.then(
        (p) => p.session.release(),
        () => undefined,
      ),
    ]);
  }

  /** The likelihood `score` uses, or an error that says how to give one. */
  private likelihood(): LikelihoodSpec {
    const spec = this.explicitLikelihood ?? cardLikelihood(this.card);
    if (spec) return spec;
    if (this.card?.likelihood === 'gaussian') {
      throw new Error(
        `score: ${modelFilePath(this.where, MODEL_FILES.card)} says gaussian but gives no likelihoodParams.logVariance; pass { likelihood: { kind: 'gaussian', logVariance } } to VaeModel.load (--likelihood gaussian:LOGVAR in the CLI)`,
      );
    }
    if (this.decoder?.io.logits !== undefined) return { kind: 'bernoulli' };
    throw new Error(
      `score: the likelihood p(x|z) is unknown (no card.json, and the decoder has no "logits" output); pass { likelihood: 'bernoulli' } or { likelihood: { kind: 'gaussian', logVariance } } to VaeModel.load (--likelihood bernoulli or gaussian:LOGVAR in the CLI)`,
    );
  }

  /** The encoder, fetched and opened on first use when the model was loaded lazily. */
  private loadEncoder(fn: string): Promise<Part<EncoderContract>> {
    const loader = this.encoderLoader;
    if (!loader) {
      return Promise.reject(
        new Error(this.decoder ? `${fn}: this model has no encoder.onnx` : `${fn}: the model is disposed`),
      );
    }
    this.encoderPending ??= (async () => {
      const bytes = await loader();
      if (bytes === undefined) {
        this.encoderLoader = undefined;
        throw new Error(`${fn}: this model has no encoder.onnx`);
      }
      const path = modelFilePath(this.where, MODEL_FILES.encoderOnnx);
      checkWeightsIds(this.where, [
        { file: MODEL_FILES.card, id: this.card?.origin === 'foreign' ? undefined : this.card?.weightsId },
        { file: this.decoderFile, id: this.decoderWeightsId },
        { file: MODEL_FILES.encoderOnnx, id: readOnnxMetadata(bytes)[WEIGHTS_ID_KEY] },
      ]);
      const session = await openSession(this.binding, bytes, 'encoder', this.where, MODEL_FILES.encoderOnnx);
      try {
        const part = { session, io: encoderContract(session, path) };
        const decoder = this.decoder;
        if (!decoder) throw new Error(`${fn}: the model is disposed`);
        checkEncoderFits(part.io, decoder.io, this.where);
        this.encoder = part;
        return part;
      } catch (error) {
        await session.release();
        throw error;
      }
    })().finally(() => {
      this.encoderPending = undefined;
    });
    return this.encoderPending;
  }
}
