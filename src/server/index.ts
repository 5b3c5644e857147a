/**
 * `vae-onnx/server`: the HTTP service behind `vae serve`, for embedding in a Node program.
 */

export type { ServerOptions, VaeServer } from './app.js';
export { createServer, DEFAULT_SERVER_OPTIONS } from './app.js';
export type { Batcher, BatcherOptions, RunBatch } from './batcher.js';
export { createBatcher } from './batcher.js';
export type { ServerMetrics } from './metrics.js';
export { findModelDirs } from './model-dirs.js';
export type { Operation, SchemaLimits } from './schemas.js';
export { bodySchemas, openApiDocument } from './schemas.js';
export type { ErrorBody } from './wire.js';
export { MEDIA, RequestError, SHAPE_HEADER, TENSORS_HEADER } from './wire.js';
