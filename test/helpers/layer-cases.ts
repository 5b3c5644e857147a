import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../../src/core/random.js';
import { type ExportOptions, SUPPORTED_ACTIVATIONS } from '../../src/export/index.js';
import { RECURRENT_CASES } from './recurrent-cases.js';
import { VOLUME_CASES } from './volume-cases.js';

/** One small tfjs model per exporter case: the table the parity suite and the op-coverage docs share. */
const L = tf.layers;
let seed = 100;
const init = () => tf.initializers.glorotUniform({ seed: seed++ });
const biasInit = () => tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed++ });

/** One model per case: its input shapes (without batch), a builder, and the parity bound. */
export interface Case {
  name: string;
  inputs: number[][];
  build: () => tf.LayersModel;
  tolerance?: number;
  /** Inputs are integer indices in [0, n) instead of normal draws. */
  indices?: number;
  /**
   * Compare with the layers called one by one on tensors, not with `predict`: for tfjs 4.22 layers
   * that deserialize but fail inside `predict` (Resizing and RandomWidth hand an array to the resize
   * op; CategoryEncoding overwrites its input's shape). Chains of layers only.
   */
  eager?: boolean;
  /** Inputs made by the case itself (masked steps, padded token ids), for a batch size. */
  data?: (batch: number) => Float32Array[];
  options?: Partial<ExportOptions>;
}

