/**
 * `vae-onnx/server`: the HTTP service behind `vae serve`, for embedding in a Node program.
 */

export type { VaeServer } from './app.js';
export { createServer, OPERATIONS } from './app.js';
export type { Batcher, BatcherOptions, RunBatch } from './batcher.js';
export { createBatcher } from './batcher.js';
export type { ServerMetrics } from './metrics.js';
export { findModelDirs } from './model-dirs.js';
export type { ServerOptions } from './options.js';
export { DEFAULT_SERVER_OPTIONS } from './options.js';
export type { ServedModel, ServerState } from './plugins/models.js';
export type {
  Operation,
  OperationContext,
  OperationResult,
  SchemaLimits,
} from './routes/ops/operation.js';
export type { ErrorBody } from './wire.js';
export { MEDIA, RequestError, SHAPE_HEADER, TENSORS_HEADER } from './wire.js';
