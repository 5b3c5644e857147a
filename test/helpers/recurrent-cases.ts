/**
 * Parity cases for the recurrent layers and their companions (Masking, TimeDistributed,
 * Bidirectional): every option the converters read, both ONNX ways (operators and Scan), masks in
 * leading, middle and trailing steps, and stacks over 100 steps.
 */
import * as tf from '@tensorflow/tfjs';
import { normalArray } from '../../src/core/random.js';
import type { Case } from './layer-cases.js';

const L = tf.layers;
let seed = 900;
/** Weights large enough that gates saturate sometimes and differ from zero everywhere. */
const w = () => tf.initializers.randomUniform({ minval: -0.6, maxval: 0.6, seed: seed++ });
const rnnWeights = () => ({ kernelInitializer: w(), recurrentInitializer: w(), biasInitializer: w() });

function model(
  inputs: tf.SymbolicTensor[],
  outputs: tf.SymbolicTensor | tf.SymbolicTensor[],
): tf.LayersModel {
  return tf.model({ inputs, outputs });
}

function chain(shape: (number | null)[], layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape });
  let x: tf.SymbolicTensor | tf.SymbolicTensor[] = input;
  for (const layer of layers) x = layer.apply(x) as tf.SymbolicTensor | tf.SymbolicTensor[];
  return model([input], x);
}

/**
 * Normal draws with whole steps set to the mask value 0: for example i, step t when (i + t) % 3 == 0,
 * so masked steps lead, sit in the middle and trail.
 */
function maskedSteps(shape: number[], batch: number, seedValue: number): Float32Array {
  const [steps, ...rest] = shape as [number, ...number[]];
  const width = rest.reduce((a, b) => a * b, 1);
  const data = normalArray(batch * steps * width, seedValue);
  for (let i = 0; i < batch; i++) {
    for (let t = 0; t < steps; t++) {
      if ((i + t) % 3 === 0) data.fill(0, (i * steps + t) * width, (i * steps + t + 1) * width);
    }
  }
  return data;
}

/** Token ids in [0, n) with zeros (the padding id) at the same steps as `maskedSteps`. */
function paddedTokens(steps: number, batch: number, n: number): Float32Array {
  return Float32Array.from({ length: batch * steps }, (_, k) => {
    const i = Math.floor(k / steps);
    const t = k % steps;
    return (i + t) % 3 === 0 ? 0 : 1 + ((k * 5) % (n - 1));
  });
}

