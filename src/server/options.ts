/**
 * The server's settings: one frozen object of defaults merged with the caller's Partial, and the
 * check that runs before anything starts.
 */
import type { FastifyBaseLogger } from 'fastify';

/** How the server batches, limits and logs. */
export interface ServerOptions {
  /** Merge concurrent requests to one model into one `session.run`. Default true. */
  batching: boolean;
  /** Most rows in one request, and in one merged run. Default 256. */
  maxBatch: number;
  /** Longest wait, in milliseconds, for other requests to join a batch (0: only those already read). Default 1. */
  maxWaitMs: number;
  /** Most importance samples per example in a score request. Default 1000. */
  maxSamples: number;
  /**
   * Most decodes (rows × samples) in one score request: the score's arithmetic runs on the event
   * loop, so this bounds how long one request can hold it. Default 65536.
   */
  maxScoreDecodes: number;
  /** Largest request body in bytes. Default 8 MiB. */
  bodyLimit: number;
  /** A pino logger for structured logs with request ids, or false for none. Default false. */
  logger: FastifyBaseLogger | false;
}

/** The defaults merged with the caller's options. */
export const DEFAULT_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  batching: true,
  maxBatch: 256,
  maxWaitMs: 1,
  maxSamples: 1000,
  maxScoreDecodes: 65536,
  bodyLimit: 8 * 1024 * 1024,
  logger: false,
});

/**
 * The caller's options merged over the defaults.
 * @throws RangeError naming the first option out of range.
 */
export function serverOptions(options: Partial<ServerOptions>): ServerOptions {
  const o: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  for (const key of ['maxBatch', 'maxSamples', 'maxScoreDecodes', 'bodyLimit'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`createServer: "${key}" must be a positive integer, got ${o[key]}`);
    }
  }
  if (!Number.isFinite(o.maxWaitMs) || o.maxWaitMs < 0) {
    throw new RangeError(`createServer: "maxWaitMs" must be a number >= 0, got ${o.maxWaitMs}`);
  }
  return o;
}
