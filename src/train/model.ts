import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../core/model-dir.js';
import type { VaeNetworks } from '../tfjs/checkpoint.js';
import { fastDense } from './fast-dense.js';

/** The size of a VAE: one example's shape, the hidden width and the latent dimension. */
export interface VaeShape {
  inputShape: number[];
  hiddenDim: number;
  latentDim: number;
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
 * Builds the seed's MLP VAE: encoder x → Flatten (for images; a row of features is flat already) →
 * Dense(hidden, relu) → Dense(2·latent), whose output holds mu then logvar; decoder z →
 * Dense(hidden, relu) → Dense(D) → Reshape(input shape), logits (Bernoulli) or means (Gaussian).
 * @param seed - seeds every initializer, so the same seed gives the same starting weights.
 */
export function buildMlpVae(shape: VaeShape, seed: number): VaeNetworks {
  const { inputShape, hiddenDim, latentDim } = shape;
  const D = sizeOf(inputShape);
  const encoder = tf.sequential({ name: 'encoder' });
  const flat = inputShape.length === 1;
  if (!flat) encoder.add(tf.layers.flatten({ inputShape, name: 'enc_flatten' }));
  encoder.add(
    tf.layers.dense({
      units: hiddenDim,
      activation: 'relu',
      ...(flat ? { inputShape } : {}),
      ...fanInUniform(D, seed, 1),
      name: 'enc_hidden',
    }),
  );
  encoder.add(
    tf.layers.dense({ units: 2 * latentDim, ...fanInUniform(hiddenDim, seed, 2), name: 'enc_out' }),
  );
  const decoder = tf.sequential({ name: 'decoder' });
  decoder.add(
    tf.layers.dense({
      units: hiddenDim,
      activation: 'relu',
      inputShape: [latentDim],
      ...fanInUniform(latentDim, seed, 3),
      name: 'dec_hidden',
    }),
  );
  decoder.add(tf.layers.dense({ units: D, ...fanInUniform(hiddenDim, seed, 4), name: 'dec_out' }));
  decoder.add(tf.layers.reshape({ targetShape: inputShape, name: 'dec_reshape' }));
  return { encoder, decoder };
}

/**
 * Builds the conv VAE of the TensorFlow CVAE tutorial: encoder x → Conv2D(32, 3, stride 2, relu) →
 * Conv2D(64, 3, stride 2, relu) → Flatten → Dense(2·latent); decoder z → Dense((H/4)·(W/4)·32, relu) →
 * Reshape → Conv2DTranspose(64, 3, stride 2, relu) → Conv2DTranspose(32, 3, stride 2, relu) →
 * Conv2DTranspose(C, 3, stride 1), all transposed convolutions with "same" padding.
 * @throws RangeError when the image height or width is not a multiple of 4.
 */
export function buildConvVae(shape: VaeShape, seed: number): VaeNetworks {
  const { inputShape, latentDim } = shape;
  const [h, w, c] = inputShape as [number, number, number];
  if (inputShape.length !== 3 || h % 4 !== 0 || w % 4 !== 0) {
    throw new RangeError(
      `buildConvVae: "inputShape" must be [H, W, C] with H and W multiples of 4, got [${inputShape}]`,
    );
  }
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 16 + k });
  const encoder = tf.sequential({ name: 'encoder' });
  encoder.add(
    tf.layers.conv2d({
      inputShape,
      filters: 32,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      kernelInitializer: init(1),
      name: 'enc_conv1',
    }),
  );
  encoder.add(
    tf.layers.conv2d({
      filters: 64,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      kernelInitializer: init(2),
      name: 'enc_conv2',
    }),
  );
  encoder.add(tf.layers.flatten({ name: 'enc_flatten' }));
  encoder.add(tf.layers.dense({ units: 2 * latentDim, kernelInitializer: init(3), name: 'enc_out' }));
  const decoder = tf.sequential({ name: 'decoder' });
  decoder.add(
    tf.layers.dense({
      inputShape: [latentDim],
      units: (h / 4) * (w / 4) * 32,
      activation: 'relu',
      kernelInitializer: init(4),
      name: 'dec_hidden',
    }),
  );
  decoder.add(tf.layers.reshape({ targetShape: [h / 4, w / 4, 32], name: 'dec_reshape' }));
  const deconv = (filters: number, strides: number, activation: 'relu' | 'linear', k: number, name: string) =>
    tf.layers.conv2dTranspose({
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      activation,
      kernelInitializer: init(k),
      name,
    });
  decoder.add(deconv(64, 2, 'relu', 5, 'dec_deconv1'));
  decoder.add(deconv(32, 2, 'relu', 6, 'dec_deconv2'));
  decoder.add(deconv(c, 1, 'linear', 7, 'dec_out'));
  return { encoder, decoder };
}

/** Builds the networks of `arch`. */
export function buildVae(arch: 'mlp' | 'conv', shape: VaeShape, seed: number): VaeNetworks {
  return arch === 'conv' ? buildConvVae(shape, seed) : buildMlpVae(shape, seed);
}

const FAST_ACTIVATIONS: Record<string, (t: tf.Tensor) => tf.Tensor> = {
  linear: (t) => t,
  relu: (t) => tf.relu(t),
  sigmoid: (t) => tf.sigmoid(t),
  tanh: (t) => tf.tanh(t),
};

/**
 * Runs a network whose layers form a chain (as the trainer's do) for training: the same computation as `model.apply`, with Dense layers
 * on the fast-gradient road of `fastDense`. Other layers run through their own `apply`.
 * @param inputIsData - true when `x` is data rather than a function of trainable weights.
 */
export function applyForTraining(model: tf.LayersModel, x: tf.Tensor, inputIsData: boolean): tf.Tensor {
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
      t = layer.apply(t) as tf.Tensor;
    }
    needsGrad ||= layer.trainableWeights.length > 0;
  }
  return t;
}

/** Splits the encoder's [N, 2L] output into mu and logvar. */
export function splitMoments(out: tf.Tensor): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
  const [mu, logvar] = tf.split(out as tf.Tensor2D, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mu, logvar };
}

/**
 * Kernels a training run needs beyond the MLP's. (tfjs-backend-wasm 4.22 lacks Conv2DBackpropFilter
 * and has a slow Conv2DBackpropInput; `registerWasmConvKernels` supplies both when the wasm backend
 * is selected.)
 */
export function kernelsFor(arch: 'mlp' | 'conv'): string[] {
  return arch === 'conv' ? ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] : [];
}
