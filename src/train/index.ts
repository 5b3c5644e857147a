export type { BackendChoice, BackendName } from './backend.js';
export { kernelsFor, selectBackend } from './backend.js';
export type { TrainingState } from './checkpoint.js';
export {
  checkpointFolder,
  LATEST_FILE,
  loadCheckpoint,
  loadLayersModel,
  loadTrainingState,
  readCard,
  saveCheckpoint,
  saveLayersModel,
  writeCard,
} from './checkpoint.js';
export type { Dataset, LoadDatasetOptions, Split } from './datasets.js';
export {
  checkFinite,
  DATASET_NAMES,
  datasetCacheDir,
  datasetSearchPath,
  loadDataset,
  sharedFloat32,
} from './datasets.js';
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
export type { IdxArray } from './idx-reader.js';
export { parseIdx, readIdxFile } from './idx-reader.js';
export { type TfjsEncoding, tfjsDecode, tfjsEncode } from './infer.js';
export type { VaeNetworks, VaeShape } from './model.js';
export { applyForTraining, buildConvVae, buildMlpVae, buildVae, splitMoments } from './model.js';
export type { ObjectiveSettings } from './objective.js';
export { batchObjective, betaAt } from './objective.js';
export type { EpochReport, StepProgress, TrainOptions } from './options.js';
export { checkTrainOptions, DEFAULT_TRAIN_OPTIONS } from './options.js';
export { autoWorkers, type SharedState, type WorkerPlan, WorkerPool } from './parallel/coordinator.js';
export type { CsvRows } from './sources/csv-file.js';
export { readCsvFile } from './sources/csv-file.js';
export type { DownloadOptions, RemoteDataset, RemoteFile } from './sources/download.js';
export { downloadDataset, REMOTE_DATASETS } from './sources/download.js';
export type { ImageSet } from './sources/png-folder.js';
export { readPngFolder } from './sources/png-folder.js';
export type { TrainResult } from './train.js';
export { shouldStopEarly, TRAINING_LOG, trainVae } from './train.js';
