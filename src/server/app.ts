/**
 * The HTTP service over loaded VAEs. This file only builds the Fastify instance and registers the
 * plugins (observability, errors, the model registry, OpenAPI, content negotiation) and the routes
 * (health, models, one per operation). Adding an operation: one file in routes/ops/ and one entry
 * in OPERATIONS.
 */
import { createServer as createHttpServer } from 'node:http';
import accepts from '@fastify/accepts';
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
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
import { errorBody, MEDIA } from './wire.js';

/** How long shutdown lets a connection with no request in flight deliver one before closing it. */
const IDLE_SETTLE_MS = 300;

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
    // Closing leaves idle connections to close(): one a client has just opened may still carry a request.
    forceCloseConnections: false,
    // A model name is looked up among the loaded models; a long one is simply not among them.
    routerOptions: { maxParamLength: 4096 },
    // Errors before routing (an undecodable URL, a parameter past maxParamLength) in the one error format.
    frameworkErrors(error, _request, res) {
      const tooLong = (error as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH';
      const reply = res as unknown as FastifyReply;
      reply
        .code(tooLong ? 414 : 400)
        .type(MEDIA.json)
        .send(
          errorBody(
            tooLong ? 414 : 400,
            tooLong
              ? 'a path parameter is longer than 4096 characters'
              : 'the URL is not valid: a %-escape in it does not decode',
            'url',
          ),
        );
    },
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
      // The listener closes now; requests in flight finish, and every answer closes its connection.
      // A connection with no request in flight may be one a client has just opened, its request on
      // the wire: it gets a moment to arrive (and be answered 503) before the idle ones are closed,
      // so that no request the server has read is cut.
      const settle = setTimeout(() => {
        if (app.hasDecorator('connections')) app.connections.closeIdle();
      }, IDLE_SETTLE_MS);
      // Node's server.close() would close those idle connections itself, at once.
      app.server.closeIdleConnections = () => undefined;
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
        clearTimeout(settle);
      }
    },
  };
}
