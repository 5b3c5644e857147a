/**
 * Which networks a run trains: a built-in from its flags (an MLP of any depth, a conv stack of any
 * depth, by the rule the PyTorch peer states, so the two build the same network layer for layer),
 * or networks of the caller's own, checked against the VAE's contract before anything trains.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuiltinArch } from '../core/model-dir.js';
import type { VaeNetworks } from '../tfjs/checkpoint.js';

/** The filters of the default conv network: the TensorFlow CVAE tutorial's two levels. */
export const DEFAULT_FILTERS: readonly number[] = Object.freeze([32, 64]);

/** A built-in network, as plain data (worker threads build it from this). */
export type BuiltinArchitecture = { kind: 'mlp'; hidden: number[] } | { kind: 'conv'; filters: number[] };

/** The networks of a run. */
export type Architecture = BuiltinArchitecture | { kind: 'custom'; networks: VaeNetworks };

/** What picks the architecture among the training options. */
export interface ArchitectureOptions {
  arch: BuiltinArch;
  hiddenDim: number;
  hidden?: readonly number[];
  filters?: readonly number[];
  networks?: VaeNetworks;
}

/** The architecture the options ask for: the caller's networks, else the built-in of `arch`. */
export function architectureOf(o: ArchitectureOptions): Architecture {
  if (o.networks) return { kind: 'custom', networks: o.networks };
  if (o.arch === 'conv') return { kind: 'conv', filters: [...(o.filters ?? DEFAULT_FILTERS)] };
  return { kind: 'mlp', hidden: [...(o.hidden ?? [o.hiddenDim])] };
}

/** Conv stacks of more than two levels pad "same" (the peer's rule); two levels keep the tutorial's "valid". */
export function convPadding(filters: readonly number[]): 'same' | 'valid' {
  return filters.length <= 2 ? 'valid' : 'same';
}

/** "mlp 784-512-256-20", "conv 64×64×1 32,64,128,256 → 10", "custom (12 layers)": for messages. */
export function describeArchitecture(
  a: Architecture,
  inputShape: readonly number[],
  latentDim: number,
): string {
  const D = inputShape.reduce((x, y) => x * y, 1);
  if (a.kind === 'mlp') return `mlp ${[D, ...a.hidden, latentDim].join('-')}`;
  if (a.kind === 'conv') return `conv ${inputShape.join('×')} ${a.filters.join(',')} → ${latentDim}`;
  const count = a.networks.encoder.layers.length + a.networks.decoder.layers.length;
  return `networks of your own (${count} layers)`;
}

/** The layers of a network without its InputLayer, flattened through nested models. */
function layersOf(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) =>
    l instanceof tf.LayersModel ? layersOf(l) : l.getClassName() === 'InputLayer' ? [] : [l],
  );
}

/**
 * A structural fingerprint of the caller's networks (layer classes and weight shapes, in order), so
 * that a resumed run can tell the same networks from others whatever tfjs named their layers.
 */
export function networksFingerprint(nets: VaeNetworks): string[] {
  return [nets.encoder, nets.decoder].map((m) =>
    layersOf(m)
      .map((l) => `${l.getClassName()}(${l.weights.map((w) => w.shape.join('x')).join(',')})`)
      .join(' '),
  );
}

/** The card's summary of the caller's networks. */
export function networksSummary(nets: VaeNetworks): { encoder: string[]; decoder: string[]; params: number } {
  return {
    encoder: layersOf(nets.encoder).map((l) => l.getClassName()),
    decoder: layersOf(nets.decoder).map((l) => l.getClassName()),
    params: nets.encoder.countParams() + nets.decoder.countParams(),
  };
}

/** What a resumed run must share of the architecture. */
export function architectureIdentity(a: Architecture): Record<string, unknown> {
  if (a.kind === 'mlp') return a.hidden.length === 1 ? {} : { hidden: a.hidden };
  if (a.kind === 'conv') return a.filters.join() === DEFAULT_FILTERS.join() ? {} : { filters: a.filters };
  return { networks: networksFingerprint(a.networks) };
}

