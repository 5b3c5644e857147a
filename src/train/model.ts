import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../core/model-dir.js';
import type { VaeNetworks } from '../tfjs/checkpoint.js';
import { type Architecture, convPadding, DEFAULT_FILTERS } from './architecture.js';
import { fastDense } from './fast-dense.js';

/** The size of a VAE: one example's shape, the hidden width(s) and the latent dimension. */
export interface VaeShape {
  inputShape: number[];
  /** The MLP's hidden width (one layer); `hidden` gives several. */
  hiddenDim: number;
  latentDim: number;
  /** MLP: every hidden layer's width, encoder order (the decoder mirrors them). */
  hidden?: readonly number[];
  /** Conv: filters per level, encoder order. Default [32, 64]. */
  filters?: readonly number[];
}

export type { VaeNetworks } from '../tfjs/checkpoint.js';

/**
 * Kernel and bias drawn from U(−1/√fan_in, 1/√fan_in), as PyTorch's nn.Linear starts, so that the MLP
 * begins where the reference implementations of the seed's VAE begin.
 */
function fanInUniform(fanIn: number, seed: number, k: number) {
  const limit = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tf.initializers.varianceScaling({
      scale: 1 / 3,
      mode: 'fanIn',
      distribution: 'uniform',
      seed: seed * 16 + k,
    }),
    biasInitializer: tf.initializers.randomUniform({
      minval: -limit,
      maxval: limit,
      seed: seed * 16 + k + 8,
    }),
  };
}

/**
 * Builds the MLP VAE: encoder x → Flatten (for images; a row of features is flat already) →
 * Dense(h1, relu) → … → Dense(hk, relu) → Dense(2·latent), whose output holds mu then logvar; decoder
 * z → Dense(hk, relu) → … → Dense(h1, relu) → Dense(D) → Reshape(input shape), logits (Bernoulli) or
 * means (Gaussian). One hidden layer (`hiddenDim`) is the seed's VAE, its layers named enc_hidden,
 * enc_out, dec_hidden, dec_out; deeper ones (`hidden`) name theirs enc_hidden_1…k and dec_hidden_1…k
 * (dec_hidden_1 next to z).
 * @param seed - seeds every initializer, so the same seed gives the same starting weights.
 */
export function buildMlpVae(shape: VaeShape, seed: number): VaeNetworks {
  const { inputShape, latentDim } = shape;
  const hidden = [...(shape.hidden ?? [shape.hiddenDim])];
  const D = sizeOf(inputShape);
  const deep = hidden.length > 1;
  // The seed's VAE keeps its initializer seeds (seed·16 + k); deeper ones take seed·1024 + 16·j.
  const init = (fanIn: number, j: number) =>
    deep
      ? {
          kernelInitializer: tf.initializers.varianceScaling({
            scale: 1 / 3,
            mode: 'fanIn',
            distribution: 'uniform',
            seed: seed * 1024 + 16 * j,
          }),
          biasInitializer: tf.initializers.randomUniform({
            minval: -1 / Math.sqrt(fanIn),
            maxval: 1 / Math.sqrt(fanIn),
            seed: seed * 1024 + 16 * j + 8,
          }),
        }
      : fanInUniform(fanIn, seed, j);
  const name = (side: 'enc' | 'dec', j: number) => (deep ? `${side}_hidden_${j}` : `${side}_hidden`);
  const encoder = tf.sequential({ name: 'encoder' });
  const flat = inputShape.length === 1;
  if (!flat) encoder.add(tf.layers.flatten({ inputShape, name: 'enc_flatten' }));
  let fanIn = D;
  hidden.forEach((units, i) => {
    encoder.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        ...(flat && i === 0 ? { inputShape } : {}),
        ...init(fanIn, deep ? i + 1 : 1),
        name: name('enc', i + 1),
      }),
    );
    fanIn = units;
  });
  encoder.add(
    tf.layers.dense({ units: 2 * latentDim, ...init(fanIn, deep ? hidden.length + 1 : 2), name: 'enc_out' }),
  );
  const decoder = tf.sequential({ name: 'decoder' });
  fanIn = latentDim;
  [...hidden].reverse().forEach((units, i) => {
    decoder.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [latentDim] } : {}),
        ...init(fanIn, deep ? hidden.length + 2 + i : 3),
        name: name('dec', i + 1),
      }),
    );
    fanIn = units;
  });
  decoder.add(
    tf.layers.dense({ units: D, ...init(fanIn, deep ? 2 * hidden.length + 2 : 4), name: 'dec_out' }),
  );
  decoder.add(tf.layers.reshape({ targetShape: inputShape, name: 'dec_reshape' }));
  return { encoder, decoder };
}

