/** What both doors export besides their own `VaeModel` and load options: the platform-neutral API. */
export type { AnomalyCalibration, ScoreName, StatisticName } from '../core/anomaly-card.js';
export { SCORE_NAMES } from '../core/anomaly-card.js';
export type { AnyCard, ForeignCard, ModelBytes, ModelCard } from '../core/model-dir.js';
export { MODEL_FILES, ModelDirError } from '../core/model-dir.js';
export type { ModelFiles } from '../core/model-zip.js';
export type { CalibrationData, ScoringNetworks, StatisticsOptions } from './anomaly/compute.js';
export type { ExampleStatistics } from './anomaly/statistics.js';
export type { InterpolationMethod } from './latent-paths.js';
export { interpolateCodes, traverseCodes } from './latent-paths.js';
export type { LikelihoodOption, LikelihoodSpec } from './likelihood.js';
export type { Batch, BatchInput } from './tensor-input.js';
export { checkUnitInterval, toArrays, toBatch } from './tensor-input.js';
export type { AnomalyResult, CommonLoadOptions, Moments, OrtBinding, ScoreOptions } from './vae-model.js';
