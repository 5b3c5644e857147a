import type { LayerConverter } from './converter.js';
import { convertActivation } from './layers/activation.js';
import { convertConv2D } from './layers/conv2d.js';
import { convertConv2DTranspose } from './layers/conv2d-transpose.js';
import { convertDense } from './layers/dense.js';
import { convertFlatten } from './layers/flatten.js';
import { convertReLU } from './layers/relu.js';
import { convertReshape } from './layers/reshape.js';

/** One converter per tfjs layer class, keyed by the class name tfjs reports (`getClassName()`). */
const converters = new Map<string, LayerConverter>([
  ['Activation', convertActivation],
  ['Conv2D', convertConv2D],
  ['Conv2DTranspose', convertConv2DTranspose],
  ['Dense', convertDense],
  ['Flatten', convertFlatten],
  ['ReLU', convertReLU],
  ['Reshape', convertReshape],
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
