/**
 * What both doors of `vae-onnx/train` offer: the in-memory trainer, the networks, the objective,
 * evaluation, the checkpoint format and the model zip. Nothing here touches Node's modules.
 */
export type { ModelFiles } from '../core/model-zip.js';
export { memoryReader, packModelZip, unpackModelZip } from '../core/model-zip.js';
export type {
  OptimizerWeights,
  ReadCheckpointFile,
  TrainingState,
  WriteCheckpointFile,
} from '../tfjs/checkpoint.js';
export {
  checkCardAgainstNetworks,
  readCheckpointNetworks,
  readTrainingState,
  writeCheckpoint,
} from '../tfjs/checkpoint.js';
export type { Architecture, BuiltinArchitecture } from './architecture.js';
export {
  architectureOf,
  checkNetworks,
  DEFAULT_FILTERS,
  describeArchitecture,
  kernelsOf,
} from './architecture.js';
export type { Dataset, MemoryData, Split } from './dataset.js';
export { checkFinite, datasetFromMemory, randomSubset } from './dataset.js';
export type { ElboTerms, LikelihoodSpec } from './elbo.js';
export {
  bernoulliNll,
  gaussianNll,
  klPerDimension,
  klStandardNormal,
  negElboBernoulli,
  reconstructionNll,
  reparameterize,
} from './elbo.js';
export { DataError } from './errors.js';
export type { ElboReport, EvaluateOptions, EvaluationReport } from './evaluate.js';
export { ACTIVE_UNIT_THRESHOLD, evaluate, evaluateElbo, iwaeNll } from './evaluate.js';
export { type TfjsEncoding, tfjsDecode, tfjsEncode } from './infer.js';
export type { MemoryTrainOptions, MemoryTrainResult } from './memory.js';
export { trainInMemory } from './memory.js';
export type { VaeNetworks, VaeShape } from './model.js';
export {
  applyForTraining,
  buildConvVae,
  buildMlpVae,
  buildVae,
  kernelsFor,
  networksOf,
  splitMoments,
} from './model.js';
export type { ObjectiveSettings } from './objective.js';
export { batchObjective, betaAt } from './objective.js';
export type { EpochReport, StepProgress, TrainOptions } from './options.js';
export { checkTrainOptions, DEFAULT_TRAIN_OPTIONS } from './options.js';
export type { ShapesOptions, ShapesSplit } from './sources/shapes.js';
export {
  generateShapes,
  SHAPE_FACTOR_STEPS,
  SHAPE_FACTORS,
  SHAPE_NAMES,
  SHAPES_SIZE,
} from './sources/shapes.js';