/**
 * Builds the conv VAE. With two levels (the default filters 32, 64) it is the TensorFlow CVAE
 * tutorial's: encoder x → Conv2D(32, 3, stride 2, relu) → Conv2D(64, 3, stride 2, relu) → Flatten →
 * Dense(2·latent), "valid" padding; decoder z → Dense((H/4)·(W/4)·32, relu) → Reshape →
 * Conv2DTranspose(64, 3, stride 2, relu) → Conv2DTranspose(32, 3, stride 2, relu) → Conv2DTranspose(C,
 * 3, stride 1). Deeper filter lists f1…fn follow the PyTorch peer's rule: encoder convolutions pad
 * "same" (H/2 per level), decoder Dense(f1·H/2ⁿ·W/2ⁿ, relu) → Reshape → Conv2DTranspose(f, 3, stride 2,
 * relu) for f = fn…f1 → Conv2DTranspose(C, 3, stride 1); every transposed convolution pads "same".
 * @throws RangeError when the image height or width is not a multiple of 2ⁿ.
 */
export function buildConvVae(shape: VaeShape, seed: number): VaeNetworks {
  const { inputShape, latentDim } = shape;
  const filters = [...(shape.filters ?? DEFAULT_FILTERS)];
  const n = filters.length;
  const [h, w, c] = inputShape as [number, number, number];
  const scale = 2 ** n;
  if (inputShape.length !== 3 || h % scale !== 0 || w % scale !== 0) {
    throw new RangeError(
      `buildConvVae: "inputShape" must be [H, W, C] with H and W multiples of ${scale} (2^${n} for ${n} levels of filters), got [${inputShape}]`,
    );
  }
  const padding = convPadding(filters);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 16 + k });
  const encoder = tf.sequential({ name: 'encoder' });
  filters.forEach((f, i) => {
    encoder.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape } : {}),
        filters: f,
        kernelSize: 3,
        strides: 2,
        padding,
        activation: 'relu',
        kernelInitializer: init(1 + i),
        name: `enc_conv${i + 1}`,
      }),
    );
  });
  encoder.add(tf.layers.flatten({ name: 'enc_flatten' }));
  encoder.add(tf.layers.dense({ units: 2 * latentDim, kernelInitializer: init(n + 1), name: 'enc_out' }));
  const decoder = tf.sequential({ name: 'decoder' });
  const [h0, w0, f0] = [h / scale, w / scale, filters[0] as number];
  decoder.add(
    tf.layers.dense({
      inputShape: [latentDim],
      units: h0 * w0 * f0,
      activation: 'relu',
      kernelInitializer: init(n + 2),
      name: 'dec_hidden',
    }),
  );
  decoder.add(tf.layers.reshape({ targetShape: [h0, w0, f0], name: 'dec_reshape' }));
  const deconv = (units: number, strides: number, activation: 'relu' | 'linear', k: number, name: string) =>
    tf.layers.conv2dTranspose({
      filters: units,
      kernelSize: 3,
      strides,
      padding: 'same',
      activation,
      kernelInitializer: init(k),
      name,
    });
  [...filters].reverse().forEach((f, i) => {
    decoder.add(deconv(f, 2, 'relu', n + 3 + i, `dec_deconv${i + 1}`));
  });
  decoder.add(deconv(c, 1, 'linear', 2 * n + 3, 'dec_out'));
  return { encoder, decoder };
}

/** Builds the networks of `arch`. */
export function buildVae(arch: 'mlp' | 'conv', shape: VaeShape, seed: number): VaeNetworks {
  return arch === 'conv' ? buildConvVae(shape, seed) : buildMlpVae(shape, seed);
}

