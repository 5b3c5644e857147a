import type { LayerConverter } from './converter.js';
import { convertActivation } from './layers/activation.js';
import { convertBatchNormalization } from './layers/batch-normalization.js';
import { convertConcatenate } from './layers/concatenate.js';
import { convertConv1D } from './layers/conv1d.js';
import { convertConv2D } from './layers/conv2d.js';
import { convertConv2DTranspose } from './layers/conv2d-transpose.js';
import { convertConv3D, convertConv3DTranspose } from './layers/conv3d.js';
import { convertCropping2D } from './layers/cropping2d.js';
import { convertDense } from './layers/dense.js';
import { convertDepthwiseConv2D } from './layers/depthwise-conv2d.js';
import { convertDot } from './layers/dot.js';
import { convertELU } from './layers/elu.js';
import { convertEmbedding } from './layers/embedding.js';
import { convertFlatten } from './layers/flatten.js';
import { convertIdentity } from './layers/identity.js';
import { convertLayerNormalization } from './layers/layer-normalization.js';
import { convertLeakyReLU } from './layers/leaky-relu.js';
import { convertMasking } from './layers/masking.js';
import { elementwiseMerge } from './layers/merge.js';
import { convertPermute } from './layers/permute.js';
import { globalPooling, pooling } from './layers/pooling.js';
import { convertPReLU } from './layers/prelu.js';
import {
  convertCategoryEncoding,
  convertCenterCrop,
  convertRandomWidth,
  convertRescaling,
  convertResizing,
} from './layers/preprocessing.js';
import { convertBidirectional, convertRecurrent } from './layers/recurrent/rnn.js';
import { convertReLU } from './layers/relu.js';
import { convertRepeatVector } from './layers/repeat-vector.js';
import { convertReshape } from './layers/reshape.js';
import { convertSeparableConv2D } from './layers/separable-conv2d.js';
import { convertSoftmax } from './layers/softmax.js';
import { convertThresholdedReLU } from './layers/thresholded-relu.js';
import { convertTimeDistributed } from './layers/time-distributed.js';
import { convertUpSampling2D } from './layers/upsampling2d.js';
import { convertZeroPadding2D } from './layers/zero-padding2d.js';

/** One converter per tfjs layer class, keyed by the class name tfjs reports (`getClassName()`). */
const converters = new Map<string, LayerConverter>([
  ['Activation', convertActivation],
  ['Add', elementwiseMerge('Sum')],
  ['AlphaDropout', convertIdentity],
  ['Average', elementwiseMerge('Mean')],
  ['AveragePooling1D', pooling('AveragePool', 1)],
  ['AveragePooling2D', pooling('AveragePool', 2)],
  ['AveragePooling3D', pooling('AveragePool', 3)],
  ['BatchNormalization', convertBatchNormalization],
  ['Bidirectional', convertBidirectional],
  ['CategoryEncoding', convertCategoryEncoding],
  ['CenterCrop', convertCenterCrop],
  ['Concatenate', convertConcatenate],
  ['Conv1D', convertConv1D],
  ['Conv2D', convertConv2D],
  ['Conv2DTranspose', convertConv2DTranspose],
  ['Conv3D', convertConv3D],
  ['Conv3DTranspose', convertConv3DTranspose],
  ['ConvLSTM2D', convertRecurrent],
  ['Cropping2D', convertCropping2D],
  ['Dense', convertDense],
  ['DepthwiseConv2D', convertDepthwiseConv2D],
  ['Dot', convertDot],
  ['Dropout', convertIdentity],
  ['ELU', convertELU],
  ['Embedding', convertEmbedding],
  ['Flatten', convertFlatten],
  ['GaussianDropout', convertIdentity],
  ['GaussianNoise', convertIdentity],
  ['GlobalAveragePooling1D', globalPooling('ReduceMean', 1)],
  ['GlobalAveragePooling2D', globalPooling('ReduceMean', 2)],
  ['GlobalMaxPooling1D', globalPooling('ReduceMax', 1)],
  ['GlobalMaxPooling2D', globalPooling('ReduceMax', 2)],
  ['GRU', convertRecurrent],
  ['LayerNormalization', convertLayerNormalization],
  ['LSTM', convertRecurrent],
  ['LeakyReLU', convertLeakyReLU],
  ['Masking', convertMasking],
  ['MaxPooling1D', pooling('MaxPool', 1)],
  ['MaxPooling2D', pooling('MaxPool', 2)],
  ['MaxPooling3D', pooling('MaxPool', 3)],
  ['Maximum', elementwiseMerge('Max')],
  ['Minimum', elementwiseMerge('Min')],
  ['Multiply', elementwiseMerge('Mul')],
  ['Permute', convertPermute],
  ['PReLU', convertPReLU],
  ['RandomWidth', convertRandomWidth],
  ['ReLU', convertReLU],
  ['RepeatVector', convertRepeatVector],
  ['RNN', convertRecurrent],
  ['Rescaling', convertRescaling],
  ['Reshape', convertReshape],
  ['Resizing', convertResizing],
  ['SeparableConv2D', convertSeparableConv2D],
  ['SimpleRNN', convertRecurrent],
  ['Softmax', convertSoftmax],
  ['SpatialDropout1D', convertIdentity],
  ['ThresholdedReLU', convertThresholdedReLU],
  ['TimeDistributed', convertTimeDistributed],
  ['UpSampling2D', convertUpSampling2D],
  ['ZeroPadding2D', convertZeroPadding2D],
]);

/** The converter for a tfjs layer class, or undefined when there is none. */
export function converterFor(className: string): LayerConverter | undefined {
  return converters.get(className);
}

/** Adds or replaces the converter of a layer class (for custom layers). */
export function registerConverter(className: string, converter: LayerConverter): void {
  converters.set(className, converter);
}

/** The layer classes the exporter converts, sorted. */
export function supportedLayerClasses(): string[] {
  return [...converters.keys()].sort();
}
