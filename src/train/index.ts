export type { BackendChoice, BackendName } from './backend.js';
export { selectBackend } from './backend.js';
export {
  loadCheckpoint,
  loadLayersModel,
  readCard,
  saveCheckpoint,
  saveLayersModel,
  writeCard,
} from './checkpoint.js';
export type { Dataset, Split } from './datasets.js';
export { checkFinite, DATASET_NAMES, datasetSearchPath, loadDataset } from './datasets.js';
export type { ElboTerms } from './elbo.js';
export { bernoulliNll, klStandardNormal, negElboBernoulli, reparameterize } from './elbo.js';
export { DataError } from './errors.js';
export type { ElboReport, EvaluateOptions } from './evaluate.js';
export { evaluateElbo } from './evaluate.js';
export type { IdxArray } from './idx-reader.js';
export { parseIdx, readIdxFile } from './idx-reader.js';
export { type TfjsEncoding, tfjsDecode, tfjsEncode } from './infer.js';
export type { VaeNetworks, VaeShape } from './model.js';
export { applyForTraining, buildMlpVae, splitMoments } from './model.js';
export type { EpochReport, StepProgress, TrainOptions, TrainResult } from './train.js';
export { DEFAULT_TRAIN_OPTIONS, trainVae } from './train.js';
