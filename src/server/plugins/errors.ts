/**
 * How errors are answered: the client's mistakes as 4xx with a JSON body that names the field at
 * fault, anything else as a 500 whose details stay in the server log under the request id.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerMetrics } from '../metrics.js';
import { errorBody, MEDIA, RequestError } from '../wire.js';

interface ValidationItem {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/z/0/3` → `z[0][3]`. */
function fieldOfPath(path: string): string {
  return path
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/** The fields the route's JSON body may have, read from its schema. */
function allowedFields(request: FastifyRequest): string[] {
  const body = request.routeOptions.schema?.body as
    | { content?: Record<string, { schema?: { properties?: object } }> }
    | undefined;
  return Object.keys(body?.content?.[MEDIA.json]?.schema?.properties ?? {});
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

/** The client's mistake an error stands for, or undefined for a server fault. */
export function clientError(
  error: unknown,
  request: FastifyRequest,
  bodyLimit: number,
): RequestError | undefined {
  if (error instanceof RequestError) return error;
  const e = error as { statusCode?: number; code?: string; message?: string; validation?: ValidationItem[] };
  const first = e.validation?.[0];
  if (first) return describeViolation(first, allowedFields(request));
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new RequestError(413, `the body is larger than the limit of ${bodyLimit} bytes`, 'body');
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new RequestError(
      415,
      `the body must be ${MEDIA.json} or ${MEDIA.octet}, got ${JSON.stringify(request.headers['content-type'] ?? '')}`,
      'content-type',
    );
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new RequestError(e.statusCode, e.message ?? 'bad request', 'body');
  }
  return undefined;
}

async function registerErrors(app: FastifyInstance, { bodyLimit }: { bodyLimit: number }): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    const client = clientError(error, request, bodyLimit);
    if (client === undefined) request.log.error({ err: error }, 'request failed');
    const status = client?.statusCode ?? 500;
    const message =
      client?.message ?? `internal error; the server log has the details under request id ${request.id}`;
    if (client?.headers) reply.headers(client.headers);
    reply
      .code(status)
      .type(MEDIA.json)
      .send(errorBody(status, message, client?.field));
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .type(MEDIA.json)
      .send(errorBody(404, `no route for ${request.method} ${request.url.split('?')[0]}`, 'url'));
  });
}

/**
 * Answers an error on a connection that never became a request Fastify handles: a request not received
 * in full within the request timeout gets a 408, malformed HTTP a 400, oversized headers a 431, each
 * as the JSON error body, and the connection is closed. Timeouts are counted in the metrics.
 */
export function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
  metrics: ServerMetrics,
  log: FastifyBaseLogger,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message =
    status === 408
      ? 'the request did not arrive in full within the request timeout'
      : status === 431
        ? 'the request headers are too large'
        : 'the request is not valid HTTP';
  if (status === 408) metrics.timeouts.inc();
  metrics.errors.inc({ route: 'unmatched', status: String(status), kind: 'client' });
  log.info({ status, code: error.code }, 'client error');
  // Write only when no response has started on this connection (as Node's own handler does).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(errorBody(status, message, status === 408 ? 'body' : undefined));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${MEDIA.json}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The error and not-found handlers as a Fastify plugin. */
export const errorsPlugin = fp(registerErrors, { name: 'vae-errors' });