const shapeText = (s: readonly (number | null)[]) => `[${s.map((d) => (d === null ? 'N' : d)).join(', ')}]`;

/**
 * Checks the caller's networks against the VAE's contract: the encoder takes x of the data's shape
 * and gives [N, 2L] (mu then logvar) or two outputs [N, L]; the decoder takes [N, L] and gives the
 * logits (or Gaussian means) in x's shape.
 * @returns the latent size L and how the encoder gives the moments.
 * @throws TypeError or RangeError naming the network, what it should be and what it is.
 */
export function checkNetworks(
  nets: unknown,
  inputShape: readonly number[],
  where = 'trainVae',
): { latentDim: number; momentOutputs: 1 | 2 } {
  const n = nets as Partial<VaeNetworks> | undefined;
  if (!(n?.encoder instanceof tf.LayersModel) || !(n?.decoder instanceof tf.LayersModel)) {
    throw new TypeError(
      `${where}: "networks" must be { encoder, decoder }, two tfjs-layers models (tf.model or tf.sequential), got ${n === undefined ? 'nothing' : `{ ${Object.keys(n).join(', ')} }`}`,
    );
  }
  const { encoder, decoder } = n as VaeNetworks;
  const want = [null, ...inputShape];
  const encIn = encoder.inputs.map((t) => t.shape);
  if (encIn.length !== 1 || JSON.stringify(encIn[0]) !== JSON.stringify(want)) {
    throw new RangeError(
      `${where}: "networks.encoder" must take one input of the data's shape ${shapeText(want)}, got ${encIn.map(shapeText).join(', ')}`,
    );
  }
  const encOut = encoder.outputs.map((t) => t.shape);
  let latentDim: number;
  let momentOutputs: 1 | 2;
  const flat = (s: readonly (number | null)[]) => s.length === 2 && s[0] === null && typeof s[1] === 'number';
  if (encOut.length === 1 && flat(encOut[0] as (number | null)[]) && (encOut[0]?.[1] as number) % 2 === 0) {
    latentDim = (encOut[0]?.[1] as number) / 2;
    momentOutputs = 1;
  } else if (encOut.length === 2 && encOut.every((s) => flat(s)) && encOut[0]?.[1] === encOut[1]?.[1]) {
    latentDim = encOut[0]?.[1] as number;
    momentOutputs = 2;
  } else {
    throw new RangeError(
      `${where}: "networks.encoder" must output [N, 2·L] (mu then logvar) or two outputs [N, L] (mu, logvar), got ${encOut.map(shapeText).join(', ')}`,
    );
  }
  const decIn = decoder.inputs.map((t) => t.shape);
  if (decIn.length !== 1 || JSON.stringify(decIn[0]) !== JSON.stringify([null, latentDim])) {
    throw new RangeError(
      `${where}: "networks.decoder" must take one input [N, ${latentDim}] (the encoder gives L = ${latentDim}), got ${decIn.map(shapeText).join(', ')}`,
    );
  }
  const decOut = decoder.outputs.map((t) => t.shape);
  if (decOut.length !== 1 || JSON.stringify(decOut[0]) !== JSON.stringify(want)) {
    throw new RangeError(
      `${where}: "networks.decoder" must output one tensor of the data's shape ${shapeText(want)} (logits, or Gaussian means), got ${decOut.map(shapeText).join(', ')}`,
    );
  }
  return { latentDim, momentOutputs };
}

/** Layer classes whose gradients run on the conv kernels the trainer adds to tfjs-backend-wasm. */
const CONV_CLASSES = new Set(['Conv2D', 'Conv2DTranspose', 'SeparableConv2D', 'DepthwiseConv2D']);

/** Kernels a run needs beyond the MLP's (see registerWasmConvKernels). */
export function kernelsOf(a: Architecture): string[] {
  const conv =
    a.kind === 'conv' ||
    (a.kind === 'custom' &&
      [a.networks.encoder, a.networks.decoder].some((m) =>
        layersOf(m).some((l) => CONV_CLASSES.has(l.getClassName())),
      ));
  return conv ? ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] : [];
}
