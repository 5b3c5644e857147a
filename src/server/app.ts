/**
 * The HTTP service over loaded VAEs: Fastify routes for encode, decode, sample, reconstruct and
 * score, with dynamic batching, content negotiation (JSON, raw float32, PNG), Prometheus metrics,
 * request ids, readiness and an OpenAPI description.
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { normalArray } from '../core/random.js';
import { PACKAGE_VERSION } from '../core/version.js';
import { imageGrid } from '../node/png.js';
import { type Batch, toBatch } from '../runtime/tensor-input.js';
import type { VaeModel } from '../runtime/vae-model.js';
import { createBatcher, type RunBatch } from './batcher.js';
import { JsonWriter } from './json-writer.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { bodySchemas, MAX_SEED, OPERATIONS, type Operation, openApiDocument } from './schemas.js';
import {
  errorBody,
  float32Bytes,
  MEDIA,
  negotiate,
  RequestError,
  readFloat32Body,
  SHAPE_HEADER,
  TENSORS_HEADER,
} from './wire.js';

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

/** A server built by `createServer`. */
export interface VaeServer {
  /** The Fastify instance: `listen` it, or `inject` requests in tests. */
  app: FastifyInstance;
  metrics: ServerMetrics;
  /** "starting" until `warmUp` finishes, "ready", then "draining" once `close` is called. */
  readonly state: 'starting' | 'ready' | 'draining';
  /** Runs every model once at batch 1 and at the largest batch, then turns /readyz ready. */
  warmUp(): Promise<void>;
  /** Turns /readyz unready, lets in-flight requests finish and closes the listener. Models stay loaded. */
  close(): Promise<void>;
}

interface Served {
  model: VaeModel;
  decode: RunBatch;
  encode: RunBatch | undefined;
}

type RouteRequest = FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>;

/** The media types each operation can answer with, the default first. */
const OFFERED: ReadonlyMap<Operation, readonly string[]> = new Map(
  (Object.keys(OPERATIONS) as Operation[]).map((op) => [
    op,
    [MEDIA.json, ...(op === 'score' ? [] : [MEDIA.octet]), ...(OPERATIONS[op].png ? [MEDIA.png] : [])],
  ]),
);

/** A request id from the client's X-Request-Id when it is sane, else a fresh UUID. */
function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** `/z/0/3` → `z[0][3]`. */
function fieldOfPath(path: string): string {
  return path
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

interface ValidationItem {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** One schema violation as a message naming the field and what was expected. */
function describeViolation(item: ValidationItem, allowed: readonly string[]): RequestError {
  if (item.keyword === 'required') {
    const field = String(item.params.missingProperty);
    return new RequestError(400, `the body must have the field "${field}"`, field);
  }
  if (item.keyword === 'additionalProperties') {
    const field = String(item.params.additionalProperty);
    return new RequestError(
      400,
      `unknown field "${field}"; the body may have only ${allowed.map((a) => `"${a}"`).join(', ')}`,
      field,
    );
  }
  const field = fieldOfPath(item.instancePath);
  const subject = field === '' ? 'the body' : `"${field}"`;
  return new RequestError(400, `${subject} ${item.message ?? 'is invalid'}`, field === '' ? 'body' : field);
}

/** The status and body to answer an error with: the client's mistakes are 4xx, the rest 500. */
function errorResponse(
  error: unknown,
  request: FastifyRequest,
  allowedFields: (url: string | undefined) => readonly string[],
  bodyLimit: number,
): { status: number; field?: string; message: string } {
  if (error instanceof RequestError) {
    return {
      status: error.statusCode,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
    };
  }
  const e = error as { statusCode?: number; code?: string; message?: string; validation?: ValidationItem[] };
  const first = e.validation?.[0];
  if (first) {
    const r = describeViolation(first, allowedFields(request.routeOptions.url));
    return { status: 400, message: r.message, ...(r.field ? { field: r.field } : {}) };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, field: 'body', message: `the body is larger than the limit of ${bodyLimit} bytes` };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      field: 'content-type',
      message: `the body must be ${MEDIA.json} or ${MEDIA.octet}, got ${JSON.stringify(request.headers['content-type'] ?? '')}`,
    };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, field: 'body', message: e.message ?? 'bad request' };
  }
  return {
    status: 500,
    message: `internal error; the server log has the details under request id ${request.id}`,
  };
}

/** Checks that examples suit a Bernoulli model: every value in [0, 1]. */
function checkUnitRange(batch: Batch, field: string): void {
  const [n = 1] = batch.shape;
  const size = batch.data.length / n;
  for (let i = 0; i < batch.data.length; i++) {
    const v = batch.data[i] as number;
    if (v < 0 || v > 1) {
      const row = Math.floor(i / size);
      throw new RequestError(
        400,
        `"${field}" holds ${v} at row ${row}, index ${i % size}; this model's Bernoulli likelihood expects values in [0, 1]`,
        `${field}[${row}]`,
      );
    }
  }
}

