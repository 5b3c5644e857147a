/**
 * JSON Schemas of the request bodies (Fastify validates every body against them) and the OpenAPI
 * description built from the same schemas, so the two cannot drift apart.
 */
import { MEDIA, SHAPE_HEADER, TENSORS_HEADER } from './wire.js';

/** The limits the schemas encode. */
export interface SchemaLimits {
  /** Most rows (examples or codes) in one request. */
  maxBatch: number;
  /** Most importance samples in one score request. */
  maxSamples: number;
}

/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;

const rows = (limits: SchemaLimits, what: string, items: object) => ({
  type: 'array',
  minItems: 1,
  maxItems: limits.maxBatch,
  description: `${what}, one entry per row; at most ${limits.maxBatch} rows`,
  items,
});

const numberRow = { type: 'array', minItems: 1, items: { type: 'number' } };
// An example may be flat (784 values) or nested like its shape ([28][28][1]); the handler checks sizes.
const exampleRow = { type: 'array', minItems: 1 };
const seed = {
  type: 'integer',
  minimum: 0,
  maximum: MAX_SEED,
  description: 'seed of the random draws; the same seed gives the same numbers in every runtime',
};

const object = (properties: Record<string, object>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

/** Body schemas of the model routes, keyed by operation. */
export function bodySchemas(limits: SchemaLimits) {
  return {
    decode: object({ z: rows(limits, 'latent codes z', numberRow) }, ['z']),
    encode: object({ x: rows(limits, 'examples x, flat or nested like the input shape', exampleRow) }, ['x']),
    reconstruct: object({ x: rows(limits, 'examples x, flat or nested like the input shape', exampleRow) }, [
      'x',
    ]),
    sample: object(
      {
        n: { type: 'integer', minimum: 1, maximum: limits.maxBatch, description: 'how many samples' },
        seed,
      },
      ['n'],
    ),
    score: object(
      {
        x: rows(limits, 'examples x, flat or nested like the input shape', exampleRow),
        samples: {
          type: 'integer',
          minimum: 1,
          maximum: limits.maxSamples,
          description: 'importance samples per example (1: the negative ELBO estimate)',
        },
        seed,
      },
      ['x'],
    ),
  } as const;
}

/** The model operations the server offers. */
export type Operation = keyof ReturnType<typeof bodySchemas>;

/** What each operation reads and writes, for the OpenAPI description. */
export const OPERATIONS: Readonly<
  Record<Operation, { summary: string; input?: string; outputs: string[]; png: boolean }>
> = Object.freeze({
  decode: {
    summary: 'Decode latent codes into x_hat, the mean of p(x|z).',
    input: 'z',
    outputs: ['x_hat'],
    png: true,
  },
  encode: {
    summary: 'Encode examples into mu and logvar of q(z|x).',
    input: 'x',
    outputs: ['mu', 'logvar'],
    png: false,
  },
  reconstruct: {
    summary: 'Encode examples and decode their mean codes.',
    input: 'x',
    outputs: ['x_hat'],
    png: true,
  },
  sample: {
    summary: 'Draw n codes from N(0, I) with a seed and decode them.',
    outputs: ['x_hat'],
    png: true,
  },
  score: {
    summary: 'Anomaly score per example: importance-sampled -log p(x) in nats (higher is more unusual).',
    input: 'x',
    outputs: ['scores'],
    png: false,
  },
});

const errorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string', description: 'what was wrong, naming what was expected and what came' },
    field: { type: 'string', description: 'the part of the request the error is about, e.g. z[3]' },
  },
};

const rowsOut = { type: 'array', items: { type: 'array', items: { type: 'number' } } };
const shapeOut = { type: 'array', items: { type: 'integer' }, description: 'full shape, batch first' };

function responseSchema(op: Operation): object {
  if (op === 'encode')
    return object({ mu: rowsOut, logvar: rowsOut, shape: shapeOut }, ['mu', 'logvar', 'shape']);
  if (op === 'score') {
    return object({ scores: { type: 'array', items: { type: 'number' } }, samples: { type: 'integer' } }, [
      'scores',
      'samples',
    ]);
  }
  const z = op === 'sample' ? { z: rowsOut } : {};
  return object({ x_hat: rowsOut, shape: shapeOut, ...z }, ['x_hat', 'shape']);
}

/** The OpenAPI 3.1 description of the server. */
export function openApiDocument(limits: SchemaLimits, version: string): object {
  const bodies = bodySchemas(limits);
  const errors = {
    '400': { description: 'invalid request', content: { [MEDIA.json]: { schema: errorSchema } } },
    '404': { description: 'unknown model', content: { [MEDIA.json]: { schema: errorSchema } } },
    '406': { description: 'no acceptable response type', content: { [MEDIA.json]: { schema: errorSchema } } },
    '413': { description: 'body over the size limit', content: { [MEDIA.json]: { schema: errorSchema } } },
    '415': { description: 'unsupported body type', content: { [MEDIA.json]: { schema: errorSchema } } },
  };
  const raw = {
    schema: { type: 'string', format: 'binary' },
    description: `float32 little-endian values; the shape, batch first, in the ${SHAPE_HEADER} header`,
  };
  const paths: Record<string, object> = {
    '/healthz': {
      get: {
        summary: 'Liveness: 200 while the process serves.',
        responses: { '200': { description: 'alive' } },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: 200 after warm-up, 503 while starting or shutting down.',
        responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics.',
        responses: { '200': { description: 'text exposition format' } },
      },
    },
    '/v1/models': {
      get: {
        summary: 'The loaded models.',
        responses: {
          '200': {
            description: 'one entry per model',
            content: {
              [MEDIA.json]: {
                schema: {
                  type: 'array',
                  items: object(
                    {
                      name: { type: 'string' },
                      card: { type: ['object', 'null'] },
                      inputShape: { type: 'array', items: { type: 'integer' } },
                      latentDim: { type: 'integer' },
                      hasEncoder: { type: 'boolean' },
                      backend: { type: 'string' },
                    },
                    ['name', 'card', 'inputShape', 'latentDim'],
                  ),
                },
              },
            },
          },
        },
      },
    },
  };
  for (const op of Object.keys(OPERATIONS) as Operation[]) {
    const info = OPERATIONS[op];
    const content: Record<string, object> = { [MEDIA.json]: { schema: responseSchema(op) } };
    if (op !== 'score') {
      content[MEDIA.octet] = {
        ...raw,
        description: `${raw.description}; the tensors (${info.outputs.join(', ')}) back to back, named in ${TENSORS_HEADER}`,
      };
    }
    if (info.png)
      content[MEDIA.png] = {
        schema: { type: 'string', format: 'binary' },
        description: 'a PNG grid of the images',
      };
    paths[`/v1/models/{name}/${op}`] = {
      post: {
        summary: info.summary,
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: {
            [MEDIA.json]: { schema: bodies[op] },
            ...(info.input === undefined
              ? {}
              : { [MEDIA.octet]: { ...raw, description: `${info.input} as ${raw.description}` } }),
          },
        },
        responses: { '200': { description: 'the result', content }, ...errors },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'vae-onnx server', version, description: 'ONNX inference for Variational Autoencoders.' },
    paths,
  };
}
