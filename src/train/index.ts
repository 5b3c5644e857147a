/**
 * `vae-onnx/train` in Node: everything of the browser door, and `trainVae`, which reads datasets
 * from disk, trains on worker threads and writes the model directory.
 */

export type { BackendChoice, BackendName } from './backend.js';
export { selectBackend } from './backend.js';
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
export * from './common.js';
export type { LoadDatasetOptions } from './datasets.js';
export {
  DATASET_NAMES,
  datasetCacheDir,
  datasetSearchPath,
  loadDataset,
  sharedFloat32,
} from './datasets.js';
export type { IdxArray } from './idx-reader.js';
export { parseIdx, readIdxFile } from './idx-reader.js';
export { autoWorkers, type SharedState, type WorkerPlan, WorkerPool } from './parallel/coordinator.js';
export type { CsvRows } from './sources/csv-file.js';
export { readCsvFile } from './sources/csv-file.js';
export type { DownloadOptions, RemoteDataset, RemoteFile } from './sources/download.js';
export { downloadDataset, REMOTE_DATASETS } from './sources/download.js';
export type { ImageSet } from './sources/png-folder.js';
export { readPngFolder } from './sources/png-folder.js';
export type { TrainResult } from './train.js';
export { shouldStopEarly, TRAINING_LOG, trainVae } from './train.js';
