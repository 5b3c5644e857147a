/**
 * A VAE's encoder and decoder with layers the built-ins never use, for the tests of
 * `networks: { encoder, decoder }` in Node (own-networks.test.ts) and in Chromium (the page
 * own-networks-page.ts). Imports nothing Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import { withSeededMathRandom } from '../../src/core/random.js';

/**
 * An encoder and decoder with layers the built-ins never use (BatchNormalization, LeakyReLU,
 * Dropout, a Conv2D with "same" padding), in the contract's one-output form: [N, 2L].
 */
export function ownNetworks(side = 28, L = 6): { encoder: tf.LayersModel; decoder: tf.LayersModel } {
  // Built under a fixed seed: tfjs draws unseeded initial weights from Math.random.
  return withSeededMathRandom(5, () => buildOwnNetworks(side, L));
}

function buildOwnNetworks(side: number, L: number): { encoder: tf.LayersModel; decoder: tf.LayersModel } {
  const encoder = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [side, side, 1],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
      }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 48 }),
      tf.layers.batchNormalization(),
      tf.layers.leakyReLU({ alpha: 0.1 }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 2 * L }),
    ],
  });
  const decoder = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [L], units: 48 }),
      tf.layers.batchNormalization(),
      tf.layers.leakyReLU({ alpha: 0.1 }),
      tf.layers.dropout({ rate: 0.1 }),
      tf.layers.dense({ units: side * side }),
      tf.layers.reshape({ targetShape: [side, side, 1] }),
    ],
  });
  return { encoder, decoder };
}
