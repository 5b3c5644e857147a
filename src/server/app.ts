/**
 * The HTTP service over loaded VAEs. This file only builds the Fastify instance and registers the
 * plugins (observability, errors, the model registry, OpenAPI, content negotiation) and the routes
 * (health, models, one per operation). Adding an operation: one file in routes/ops/ and one entry
 * in OPERATIONS.
 */
import { createServer as createHttpServer } from 'node:http';
import accepts from '@fastify/accepts';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { PACKAGE_VERSION } from '../core/version.js';
import type { VaeModel } from '../runtime/vae-model.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { type ServerOptions, serverOptions } from './options.js';
import { connectionsPlugin } from './plugins/connections.js';
import { answerClientError, errorsPlugin } from './plugins/errors.js';
import { jsonDepthPlugin } from './plugins/json-depth.js';
import { type Lifecycle, modelsPlugin, type ServerState } from './plugins/models.js';
import { observabilityPlugin, requestId } from './plugins/observability.js';
import { openApiPlugin } from './plugins/openapi.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { operationRoutes } from './routes/operations.js';
import { decode } from './routes/ops/decode.js';
import { encode } from './routes/ops/encode.js';
import type { Operation } from './routes/ops/operation.js';
import { reconstruct } from './routes/ops/reconstruct.js';
import { sample } from './routes/ops/sample.js';
import { score } from './routes/ops/score.js';
import { MEDIA } from './wire.js';

/** The model operations the server offers, in the order the OpenAPI document lists them. */
export const OPERATIONS: readonly Operation[] = Object.freeze([decode, encode, reconstruct, sample, score]);

/** A server built by `createServer`. */
export interface VaeServer {
  /** The Fastify instance: `listen` it, or `inject` requests in tests. */
  app: FastifyInstance;
  metrics: ServerMetrics;
  /** "starting" until `warmUp` finishes, "ready", then "draining" once `close` is called. */
  readonly state: ServerState;
  /** Runs every model once at batch 1 and at the largest batch, then turns /readyz ready. */
  warmUp(): Promise<void>;
  /**
   * Shuts down gracefully: /readyz answers 503 at once while requests are still served for
   * `drainGraceMs`; then the listener closes, idle connections close, requests in flight finish
   * (their responses close their connections), and after `shutdownTimeoutMs` any connection still
   * open is cut. Models stay loaded.
   */
  close(): Promise<void>;
}

/**
 * Builds the HTTP service over `models` (name → loaded model). Nothing in a request reaches the
 * file system: model names are looked up among the loaded models only. The caller listens, warms up
 * and, at the end, closes the server and disposes the models.
 * @throws RangeError naming an option out of range.
 */
export function createServer(
  models: ReadonlyMap<string, VaeModel>,
  options: Partial<ServerOptions> = {},
): VaeServer {
  const o = serverOptions(options);
  const metrics = createMetrics();
  const app = Fastify({
    ...(o.logger === false ? { logger: false } : { loggerInstance: o.logger }),
    bodyLimit: o.bodyLimit,
    // A client has requestTimeoutMs to send its whole request (headers within it too); Node checks
    // open connections every quarter of that, at most every second.
    serverFactory: (handler) =>
      createHttpServer(
        {
          requestTimeout: o.requestTimeoutMs,
          headersTimeout: Math.min(o.requestTimeoutMs, 60_000),
          connectionsCheckingInterval: Math.min(1000, Math.max(50, o.requestTimeoutMs / 4)),
        },
        handler,
      ),
    requestTimeout: o.requestTimeoutMs,
    clientErrorHandler(error, socket) {
      answerClientError(error, socket, metrics, (this as unknown as FastifyInstance).log);
    },
    genReqId: requestId,
    // One log line per request, written when it completes (Fastify's default is two).
    logController: new LogController({ disableRequestLogging: true }),
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    return503OnClosing: true,
  });
  // Bodies are JSON or raw float32, nothing else: without its text parser Fastify answers 415.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(MEDIA.octet, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const lifecycle: Lifecycle = { state: 'starting' };
  app.register(connectionsPlugin);
  app.register(observabilityPlugin, { metrics });
  app.register(errorsPlugin, { bodyLimit: o.bodyLimit });
  app.register(jsonDepthPlugin, { maxDepth: o.maxJsonDepth });
  app.register(modelsPlugin, { models, options: o, lifecycle });
  app.register(accepts);
  app.register(openApiPlugin, { version: PACKAGE_VERSION });
  app.register(healthRoutes);
  app.register(modelRoutes);
  app.register(operationRoutes, { operations: OPERATIONS });

  return {
    app,
    metrics,
    get state() {
      return lifecycle.state;
    },
    async warmUp() {
      await app.ready();
      await app.vae.warmUp();
    },
    async close() {
      lifecycle.state = 'draining';
      metrics.ready.set(0);
      if (o.drainGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, o.drainGraceMs));
      const cut = setTimeout(() => app.server.closeAllConnections(), o.shutdownTimeoutMs);
      try {
        const closing = app.close();
        // Connections that serve no request close now (idle keep-alive, connected but silent).
        if (app.hasDecorator('connections')) app.connections.closeIdle();
        await closing;
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
