import type { LayerConverter } from '../converter.js';
import { onlyInput } from '../converter.js';

/**
 * Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout and AlphaDropout: each is the identity
 * at inference, so no node is emitted (one converter for the five classes, which share all of it).
 */
export const convertIdentity: LayerConverter = (_g, info, inputs) => [onlyInput(info, inputs)];