/** Parses an optional non-negative integer query parameter (raw bodies carry score's options there). */
function queryInt(query: Record<string, string>, name: string, min: number, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^\d{1,10}$/.test(raw) || v < min || v > max) {
    throw new RequestError(
      400,
      `query "${name}" must be an integer from ${min} to ${max}, got "${raw}"`,
      name,
    );
  }
  return v;
}

/**
 * Builds the HTTP service over `models` (name → loaded model). Nothing in a request reaches the
 * file system: model names are looked up among the loaded models only. The caller listens, warms up
 * and, at the end, closes the server and disposes the models.
 */
export function createServer(
  models: ReadonlyMap<string, VaeModel>,
  options: Partial<ServerOptions> = {},
): VaeServer {
  const o: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  for (const key of ['maxBatch', 'maxSamples', 'maxScoreDecodes', 'bodyLimit'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`createServer: "${key}" must be a positive integer, got ${o[key]}`);
    }
  }
  if (!Number.isFinite(o.maxWaitMs) || o.maxWaitMs < 0) {
    throw new RangeError(`createServer: "maxWaitMs" must be a number >= 0, got ${o.maxWaitMs}`);
  }
  const metrics = createMetrics();
  const limits = { maxBatch: o.maxBatch, maxSamples: o.maxSamples };
  const schemas = bodySchemas(limits);
  const openApi = JSON.stringify(openApiDocument(limits, PACKAGE_VERSION));
  let state: VaeServer['state'] = 'starting';

  const served = new Map<string, Served>();
  for (const [name, model] of models) {
    const part = (label: 'decoder' | 'encoder', run: RunBatch): RunBatch => {
      if (!o.batching) {
        return (batch) => {
          metrics.batchRows.observe({ model: name, part: label }, batch.shape[0] ?? 0);
          metrics.batchRequests.observe({ model: name, part: label }, 1);
          return run(batch);
        };
      }
      const batcher = createBatcher(run, {
        maxBatch: o.maxBatch,
        maxWaitMs: o.maxWaitMs,
        onRun: (rows, requests) => {
          metrics.batchRows.observe({ model: name, part: label }, rows);
          metrics.batchRequests.observe({ model: name, part: label }, requests);
        },
      });
      return (batch) => batcher.submit(batch);
    };
    served.set(name, {
      model,
      decode: part('decoder', (z) => model.decode(z).then((x) => [x])),
      encode: model.hasEncoder
        ? part('encoder', (x) => model.encode(x).then((m) => [m.mu, m.logvar]))
        : undefined,
    });
  }

  const app = Fastify({
    ...(o.logger === false ? { logger: false } : { loggerInstance: o.logger }),
    bodyLimit: o.bodyLimit,
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
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, a response that was in flight closes its connection, or the keep-alive
    // socket would hold shutdown open until it times out.
    if (state === 'draining') reply.header('connection', 'close');
    done(null, payload);
  });
  // Label-bound metric children, one set per (method, route, status), so that each request skips
  // prom-client's label hashing.
  const bound = new Map<string, { count: () => void; time: (seconds: number) => void }>();
  const boundMetrics = (method: string, route: string, status: number) => {
    const key = `${method} ${route} ${status}`;
    let b = bound.get(key);
    if (b === undefined) {
      const labels = { method, route, status: String(status) };
      const requests = metrics.requests.labels(labels);
      const latency = metrics.latency.labels(labels);
      const errors =
        status >= 400
          ? metrics.errors.labels({ route, status: labels.status, kind: status >= 500 ? 'server' : 'client' })
          : undefined;
      b = {
        count: () => {
          requests.inc();
          errors?.inc();
        },
        time: (seconds) => latency.observe(seconds),
      };
      bound.set(key, b);
    }
    return b;
  };
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    request.log.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
    const m = boundMetrics(request.method, route, reply.statusCode);
    m.count();
    m.time(reply.elapsedTime / 1000);
    done();
  });

  const allowedFields = (url: string | undefined): readonly string[] => {
    const op = url?.split('/').pop() as Operation | undefined;
    return op && op in schemas ? Object.keys(schemas[op].properties) : [];
  };
  app.setErrorHandler((error, request, reply) => {
    const r = errorResponse(error, request, allowedFields, o.bodyLimit);
    if (r.status >= 500) request.log.error({ err: error }, 'request failed');
    reply
      .code(r.status)
      .type(MEDIA.json)
      .send(errorBody(r.status, r.message, r.field));
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .type(MEDIA.json)
      .send(errorBody(404, `no route for ${request.method} ${request.url.split('?')[0]}`, 'url'));
  });

  app.get('/healthz', async () => ({ status: 'alive' }));
  app.get('/readyz', async (_request, reply) => {
    reply.code(state === 'ready' ? 200 : 503);
    return { status: state };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', async (_request, reply) => {
    reply.type(MEDIA.json);
    return openApi;
  });
  const describeModel = (name: string, model: VaeModel) => ({
    name,
    card: model.card ?? null,
    inputShape: model.inputShape,
    latentDim: model.latentDim,
    hasEncoder: model.hasEncoder,
    backend: model.backend,
  });
  app.get('/v1/models', async () => [...served].map(([name, s]) => describeModel(name, s.model)));
  app.get<{ Params: { name: string } }>('/v1/models/:name', async (request) =>
    describeModel(request.params.name, lookup(request.params.name).model),
  );

  function lookup(name: string): Served {
    const s = served.get(name);
    if (!s) {
      throw new RequestError(
        404,
        `unknown model ${JSON.stringify(name)}; loaded models: ${[...served.keys()].join(', ')}`,
        'name',
      );
    }
    return s;
  }

  /** The request's rows for `field`, from a JSON body or a raw float32 body, checked against the model. */
  function inputRows(request: RouteRequest, s: Served, op: Operation, field: 'x' | 'z'): Batch {
    const shape = field === 'z' ? [s.model.latentDim] : s.model.inputShape;
    const body = request.body;
    let batch: Batch;
    try {
      if (Buffer.isBuffer(body)) {
        const raw = readFloat32Body(body, request.headers[SHAPE_HEADER]);
        if ((raw.shape[0] as number) > o.maxBatch) {
          throw new RequestError(
            400,
            `"${field}" may have at most ${o.maxBatch} rows, got ${raw.shape[0]}`,
            SHAPE_HEADER,
          );
        }
        batch = toBatch(raw, shape, op, field);
      } else {
        batch = toBatch((body as Record<string, unknown[]>)[field] as unknown[], shape, op, field);
      }
    } catch (error) {
      if (error instanceof RequestError) throw error;
      throw new RequestError(400, (error as Error).message, field);
    }
    if (field === 'x' && s.model.likelihoodKind === 'bernoulli') checkUnitRange(batch, field);
    return batch;
  }

  function needEncoder(s: Served, name: string, op: Operation): RunBatch {
    if (!s.encode) {
      throw new RequestError(404, `model "${name}" has no encoder.onnx, so it cannot ${op}`, 'name');
    }
    return s.encode;
  }

  /** The media type to answer with, or a 406 listing what the route offers. */
  function responseType(request: RouteRequest, op: Operation): string {
    const offered = OFFERED.get(op) as readonly string[];
    const type = negotiate(request.headers.accept, offered);
    if (type === undefined) {
      throw new RequestError(
        406,
        `cannot answer with ${JSON.stringify(request.headers.accept)}; ${op} offers ${offered.join(', ')}`,
        'accept',
      );
    }
    return type;
  }

  /** Sends images as JSON rows (with the codes they came from, for sample), raw float32 or a PNG grid. */
  function sendImages(
    type: string,
    model: VaeModel,
    x: Batch,
    codes?: Batch,
  ): { body: string | Buffer | Uint8Array; headers: Record<string, string> } {
    if (type === MEDIA.png) {
      const [, ...example] = x.shape;
      if (
        example.length < 2 ||
        example.length > 3 ||
        (example.length === 3 && example[2] !== 1 && example[2] !== 3)
      ) {
        throw new RequestError(
          406,
          `${MEDIA.png} needs images shaped [H, W] or [H, W, 1|3]; this model's examples are [${model.inputShape.join(', ')}]`,
          'accept',
        );
      }
      return { body: imageGrid(x.data, x.shape), headers: {} };
    }
    if (type === MEDIA.octet) {
      return {
        body: float32Bytes([x]),
        headers: { [SHAPE_HEADER]: x.shape.join(','), [TENSORS_HEADER]: 'x_hat' },
      };
    }
    const json = new JsonWriter(x.data.length * 12 + 64)
      .raw('{"x_hat":')
      .rows(x.data, x.shape[0] as number)
      .raw(`,"shape":${JSON.stringify(x.shape)}`);
    if (codes) json.raw(',"z":').rows(codes.data, codes.shape[0] as number);
    return { body: json.raw('}').finish(), headers: {} };
  }

  const handlers: Record<
    Operation,
    (
      request: RouteRequest,
      s: Served,
      type: string,
    ) => Promise<{ body: string | Buffer | Uint8Array; headers: Record<string, string> }>
  > = {
    async decode(request, s, type) {
      const z = inputRows(request, s, 'decode', 'z');
      const [x] = await s.decode(z);
      return sendImages(type, s.model, x as Batch);
    },
    async sample(request, s, type) {
      const body = request.body as { n: number; seed?: number };
      const L = s.model.latentDim;
      const z = { data: normalArray(body.n * L, body.seed ?? 0), shape: [body.n, L] };
      const [x] = await s.decode(z);
      return sendImages(type, s.model, x as Batch, z);
    },
    async encode(request, s, type) {
      const encode = needEncoder(s, request.params.name, 'encode');
      const [mu, logvar] = (await encode(inputRows(request, s, 'encode', 'x'))) as [Batch, Batch];
      if (type === MEDIA.octet) {
        return {
          body: float32Bytes([mu, logvar]),
          headers: { [SHAPE_HEADER]: mu.shape.join(','), [TENSORS_HEADER]: 'mu,logvar' },
        };
      }
      return {
        body: new JsonWriter(mu.data.length * 24 + 64)
          .raw('{"mu":')
          .rows(mu.data, mu.shape[0] as number)
          .raw(',"logvar":')
          .rows(logvar.data, logvar.shape[0] as number)
          .raw(`,"shape":${JSON.stringify(mu.shape)}}`)
          .finish(),
        headers: {},
      };
    },
    async reconstruct(request, s, type) {
      const encode = needEncoder(s, request.params.name, 'reconstruct');
      const [mu] = (await encode(inputRows(request, s, 'reconstruct', 'x'))) as [Batch];
      const [x] = await s.decode(mu);
      return sendImages(type, s.model, x as Batch);
    },
    async score(request, s) {
      needEncoder(s, request.params.name, 'score');
      if (s.model.likelihoodKind === undefined) {
        throw new RequestError(
          404,
          `model "${request.params.name}" cannot score: its likelihood is unknown (no card.json and no "logits" output)`,
          'name',
        );
      }
      const raw = Buffer.isBuffer(request.body);
      const body = raw ? {} : (request.body as { samples?: number; seed?: number });
      const samples = (raw ? queryInt(request.query, 'samples', 1, o.maxSamples) : body.samples) ?? 1;
      const seed = (raw ? queryInt(request.query, 'seed', 0, MAX_SEED) : body.seed) ?? 0;
      const x = inputRows(request, s, 'score', 'x');
      const rows = x.shape[0] as number;
      if (rows * samples > o.maxScoreDecodes) {
        throw new RequestError(
          400,
          `score: ${rows} rows × ${samples} samples = ${rows * samples} decodes; one request may ask for at most ${o.maxScoreDecodes} (send fewer rows or samples)`,
          'samples',
        );
      }
      const scores = await s.model.score(x, { samples, seed });
      return { body: `{"scores":[${scores.join(',')}],"samples":${samples}}`, headers: {} };
    },
  };

  for (const op of Object.keys(OPERATIONS) as Operation[]) {
    const acceptsRaw = OPERATIONS[op].input !== undefined;
    app.post<{ Params: { name: string }; Querystring: Record<string, string> }>(
      `/v1/models/:name/${op}`,
      {
        schema: {
          body: {
            content: {
              [MEDIA.json]: { schema: schemas[op] },
              ...(acceptsRaw ? { [MEDIA.octet]: { schema: {} } } : {}),
            },
          },
        },
      },
      async (request, reply) => {
        const s = lookup(request.params.name);
        if (!acceptsRaw && Buffer.isBuffer(request.body)) {
          throw new RequestError(415, `${op} takes a ${MEDIA.json} body`, 'content-type');
        }
        const type = responseType(request, op);
        const result = await handlers[op](request, s, type);
        reply.type(type === MEDIA.json ? `${MEDIA.json}; charset=utf-8` : type).headers(result.headers);
        return result.body;
      },
    );
  }

  return {
    app,
    metrics,
    get state() {
      return state;
    },
    async warmUp() {
      for (const { model } of served.values()) {
        for (const n of new Set([1, o.maxBatch])) {
          await model.decode({ data: new Float32Array(n * model.latentDim), shape: [n, model.latentDim] });
          if (model.hasEncoder) {
            const size = model.inputShape.reduce((a, b) => a * b, 1);
            await model.encode({ data: new Float32Array(n * size), shape: [n, ...model.inputShape] });
          }
        }
      }
      if (state === 'starting') {
        state = 'ready';
        metrics.ready.set(1);
      }
    },
    async close() {
      state = 'draining';
      metrics.ready.set(0);
      await app.close();
    },
  };
}