/**
 * The networks of an architecture: built from the seed for a built-in, the caller's own otherwise.
 */
export function networksOf(
  a: Architecture,
  inputShape: number[],
  latentDim: number,
  seed: number,
): VaeNetworks {
  if (a.kind === 'custom') return a.networks;
  return a.kind === 'conv'
    ? buildConvVae({ inputShape, latentDim, hiddenDim: 0, filters: a.filters }, seed)
    : buildMlpVae({ inputShape, latentDim, hiddenDim: a.hidden[0] as number, hidden: a.hidden }, seed);
}

const FAST_ACTIVATIONS: Record<string, (t: tf.Tensor) => tf.Tensor> = {
  linear: (t) => t,
  relu: (t) => tf.relu(t),
  sigmoid: (t) => tf.sigmoid(t),
  tanh: (t) => tf.tanh(t),
};

const chains = new WeakMap<tf.LayersModel, boolean>();

/** Whether a network is a chain: one input, one output, each layer fed by the one before (a Sequential, or a functional model laid out as one). */
export function isChain(model: tf.LayersModel): boolean {
  let chain = chains.get(model);
  if (chain === undefined) {
    const layers = model.layers;
    chain =
      model.inputs.length === 1 &&
      model.outputs.length === 1 &&
      layers.every((layer, i) => {
        if (i === 0) return layer.getClassName() === 'InputLayer' || layer.inboundNodes.length <= 1;
        const nodes = layer.inboundNodes;
        const prev = layers[i - 1] as tf.layers.Layer;
        return (
          nodes.length === 1 && nodes[0]?.inputTensors.length === 1 && nodes[0]?.inboundLayers[0] === prev
        );
      }) &&
      model.outputs[0]?.sourceLayer === layers.at(-1);
    chains.set(model, chain);
  }
  return chain;
}

/**
 * Runs a network for training: the same computation as `model.apply(x, { training: true })` (so
 * Dropout drops and BatchNormalization uses the batch's moments), with the Dense layers of a chain
 * on the fast-gradient road of `fastDense`. A network that is not a chain (several inputs or
 * outputs, branches) runs through its own `apply`.
 * @param inputIsData - true when `x` is data rather than a function of trainable weights.
 */
export function applyForTraining(
  model: tf.LayersModel,
  x: tf.Tensor,
  inputIsData: boolean,
): tf.Tensor | tf.Tensor[] {
  if (!isChain(model)) return model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
  let t = x;
  let needsGrad = !inputIsData;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const activation = FAST_ACTIVATIONS[String(layer.getConfig().activation)];
    if (
      layer.getClassName() === 'Dense' &&
      activation &&
      t.rank === 2 &&
      layer.trainableWeights.length === 2
    ) {
      const [kernel, bias] = layer.trainableWeights.map((w) => w.read()) as [tf.Tensor2D, tf.Tensor1D];
      t = activation(fastDense(t as tf.Tensor2D, kernel, bias, needsGrad));
    } else {
      t = layer.apply(t, { training: true }) as tf.Tensor;
    }
    needsGrad ||= layer.trainableWeights.length > 0;
  }
  return t;
}

/** The latent size L of a pair of networks: the width of the codes the decoder takes. */
export function latentWidth(decoder: tf.LayersModel): number {
  return decoder.inputs[0]?.shape[1] as number;
}

/** The encoder's moments: its [N, 2L] output split into mu and logvar, or its two outputs as they are. */
export function splitMoments(out: tf.Tensor | tf.Tensor[]): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
  if (Array.isArray(out)) {
    const [mu, logvar] = out as [tf.Tensor2D, tf.Tensor2D];
    return { mu, logvar };
  }
  const [mu, logvar] = tf.split(out as tf.Tensor2D, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mu, logvar };
}

/**
 * Kernels a training run needs beyond the MLP's. (tfjs-backend-wasm 4.22 lacks Conv2DBackpropFilter
 * and has a slow Conv2DBackpropInput; `registerWasmConvKernels` supplies both when the wasm backend
 * is selected.) `kernelsOf` in architecture.ts answers for any architecture.
 */
export function kernelsFor(arch: 'mlp' | 'conv'): string[] {
  return arch === 'conv' ? ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] : [];
}