export const RECURRENT_CASES: Case[] = [
  {
    name: 'LSTM (hardSigmoid gates; last output) → ONNX LSTM',
    inputs: [[7, 3]],
    build: () => chain([7, 3], [L.lstm({ units: 5, ...rnnWeights() })]),
  },
  {
    name: 'LSTM returnSequences + returnState, sigmoid gates, dynamic length',
    inputs: [[9, 3]],
    build: () =>
      chain(
        [null, 3],
        [
          L.lstm({
            units: 4,
            returnSequences: true,
            returnState: true,
            recurrentActivation: 'sigmoid',
            ...rnnWeights(),
          }),
        ],
      ),
  },
  {
    name: 'LSTM goBackwards returnSequences (outputs in processing order)',
    inputs: [[6, 2]],
    build: () =>
      chain([6, 2], [L.lstm({ units: 3, goBackwards: true, returnSequences: true, ...rnnWeights() })]),
  },
  {
    name: 'LSTM without bias, relu activation',
    inputs: [[5, 3]],
    build: () =>
      chain(
        [5, 3],
        [
          L.lstm({
            units: 4,
            useBias: false,
            activation: 'relu',
            kernelInitializer: w(),
            recurrentInitializer: w(),
          }),
        ],
      ),
  },
  {
    name: 'GRU (reset before the product, as tfjs) → ONNX GRU',
    inputs: [[8, 4]],
    build: () => chain([8, 4], [L.gru({ units: 5, ...rnnWeights() })]),
  },
  {
    name: 'GRU goBackwards returnSequences returnState, sigmoid/softsign',
    inputs: [[6, 3]],
    build: () =>
      chain(
        [6, 3],
        [
          L.gru({
            units: 3,
            goBackwards: true,
            returnSequences: true,
            returnState: true,
            recurrentActivation: 'sigmoid',
            activation: 'softsign',
            ...rnnWeights(),
          }),
        ],
      ),
  },
  {
    name: 'SimpleRNN relu → ONNX RNN',
    inputs: [[6, 3]],
    build: () =>
      chain([6, 3], [L.simpleRNN({ units: 4, activation: 'relu', returnSequences: true, ...rnnWeights() })]),
  },
  {
    name: 'SimpleRNN selu (no ONNX RNN activation: Scan)',
    inputs: [[6, 3]],
    build: () =>
      chain([6, 3], [L.simpleRNN({ units: 4, activation: 'selu', returnSequences: true, ...rnnWeights() })]),
  },
  {
    name: 'LSTM swish activation, linear gates (Scan)',
    inputs: [[5, 3]],
    build: () =>
      chain(
        [5, 3],
        [
          L.lstm({
            units: 3,
            activation: 'swish',
            recurrentActivation: 'linear',
            returnSequences: true,
            ...rnnWeights(),
          }),
        ],
      ),
  },
  {
    name: 'GRU gelu activation, goBackwards (Scan, reversed)',
    inputs: [[5, 2]],
    build: () =>
      chain(
        [5, 2],
        [L.gru({ units: 3, activation: 'gelu', goBackwards: true, returnSequences: true, ...rnnWeights() })],
      ),
  },
  {
    name: 'RNN over StackedRNNCells [LSTMCell, GRUCell, SimpleRNNCell], returnSequences + returnState',
    inputs: [[6, 3]],
    build: () =>
      chain(
        [6, 3],
        [
          L.rnn({
            cell: [
              L.lstmCell({ units: 4, ...rnnWeights() }),
              L.gruCell({ units: 3, ...rnnWeights() }),
              L.simpleRNNCell({ units: 2, ...rnnWeights() }),
            ],
            returnSequences: true,
            returnState: true,
          }),
        ],
      ),
  },
  {
    name: 'RNN over one GRUCell, goBackwards',
    inputs: [[5, 3]],
    build: () =>
      chain([5, 3], [L.rnn({ cell: L.gruCell({ units: 4, ...rnnWeights() }), goBackwards: true })]),
  },
  {
    name: 'LSTM with initial states as model inputs (encoder–decoder)',
    inputs: [
      [6, 3],
      [5, 2],
    ],
    build: () => {
      const source = tf.input({ shape: [6, 3] });
      const target = tf.input({ shape: [5, 2] });
      const [, h, c] = L.lstm({ units: 4, returnState: true, ...rnnWeights() }).apply(
        source,
      ) as tf.SymbolicTensor[];
      const decoded = L.lstm({ units: 4, returnSequences: true, ...rnnWeights() }).apply(target, {
        initialState: [h as tf.SymbolicTensor, c as tf.SymbolicTensor],
      }) as tf.SymbolicTensor;
      return model([source, target], decoded);
    },
  },
  {
    name: 'GRU with an initial state fed directly',
    inputs: [[5, 3], [4]],
    build: () => {
      const x = tf.input({ shape: [5, 3] });
      const h0 = tf.input({ shape: [4] });
      const y = L.gru({ units: 4, ...rnnWeights() }).apply(x, { initialState: [h0] }) as tf.SymbolicTensor;
      return model([x, h0], y);
    },
  },
  ...(['concat', 'sum', 'mul', 'ave'] as const).map(
    (mergeMode): Case => ({
      name: `Bidirectional(LSTM) mergeMode ${mergeMode}, returnSequences`,
      inputs: [[6, 3]],
      build: () =>
        chain(
          [6, 3],
          [
            L.bidirectional({
              layer: L.lstm({ units: 3, returnSequences: true, ...rnnWeights() }) as tf.RNN,
              mergeMode,
            }),
          ],
        ),
    }),
  ),
  {
    name: 'Bidirectional(GRU) mergeMode null (two outputs), last output',
    inputs: [[6, 3]],
    build: () => {
      const x = tf.input({ shape: [6, 3] });
      const outs = L.bidirectional({
        layer: L.gru({ units: 3, ...rnnWeights() }) as tf.RNN,
        mergeMode: null as unknown as 'concat',
      }).apply(x) as tf.SymbolicTensor[];
      return model([x], outs);
    },
  },
  {
    name: 'Bidirectional(SimpleRNN) returnState (merged output, then forward and backward states)',
    inputs: [[5, 3]],
    build: () => {
      const x = tf.input({ shape: [5, 3] });
      const outs = L.bidirectional({
        layer: L.simpleRNN({ units: 3, returnState: true, ...rnnWeights() }) as tf.RNN,
      }).apply(x) as tf.SymbolicTensor[];
      return model([x], outs);
    },
  },
  {
    name: 'Bidirectional(LSTM goBackwards) (the wrapper flips both copies)',
    inputs: [[5, 2]],
    build: () =>
      chain(
        [5, 2],
        [
          L.bidirectional({
            layer: L.lstm({ units: 3, goBackwards: true, returnSequences: true, ...rnnWeights() }) as tf.RNN,
          }),
        ],
      ),
  },
  {
    name: 'Masking → LSTM returnSequences (masked steps keep the previous output and state)',
    inputs: [[7, 3]],
    data: (batch) => [maskedSteps([7, 3], batch, 31)],
    build: () =>
      chain(
        [7, 3],
        [L.masking({ maskValue: 0 }), L.lstm({ units: 4, returnSequences: true, ...rnnWeights() })],
      ),
  },
  {
    name: 'Masking → GRU returnState, goBackwards',
    inputs: [[7, 3]],
    data: (batch) => [maskedSteps([7, 3], batch, 32)],
    build: () => {
      const x = tf.input({ shape: [7, 3] });
      const m = L.masking({}).apply(x) as tf.SymbolicTensor;
      const outs = L.gru({ units: 3, returnState: true, goBackwards: true, ...rnnWeights() }).apply(
        m,
      ) as tf.SymbolicTensor[];
      return model([x], outs);
    },
  },
  {
    name: 'Masking → Bidirectional(LSTM) concat',
    inputs: [[6, 2]],
    data: (batch) => [maskedSteps([6, 2], batch, 33)],
    build: () =>
      chain(
        [6, 2],
        [
          L.masking({}),
          L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true, ...rnnWeights() }) as tf.RNN }),
        ],
      ),
  },
  {
    name: 'Embedding(maskZero) → SimpleRNN (padding id 0 is skipped)',
    inputs: [[8]],
    data: (batch) => [paddedTokens(8, batch, 12)],
    build: () =>
      chain(
        [8],
        [
          L.embedding({ inputDim: 12, outputDim: 4, maskZero: true, embeddingsInitializer: w() }),
          L.simpleRNN({ units: 3, returnSequences: true, ...rnnWeights() }),
        ],
      ),
  },
  {
    name: 'Masking → Dense → LSTM (the mask passes through Dense) → LSTM',
    inputs: [[6, 3]],
    data: (batch) => [maskedSteps([6, 3], batch, 34)],
    build: () =>
      chain(
        [6, 3],
        [
          L.masking({}),
          L.dense({ units: 4, kernelInitializer: w() }),
          L.lstm({ units: 3, returnSequences: true, ...rnnWeights() }),
          L.lstm({ units: 2, ...rnnWeights() }),
        ],
      ),
  },
  {
    name: "Masking → LSTM → RepeatVector → LSTM (tfjs applies the first layer's mask to the second)",
    inputs: [[6, 3]],
    data: (batch) => [maskedSteps([6, 3], batch, 35)],
    build: () =>
      chain(
        [6, 3],
        [
          L.masking({}),
          L.lstm({ units: 4, ...rnnWeights() }),
          L.repeatVector({ n: 6 }),
          L.lstm({ units: 3, returnSequences: true, ...rnnWeights() }),
          L.timeDistributed({ layer: L.dense({ units: 3, kernelInitializer: w() }) }),
        ],
      ),
  },
  {
    name: 'TimeDistributed(Dense) over a dynamic number of steps',
    inputs: [[5, 4]],
    build: () =>
      chain(
        [null, 4],
        [L.timeDistributed({ layer: L.dense({ units: 3, activation: 'tanh', kernelInitializer: w() }) })],
      ),
  },
  {
    name: 'TimeDistributed(Conv2D) then TimeDistributed(Flatten) then LSTM (video classifier shape)',
    inputs: [[4, 6, 6, 2]],
    build: () =>
      chain(
        [4, 6, 6, 2],
        [
          L.timeDistributed({
            layer: L.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: w() }),
          }),
          L.timeDistributed({ layer: L.flatten() }),
          L.lstm({ units: 4, ...rnnWeights() }),
        ],
      ),
  },
  {
    name: 'ConvLSTM2D "same", returnSequences (Scan with convolutions)',
    inputs: [[4, 6, 6, 2]],
    build: () =>
      chain(
        [4, 6, 6, 2],
        [
          L.convLstm2d({
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            returnSequences: true,
            ...rnnWeights(),
          }),
        ],
      ),
  },
  {
    name: 'ConvLSTM2D "valid", stride 2, returnState, goBackwards',
    inputs: [[3, 7, 7, 2]],
    build: () => {
      const x = tf.input({ shape: [3, 7, 7, 2] });
      const outs = L.convLstm2d({
        filters: 2,
        kernelSize: 3,
        strides: 2,
        returnState: true,
        goBackwards: true,
        ...rnnWeights(),
      }).apply(x) as tf.SymbolicTensor[];
      return model([x], outs);
    },
  },
  {
    name: 'LSTM → GRU → SimpleRNN stack over 100 steps',
    inputs: [[100, 3]],
    build: () =>
      chain(
        [null, 3],
        [
          L.lstm({ units: 8, returnSequences: true, ...rnnWeights() }),
          L.gru({ units: 6, returnSequences: true, ...rnnWeights() }),
          L.simpleRNN({ units: 4, ...rnnWeights() }),
        ],
      ),
  },
  {
    name: 'Masking → Bidirectional(GRU) → LSTM over 100 steps (Scan with a mask)',
    inputs: [[100, 2]],
    data: (batch) => [maskedSteps([100, 2], batch, 36)],
    build: () =>
      chain(
        [null, 2],
        [
          L.masking({}),
          L.bidirectional({ layer: L.gru({ units: 4, returnSequences: true, ...rnnWeights() }) as tf.RNN }),
          L.lstm({ units: 3, ...rnnWeights() }),
        ],
      ),
  },
];
