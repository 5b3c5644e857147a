import type * as tf from '@tensorflow/tfjs';
import type { ModelCard } from '../core/model-dir.js';
import { PACKAGE_VERSION } from '../core/version.js';
import { WEIGHTS_ID_KEY } from '../core/weights-id.js';
import { ExportError } from './errors.js';
import {
  checkExportOptions,
  convertLayersModel,
  type ExportOptions,
  type LayerReport,
  onnxShape,
} from './export-model.js';
import { GraphBuilder, type Value } from './graph-builder.js';
import { attr, DEFAULT_OPSET, encodeModel, makeModel } from './onnx-builder.js';

/** Options of `exportVae`. */
export interface ExportVaeOptions {
  /** Default-domain opset, 13 to 21. */
  opset: number;
  batch: ExportOptions['batch'];
  /** Weight precision (see ExportOptions.precision). */
  precision: ExportOptions['precision'];
  /** Also write decoder.fp16.onnx, the decoder with half-float weights (half the download, for web pages). */
  fp16Decoder: boolean;
}

/** Defaults of `exportVae`: the project's default opset, symbolic batch, float32 weights. */
export const DEFAULT_EXPORT_VAE_OPTIONS: Readonly<ExportVaeOptions> = Object.freeze({
  opset: DEFAULT_OPSET,
  batch: 'dynamic',
  precision: 'fp32',
  fp16Decoder: false,
});

/** The two ONNX files of a VAE, as bytes, with what each layer became. */
export interface VaeOnnx {
  encoder: Uint8Array;
  decoder: Uint8Array;
  /** decoder.fp16.onnx, when asked for. */
  decoderFp16?: Uint8Array;
  layers: { encoder: LayerReport[]; decoder: LayerReport[] };
}

/** The card's essentials, as ONNX metadata_props. */
export function cardMetadata(
  card: ModelCard,
  part: 'encoder' | 'decoder',
  precision = 'fp32',
): Record<string, string> {
  return {
    'vae_onnx.part': part,
    'vae_onnx.arch': card.arch,
    'vae_onnx.input_shape': JSON.stringify(card.inputShape),
    'vae_onnx.latent_dim': String(card.latentDim),
    'vae_onnx.likelihood': card.likelihood,
    'vae_onnx.precision': precision,
    ...(card.likelihoodParams?.logVariance === undefined
      ? {}
      : { 'vae_onnx.log_variance': String(card.likelihoodParams.logVariance) }),
    'vae_onnx.dataset': card.dataset,
    ...(card.weightsId === undefined ? {} : { [WEIGHTS_ID_KEY]: card.weightsId }),
  };
}

function modelBytes(
  g: GraphBuilder,
  outputs: { value: Value; name: string }[],
  card: ModelCard,
  part: 'encoder' | 'decoder',
  precision: string,
): Uint8Array {
  const graph = g.finish(part, outputs);
  return encodeModel(
    makeModel({
      graph,
      opset: g.opset,
      producerName: 'vae-onnx',
      producerVersion: PACKAGE_VERSION,
      metadata: cardMetadata(card, part, precision),
      docString: `vae-onnx ${part}: ${part === 'encoder' ? 'x -> mu, logvar' : 'z -> x_hat (mean of p(x|z))'}`,
    }),
  );
}

/**
 * Builds encoder.onnx (x → mu, logvar) and decoder.onnx (z → x_hat, the mean of p(x|z)) from the VAE's
 * tfjs networks: the encoder's [mu | logvar] output is split in two (an encoder with two outputs gives
 * them as they are); for a Bernoulli VAE the decoder's
 * logits go through a Sigmoid, so x_hat holds probabilities, and the logits are a second output.
 */
export function vaeToOnnx(
  networks: { encoder: tf.LayersModel; decoder: tf.LayersModel },
  card: ModelCard,
  options: Partial<ExportVaeOptions> = {},
): VaeOnnx {
  const o = { ...DEFAULT_EXPORT_VAE_OPTIONS, ...options };
  checkExportOptions(o);
  const L = card.latentDim;
  const enc = new GraphBuilder(o.opset, o.precision);
  enc.reserve(['mu', 'logvar']);
  const x = enc.input('x', onnxShape([null, ...card.inputShape], o.batch));
  const encoderLayers: LayerReport[] = [];
  const encoded = convertLayersModel(enc, networks.encoder, [x], o.batch, encoderLayers);
  let mu: Value;
  let logvar: Value;
  if (encoded.length === 2 && encoded.every((v) => v.shape[1] === L)) {
    // An encoder of two outputs gives mu and logvar as they are.
    [mu, logvar] = encoded as [Value, Value];
  } else {
    const [moments] = encoded;
    if (encoded.length !== 1 || moments === undefined || moments.shape[1] !== 2 * L) {
      throw new ExportError(
        `cannot export the encoder: it must output ${2 * L} values per example (mu, logvar) or two outputs of ${L}, got ${encoded.map((v) => `[${v.shape}]`).join(', ')}`,
      );
    }
    const momentShape = [moments.shape[0] ?? null, L];
    const split = enc.int64s('moments/split', [L, L]);
    [mu, logvar] = enc.node(
      'Split',
      [moments.name, split],
      [
        { name: 'mu', shape: momentShape },
        { name: 'logvar', shape: momentShape },
      ],
      { name: 'moments/Split', attributes: { axis: attr.int(1) } },
    ) as [Value, Value];
  }

  const dec = new GraphBuilder(o.opset, o.precision);
  dec.reserve(['x_hat', 'logits']);
  const z = dec.input('z', onnxShape([null, L], o.batch));
  const decoderLayers: LayerReport[] = [];
  const [decoded] = convertLayersModel(dec, networks.decoder, [z], o.batch, decoderLayers);
  if (decoded === undefined) throw new ExportError('cannot export the decoder: it has no output');
  // Bernoulli: the decoder gives logits and x_hat is their sigmoid. Gaussian: it gives the mean itself.
  const bernoulli = card.likelihood === 'bernoulli';
  const decoderOutputs = bernoulli
    ? [
        {
          value: dec.node('Sigmoid', [decoded.name], [{ name: 'x_hat', shape: decoded.shape }], {
            name: 'x_hat/Sigmoid',
          })[0] as Value,
          name: 'x_hat',
        },
        { value: decoded, name: 'logits' },
      ]
    : [{ value: decoded, name: 'x_hat' }];
  return {
    encoder: modelBytes(
      enc,
      [
        { value: mu, name: 'mu' },
        { value: logvar, name: 'logvar' },
      ],
      card,
      'encoder',
      o.precision,
    ),
    decoder: modelBytes(dec, decoderOutputs, card, 'decoder', o.precision),
    layers: { encoder: encoderLayers, decoder: decoderLayers },
  };
}
