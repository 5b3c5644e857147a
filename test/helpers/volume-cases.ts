/**
 * Parity cases for the 3-D layers, the preprocessing layers, and "same" padding over sizes only
 * known at run time.
 */
import * as tf from '@tensorflow/tfjs';
import type { Case } from './layer-cases.js';

const L = tf.layers;
let seed = 1300;
const w = () => tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed++ });

function chain(shape: (number | null)[], layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape });
  let x: tf.SymbolicTensor = input;
  for (const layer of layers) x = layer.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

/** Pixel-like values in [0, 255] (what Rescaling and the image layers usually see). */
function pixels(shape: number[], batch: number): Float32Array {
  const n = batch * shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
}

export const VOLUME_CASES: Case[] = [
  {
    name: 'Conv3D "same", relu',
    inputs: [[5, 6, 6, 2]],
    build: () =>
      chain(
        [5, 6, 6, 2],
        [
          L.conv3d({
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            activation: 'relu',
            kernelInitializer: w(),
            biasInitializer: w(),
          }),
        ],
      ),
  },
  {
    name: 'Conv3D "valid", strides 2, dilation-free, over unknown depth and size ("same" at run time)',
    inputs: [[6, 7, 5, 2]],
    build: () =>
      chain(
        [null, null, null, 2],
        [
          L.conv3d({
            filters: 2,
            kernelSize: [2, 3, 3],
            strides: 2,
            kernelInitializer: w(),
            biasInitializer: w(),
          }),
          L.conv3d({ filters: 2, kernelSize: 3, padding: 'same', strides: 2, kernelInitializer: w() }),
        ],
      ),
  },
  {
    name: 'Conv3DTranspose "same" strides 2, then "valid"',
    inputs: [[3, 4, 4, 2]],
    build: () =>
      chain(
        [3, 4, 4, 2],
        [
          L.conv3dTranspose({
            filters: 3,
            kernelSize: 3,
            strides: 2,
            padding: 'same',
            kernelInitializer: w(),
            biasInitializer: w(),
          }),
          L.conv3dTranspose({
            filters: 2,
            kernelSize: 2,
            padding: 'valid',
            activation: 'tanh',
            kernelInitializer: w(),
          }),
        ],
      ),
  },
  {
    name: 'MaxPooling3D "same" and AveragePooling3D "valid"',
    inputs: [[5, 6, 7, 2]],
    build: () =>
      chain(
        [5, 6, 7, 2],
        [
          L.maxPooling3d({ poolSize: 2, padding: 'same' }),
          L.averagePooling3d({ poolSize: [2, 2, 3], strides: 1 }),
        ],
      ),
  },
  {
    name: 'AveragePooling3D "same" (divides by the real pixels)',
    inputs: [[3, 5, 5, 1]],
    build: () => chain([3, 5, 5, 1], [L.averagePooling3d({ poolSize: 2, padding: 'same' })]),
  },
  {
    name: 'Conv1D "same" over an unknown length (auto_pad)',
    inputs: [[9, 3]],
    build: () =>
      chain(
        [null, 3],
        [
          L.conv1d({
            filters: 4,
            kernelSize: 4,
            strides: 2,
            padding: 'same',
            kernelInitializer: w(),
            biasInitializer: w(),
          }),
        ],
      ),
  },
  {
    name: 'Conv2D and MaxPooling2D "same" over unknown height and width (auto_pad)',
    inputs: [[7, 9, 2]],
    build: () =>
      chain(
        [null, null, 2],
        [
          L.conv2d({
            filters: 3,
            kernelSize: 3,
            strides: 2,
            padding: 'same',
            kernelInitializer: w(),
            biasInitializer: w(),
          }),
          L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        ],
      ),
  },
  {
    name: 'Rescaling 1/255 − 0.5',
    inputs: [[4, 4, 3]],
    data: (batch) => [pixels([4, 4, 3], batch)],
    build: () => chain([4, 4, 3], [L.rescaling({ scale: 1 / 255, offset: -0.5 })]),
  },
  ...(['bilinear', 'nearest'] as const).flatMap((interpolation) =>
    [false, true].map(
      (cropToAspectRatio): Case => ({
        name: `Resizing ${interpolation}${cropToAspectRatio ? ', cropToAspectRatio (corners not aligned)' : ''}: 7×9 → 4×12`,
        inputs: [[7, 9, 2]],
        eager: true,
        build: () =>
          chain([7, 9, 2], [L.resizing({ height: 4, width: 12, interpolation, cropToAspectRatio })]),
      }),
    ),
  ),
  {
    name: 'CenterCrop 10×7 → 6×6 (tfjs starts one column in)',
    inputs: [[10, 7, 2]],
    // After a Dense: tfjs's predict then runs (CenterCrop overwrites its input's shape).
    build: () =>
      chain(
        [10, 7, 2],
        [L.dense({ units: 2, kernelInitializer: w() }), L.centerCrop({ height: 6, width: 6 })],
      ),
  },
  {
    name: 'CenterCrop 9×11 → 4×5',
    inputs: [[9, 11, 1]],
    build: () =>
      chain(
        [9, 11, 1],
        [L.dense({ units: 1, kernelInitializer: w() }), L.centerCrop({ height: 4, width: 5 })],
      ),
  },
  {
    name: 'CenterCrop to a larger size (bilinear resize instead)',
    inputs: [[4, 5, 2]],
    eager: true,
    build: () =>
      chain(
        [4, 5, 2],
        [L.dense({ units: 2, kernelInitializer: w() }), L.centerCrop({ height: 6, width: 8 })],
      ),
  },
  ...(['multiHot', 'count'] as const).map(
    (outputMode): Case => ({
      name: `CategoryEncoding ${outputMode} over [N, k] ids`,
      inputs: [[5]],
      data: (batch) => [Float32Array.from({ length: batch * 5 }, (_, i) => 1 + ((i * 3) % 6))],
      eager: true,
      build: () =>
        chain([5], [L.reshape({ targetShape: [5] }), L.categoryEncoding({ numTokens: 7, outputMode })]),
    }),
  ),
  {
    name: 'CategoryEncoding oneHot',
    inputs: [[1]],
    data: (batch) => [Float32Array.from({ length: batch }, (_, i) => (i * 2) % 5)],
    eager: true,
    build: () =>
      chain(
        [1],
        [L.reshape({ targetShape: [1] }), L.categoryEncoding({ numTokens: 5, outputMode: 'oneHot' })],
      ),
  },
  {
    name: 'RandomWidth (identity at inference; factor [0, 0] makes tfjs agree)',
    inputs: [[5, 6, 2]],
    eager: true,
    build: () => chain([5, 6, 2], [L.randomWidth({ factor: [0, 0] })]),
  },
];