function seq(inputShape: number[], layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x: tf.SymbolicTensor = input;
  for (const layer of layers) x = layer.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

function merge(layer: tf.layers.Layer, shapes: number[][]): tf.LayersModel {
  const inputs = shapes.map((shape) => tf.input({ shape }));
  return tf.model({ inputs, outputs: layer.apply(inputs) as tf.SymbolicTensor });
}

/** Randomizes every weight of a built model (so biases, BN statistics and slopes are not trivial). */
function randomize(
  model: tf.LayersModel,
  positive: (name: string) => boolean = (n) => n.includes('variance'),
): tf.LayersModel {
  for (const layer of model.layers) {
    const weights = layer.weights.map((w, k) => {
      const values = normalArray(
        (w.shape as number[]).reduce((a, b) => a * b, 1),
        seed++ + k,
      );
      const data = positive(w.name) ? values.map((v) => 0.5 + Math.abs(v)) : values.map((v) => 0.5 * v);
      return tf.tensor(data, w.shape as number[]);
    });
    if (weights.length > 0) layer.setWeights(weights);
  }
  return model;
}

const conv = (args: Parameters<typeof L.conv2d>[0]) =>
  L.conv2d({ kernelInitializer: init(), biasInitializer: biasInit(), ...args });

const BASE_CASES: Case[] = [
  {
    name: 'Dense relu (Sequential)',
    inputs: [[6]],
    build: () => {
      const m = tf.sequential();
      m.add(
        L.dense({
          units: 5,
          inputShape: [6],
          activation: 'relu',
          kernelInitializer: init(),
          biasInitializer: biasInit(),
        }),
      );
      m.add(L.dense({ units: 3, activation: 'softmax', kernelInitializer: init() }));
      return m;
    },
  },
  {
    name: 'Dense on rank 3 (MatMul + Add)',
    inputs: [[4, 6]],
    build: () => seq([4, 6], [L.dense({ units: 3, kernelInitializer: init(), biasInitializer: biasInit() })]),
  },
  {
    name: 'Conv2D valid stride 2 relu',
    inputs: [[9, 9, 3]],
    build: () => seq([9, 9, 3], [conv({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu' })]),
  },
  {
    name: 'Conv2D same dilation 2',
    inputs: [[8, 8, 2]],
    build: () => seq([8, 8, 2], [conv({ filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2 })]),
  },
  {
    name: 'Conv2D same stride 2 on odd size, 2×3 kernel',
    inputs: [[7, 7, 2]],
    build: () =>
      seq(
        [7, 7, 2],
        [conv({ filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same', activation: 'tanh' })],
      ),
  },
  {
    name: 'Conv2DTranspose same stride 2',
    inputs: [[5, 5, 3]],
    build: () =>
      seq(
        [5, 5, 3],
        [
          L.conv2dTranspose({
            filters: 2,
            kernelSize: 3,
            strides: 2,
            padding: 'same',
            kernelInitializer: init(),
            biasInitializer: biasInit(),
            activation: 'relu',
          }),
        ],
      ),
  },
  {
    name: 'Conv2DTranspose valid stride 1, 4×4 kernel',
    inputs: [[4, 4, 2]],
    build: () =>
      seq(
        [4, 4, 2],
        [L.conv2dTranspose({ filters: 3, kernelSize: 4, padding: 'valid', kernelInitializer: init() })],
      ),
  },
  {
    name: 'Conv2DTranspose same stride 2, 2×2 kernel',
    inputs: [[3, 3, 2]],
    build: () =>
      seq(
        [3, 3, 2],
        [
          L.conv2dTranspose({
            filters: 2,
            kernelSize: 2,
            strides: 2,
            padding: 'same',
            kernelInitializer: init(),
          }),
        ],
      ),
  },
  {
    name: 'Conv1D same',
    inputs: [[10, 3]],
    build: () =>
      seq(
        [10, 3],
        [
          L.conv1d({
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: init(),
            biasInitializer: biasInit(),
          }),
        ],
      ),
  },
  {
    name: 'Conv1D valid stride 2',
    inputs: [[11, 2]],
    build: () =>
      seq(
        [11, 2],
        [L.conv1d({ filters: 3, kernelSize: 3, strides: 2, kernelInitializer: init(), activation: 'relu' })],
      ),
  },
  {
    name: 'Conv1D valid dilation 2',
    inputs: [[9, 2]],
    build: () =>
      seq([9, 2], [L.conv1d({ filters: 2, kernelSize: 2, dilationRate: 2, kernelInitializer: init() })]),
  },
  {
    name: 'DepthwiseConv2D multiplier 2 same',
    inputs: [[6, 6, 3]],
    build: () =>
      seq(
        [6, 6, 3],
        [
          L.depthwiseConv2d({
            kernelSize: 3,
            depthMultiplier: 2,
            padding: 'same',
            depthwiseInitializer: init(),
            biasInitializer: biasInit(),
            useBias: true,
          }),
        ],
      ),
  },
  {
    name: 'SeparableConv2D',
    inputs: [[7, 7, 2]],
    build: () =>
      seq(
        [7, 7, 2],
        [
          L.separableConv2d({
            filters: 4,
            kernelSize: 3,
            depthMultiplier: 2,
            padding: 'same',
            depthwiseInitializer: init(),
            pointwiseInitializer: init(),
            biasInitializer: biasInit(),
            activation: 'relu',
          }),
        ],
      ),
  },
  {
    name: 'MaxPooling2D valid',
    inputs: [[6, 6, 2]],
    build: () => seq([6, 6, 2], [L.maxPooling2d({ poolSize: 2 })]),
  },
  {
    name: 'MaxPooling2D same on odd size',
    inputs: [[7, 5, 2]],
    build: () => seq([7, 5, 2], [L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })]),
  },
  {
    name: 'AveragePooling2D same (padding not counted)',
    inputs: [[5, 5, 2]],
    build: () => seq([5, 5, 2], [L.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' })]),
  },
  { name: 'MaxPooling1D', inputs: [[8, 3]], build: () => seq([8, 3], [L.maxPooling1d({ poolSize: 2 })]) },
  {
    name: 'AveragePooling1D same',
    inputs: [[7, 3]],
    build: () => seq([7, 3], [L.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' })]),
  },
  {
    name: 'GlobalAveragePooling2D',
    inputs: [[4, 5, 3]],
    build: () => seq([4, 5, 3], [L.globalAveragePooling2d({})]),
  },
  {
    name: 'GlobalMaxPooling2D',
    inputs: [[4, 5, 3]],
    build: () => seq([4, 5, 3], [L.globalMaxPooling2d({})]),
  },
  {
    name: 'GlobalAveragePooling1D',
    inputs: [[6, 3]],
    build: () => seq([6, 3], [L.globalAveragePooling1d({})]),
  },
  { name: 'GlobalMaxPooling1D', inputs: [[6, 3]], build: () => seq([6, 3], [L.globalMaxPooling1d({})]) },
  {
    name: 'BatchNormalization (inference)',
    inputs: [[4, 4, 3]],
    build: () => randomize(seq([4, 4, 3], [L.batchNormalization({})])),
  },
  {
    name: 'BatchNormalization on features',
    inputs: [[5]],
    build: () => randomize(seq([5], [L.batchNormalization({ epsilon: 0.01 })])),
  },
  {
    name: 'LayerNormalization',
    inputs: [[5, 6]],
    build: () => randomize(seq([5, 6], [L.layerNormalization({})]), () => false),
  },
  {
    name: 'Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout',
    inputs: [[6, 4]],
    build: () =>
      seq(
        [6, 4],
        [
          L.dropout({ rate: 0.5 }),
          L.spatialDropout1d({ rate: 0.5 }),
          L.gaussianNoise({ stddev: 1 }),
          L.gaussianDropout({ rate: 0.3 }),
          L.alphaDropout({ rate: 0.3 }),
          L.dense({ units: 2, kernelInitializer: init() }),
        ],
      ),
  },
  {
    name: 'Flatten, Reshape, Permute, RepeatVector',
    inputs: [[2, 3, 4]],
    build: () =>
      seq(
        [2, 3, 4],
        [
          L.permute({ dims: [3, 1, 2] }),
          L.flatten({}),
          L.dense({ units: 6, kernelInitializer: init() }),
          L.repeatVector({ n: 3 }),
          L.reshape({ targetShape: [9, 2] }),
        ],
      ),
  },
  ...SUPPORTED_ACTIVATIONS.map((activation) => ({
    name: `Activation ${activation}`,
    inputs: [[3, 5]],
    build: () => seq([3, 5], [L.activation({ activation: activation as 'relu' })]),
  })),
  { name: 'ReLU with maxValue', inputs: [[7]], build: () => seq([7], [L.reLU({ maxValue: 0.5 })]) },
  { name: 'LeakyReLU', inputs: [[7]], build: () => seq([7], [L.leakyReLU({ alpha: 0.2 })]) },
  { name: 'PReLU', inputs: [[3, 4]], build: () => randomize(seq([3, 4], [L.prelu({})]), () => false) },
  { name: 'ELU', inputs: [[7]], build: () => seq([7], [L.elu({})]) },
  { name: 'ThresholdedReLU', inputs: [[7]], build: () => seq([7], [L.thresholdedReLU({ theta: 0.3 })]) },
  { name: 'Softmax', inputs: [[6]], build: () => seq([6], [L.softmax({})]) },
  { name: 'Add of three', inputs: [[4], [4], [4]], build: () => merge(L.add({}), [[4], [4], [4]]) },
  { name: 'Multiply of three', inputs: [[4], [4], [4]], build: () => merge(L.multiply({}), [[4], [4], [4]]) },
  {
    name: 'Average',
    inputs: [
      [2, 4],
      [2, 4],
    ],
    build: () =>
      merge(L.average({}), [
        [2, 4],
        [2, 4],
      ]),
  },
  { name: 'Maximum', inputs: [[4], [4]], build: () => merge(L.maximum({}), [[4], [4]]) },
  { name: 'Minimum', inputs: [[4], [4]], build: () => merge(L.minimum({}), [[4], [4]]) },
  {
    name: 'Concatenate on the last axis',
    inputs: [
      [2, 3],
      [2, 5],
    ],
    build: () =>
      merge(L.concatenate({}), [
        [2, 3],
        [2, 5],
      ]),
  },
  {
    name: 'Concatenate on axis 1',
    inputs: [
      [2, 3],
      [4, 3],
    ],
    build: () =>
      merge(L.concatenate({ axis: 1 }), [
        [2, 3],
        [4, 3],
      ]),
  },
  {
    name: 'Dot of vectors, normalized',
    inputs: [[5], [5]],
    build: () => merge(L.dot({ axes: 1, normalize: true }), [[5], [5]]),
  },
  {
    name: 'Dot of rank-3 inputs',
    inputs: [
      [3, 4],
      [5, 4],
    ],
    build: () =>
      merge(L.dot({ axes: [2, 2] }), [
        [3, 4],
        [5, 4],
      ]),
  },
  {
    name: 'UpSampling2D nearest',
    inputs: [[3, 4, 2]],
    build: () => seq([3, 4, 2], [L.upSampling2d({ size: [2, 3] })]),
  },
  {
    name: 'UpSampling2D bilinear',
    inputs: [[3, 4, 2]],
    build: () => seq([3, 4, 2], [L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' })]),
  },
  {
    name: 'ZeroPadding2D',
    inputs: [[3, 3, 2]],
    build: () =>
      seq(
        [3, 3, 2],
        [
          L.zeroPadding2d({
            padding: [
              [1, 2],
              [0, 3],
            ],
          }),
        ],
      ),
  },
  {
    name: 'Cropping2D',
    inputs: [[6, 7, 2]],
    build: () =>
      seq(
        [6, 7, 2],
        [
          L.cropping2D({
            cropping: [
              [1, 2],
              [0, 3],
            ],
          }),
        ],
      ),
  },
  {
    name: 'Embedding',
    inputs: [[5]],
    indices: 10,
    build: () => seq([5], [L.embedding({ inputDim: 10, outputDim: 3, embeddingsInitializer: init() })]),
  },
  {
    name: 'Conv2D, BatchNormalization, Conv2D (normalization stays channels-first)',
    inputs: [[8, 8, 3]],
    build: () =>
      randomize(
        seq(
          [8, 8, 3],
          [
            conv({ filters: 4, kernelSize: 3, padding: 'same' }),
            L.batchNormalization({}),
            L.activation({ activation: 'relu' }),
            conv({ filters: 2, kernelSize: 3, padding: 'same' }),
          ],
        ),
      ),
  },
  {
    name: 'nested Sequential inside a functional model',
    inputs: [[6]],
    build: () => {
      const inner = tf.sequential({
        layers: [L.dense({ units: 4, inputShape: [6], activation: 'relu', kernelInitializer: init() })],
      });
      const input = tf.input({ shape: [6] });
      const h = inner.apply(input) as tf.SymbolicTensor;
      return tf.model({
        inputs: input,
        outputs: L.dense({ units: 2, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor,
      });
    },
  },
  {
    name: 'two inputs, two outputs',
    inputs: [[3], [4]],
    build: () => {
      const a = tf.input({ shape: [3] });
      const b = tf.input({ shape: [4] });
      const joined = L.concatenate({}).apply([a, b]) as tf.SymbolicTensor;
      const out1 = L.dense({ units: 2, kernelInitializer: init() }).apply(joined) as tf.SymbolicTensor;
      const out2 = L.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init() }).apply(
        b,
      ) as tf.SymbolicTensor;
      return tf.model({ inputs: [a, b], outputs: [out1, out2] });
    },
  },
  {
    name: 'deep conv stack (Conv, pool, Conv, Conv2DTranspose, UpSampling, Conv)',
    inputs: [[16, 16, 3]],
    tolerance: 1e-4,
    build: () =>
      seq(
        [16, 16, 3],
        [
          conv({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
          L.maxPooling2d({ poolSize: 2 }),
          conv({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
          L.conv2dTranspose({
            filters: 6,
            kernelSize: 3,
            strides: 2,
            padding: 'same',
            kernelInitializer: init(),
            activation: 'relu',
          }),
          L.upSampling2d({ size: [2, 2] }),
          conv({ filters: 3, kernelSize: 3, padding: 'same' }),
        ],
      ),
  },
];

/** Every parity case: the layer classes above, the recurrent layers and their companions, the 3-D and preprocessing layers. */
export const CASES: Case[] = [...BASE_CASES, ...RECURRENT_CASES, ...VOLUME_CASES];

/** Seeded inputs for a case: normal draws, or integer indices for an Embedding. */
export function inputData(c: Case, batch: number): Float32Array[] {
  if (c.data) return c.data(batch);
  return c.inputs.map((shape, k) => {
    const n = batch * shape.reduce((a, b) => a * b, 1);
    return c.indices
      ? Float32Array.from({ length: n }, (_, i) => (i * 7 + k) % (c.indices as number))
      : normalArray(n, 17 + k);
  });
}
