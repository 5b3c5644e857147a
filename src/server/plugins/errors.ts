/**
 * How errors are answered: the client's mistakes as 4xx with a JSON body that names the field at
 * fault, anything else as a 500 whose details stay in the server log under the request id.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
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

/** The error and not-found handlers as a Fastify plugin. */
export const errorsPlugin = fp(registerErrors, { name: 'vae-errors' });
