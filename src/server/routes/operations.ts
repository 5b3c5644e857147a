/**
 * The model operations as routes: POST /v1/models/:name/<operation> for each operation given, with
 * its body schema (JSON, and raw float32 where it takes one), content negotiation among the media
 * types it produces, and its answer.
 */
import type { FastifyInstance } from 'fastify';
import { MEDIA, RequestError, SHAPE_HEADER, TENSORS_HEADER } from '../wire.js';
import { type Operation, type OperationRequest, producedTypes, requestRows } from './ops/operation.js';
import { errorResponses } from './schemas.js';

const rawBody = {
  schema: { type: 'string', format: 'binary' },
  description: `float32 little-endian values; the shape, batch first, in the ${SHAPE_HEADER} header`,
};

/** The route schema of one operation: what Fastify validates and what the OpenAPI document shows. */
function routeSchema(op: Operation, app: FastifyInstance): object {
  const limits = { maxBatch: app.vae.options.maxBatch, maxSamples: app.vae.options.maxSamples };
  const answers: Record<string, object> = { [MEDIA.json]: { schema: op.response } };
  if (op.rawOutputs) {
    answers[MEDIA.octet] = {
      ...rawBody,
      description: `${rawBody.description}; the tensors (${op.rawOutputs.join(', ')}) back to back, named in ${TENSORS_HEADER}`,
    };
  }
  if (op.png)
    answers[MEDIA.png] = {
      schema: { type: 'string', format: 'binary' },
      description: 'a PNG grid of the images',
    };
  return {
    summary: op.summary,
    params: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', description: 'the model, as GET /v1/models lists it' } },
    },
    body: {
      content: {
        [MEDIA.json]: { schema: op.body(limits) },
        ...(op.rawInput ? { [MEDIA.octet]: { schema: {} } } : {}),
      },
    },
    response: { 200: { description: 'the result', content: answers }, ...errorResponses },
  };
}

/** Registers one route per operation. */
export async function operationRoutes(
  app: FastifyInstance,
  { operations }: { operations: readonly Operation[] },
): Promise<void> {
  for (const op of operations) {
    const produces = producedTypes(op);
    app.post<{ Params: { name: string }; Querystring: Record<string, string> }>(
      `/v1/models/:name/${op.name}`,
      { schema: routeSchema(op, app) },
      async (request: OperationRequest, reply) => {
        const served = app.vae.lookup(request.params.name);
        if (!op.rawInput && Buffer.isBuffer(request.body)) {
          throw new RequestError(415, `${op.name} takes a ${MEDIA.json} body`, 'content-type');
        }
        const type = request.accepts().type(produces);
        if (typeof type !== 'string') {
          throw new RequestError(
            406,
            `cannot answer with ${JSON.stringify(request.headers.accept)}; ${op.name} offers ${produces.join(', ')}`,
            'accept',
          );
        }
        const o = app.vae.options;
        const work = op.work
          ? op.work({ request, options: o })
          : requestRows(request, op.rawInput ?? 'z', o.maxBatch);
        const release = app.vae.admit(work);
        let result: Awaited<ReturnType<Operation['handle']>>;
        try {
          result = await op.handle({ request, served, type, options: app.vae.options });
        } finally {
          release();
        }
        reply.type(type === MEDIA.json ? `${MEDIA.json}; charset=utf-8` : type);
        if (result.headers) reply.headers(result.headers);
        return result.body;
      },
    );
  }
}
