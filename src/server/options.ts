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
  /**
   * Most work in flight over all requests, counted in decoder rows (a score request costs rows ×
   * (samples + 1), decode and encode their rows, reconstruct twice its rows): a request that would
   * go past it is answered 503 with Retry-After, so that memory and the event loop stay bounded
   * whatever the load. A request alone is always admitted. Default 262144.
   */
  maxInflightWork: number;
  /** Largest request body in bytes. Default 8 MiB. */
  bodyLimit: number;
  /**
   * Milliseconds a client has to send a whole request, headers and body: a slower one gets a 408 and
   * its connection closed (Node's requestTimeout, checked every quarter of it, at most every second).
   * Default 30000.
   */
  requestTimeoutMs: number;
  /** Deepest nesting of arrays and objects in a JSON body, checked before parsing. Default 16. */
  maxJsonDepth: number;
  /**
   * On `close()`: milliseconds during which /readyz answers 503 while requests are still served, so
   * that load balancers stop sending before the listener closes. Default 0.
   */
  drainGraceMs: number;
  /** On `close()`: milliseconds after the grace period before connections still open are cut. Default 30000. */
  shutdownTimeoutMs: number;
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
  maxInflightWork: 262_144,
  bodyLimit: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  maxJsonDepth: 16,
  drainGraceMs: 0,
  shutdownTimeoutMs: 30_000,
  logger: false,
});

/**
 * The caller's options merged over the defaults.
 * @throws RangeError naming the first option out of range.
 */
export function serverOptions(options: Partial<ServerOptions>): ServerOptions {
  const o: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  for (const key of [
    'maxBatch',
    'maxSamples',
    'maxScoreDecodes',
    'maxInflightWork',
    'bodyLimit',
    'requestTimeoutMs',
    'maxJsonDepth',
    'shutdownTimeoutMs',
  ] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`createServer: "${key}" must be a positive integer, got ${o[key]}`);
    }
  }
  for (const key of ['maxWaitMs', 'drainGraceMs'] as const) {
    if (!Number.isFinite(o[key]) || o[key] < 0) {
      throw new RangeError(`createServer: "${key}" must be a number >= 0, got ${o[key]}`);
    }
  }
  return o;
}
