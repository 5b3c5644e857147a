/**
 * What a model operation is (one file per operation under routes/ops/), and the input and output
 * helpers they share: rows from a JSON or raw float32 body, checked against the model; images as
 * JSON rows, raw float32 or a PNG grid.
 */
import type { FastifyRequest } from 'fastify';
import { imageGrid } from '../../../node/png.js';
import { type Batch, findOutsideUnitInterval, toBatch } from '../../../runtime/tensor-input.js';
import { JsonWriter } from '../../json-writer.js';
import type { ServerOptions } from '../../options.js';
import type { ServedModel } from '../../plugins/models.js';
import {
  float32Bytes,
  MEDIA,
  RequestError,
  readFloat32Body,
  SHAPE_HEADER,
  TENSORS_HEADER,
} from '../../wire.js';

/** The limits a body schema encodes. */
export interface SchemaLimits {
  /** Most rows (examples or codes) in one request. */
  maxBatch: number;
  /** Most importance samples in one score request. */
  maxSamples: number;
}

/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;

/** A request to a model route. */
export type OperationRequest = FastifyRequest<{
  Params: { name: string };
  Querystring: Record<string, string>;
}>;

/** What an operation's handler is given. */
export interface OperationContext {
  request: OperationRequest;
  served: ServedModel;
  /** The media type to answer with, negotiated from the Accept header among `produces`. */
  type: string;
  options: ServerOptions;
}

/** An operation's answer: the body, already serialized, and extra headers. */
export interface OperationResult {
  body: string | Buffer | Uint8Array;
  headers?: Record<string, string>;
}

/** One model operation: POST /v1/models/:name/<name>. */
export interface Operation {
  name: string;
  summary: string;
  /** The tensor a raw float32 body carries; undefined when the body must be JSON. */
  rawInput?: 'x' | 'z';
  /** The tensors of a raw float32 answer, in order; undefined when the operation answers JSON only. */
  rawOutputs?: readonly string[];
  /** Whether it can answer with a PNG grid. */
  png: boolean;
  /** The JSON Schema of its body (Fastify validates with it; the OpenAPI document shows it). */
  body(limits: SchemaLimits): object;
  /** The JSON Schema of its JSON answer. */
  response: object;
  /**
   * The work a request asks for, in decoder rows, read from its body (or X-Shape header) before it
   * is checked: what admission control counts. Default: its rows.
   */
  work?(ctx: Omit<OperationContext, 'type' | 'served'>): number;
  handle(ctx: OperationContext): Promise<OperationResult>;
}

/** The media types an operation answers with, the default (JSON) first. */
export function producedTypes(op: Operation): string[] {
  return [MEDIA.json, ...(op.rawOutputs ? [MEDIA.octet] : []), ...(op.png ? [MEDIA.png] : [])];
}

/** `{ type: 'object' }` with exactly these properties. */
export const object = (properties: Record<string, object>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

/** An array of 1 to `maxBatch` rows. */
export const rows = (limits: SchemaLimits, what: string, items: object) => ({
  type: 'array',
  minItems: 1,
  maxItems: limits.maxBatch,
  description: `${what}, one entry per row; at most ${limits.maxBatch} rows`,
  items,
});

/** A row of numbers (a latent code). */
export const numberRow = { type: 'array', minItems: 1, items: { type: 'number' } };
// An example may be flat (784 values) or nested like its shape ([28][28][1]); the handler checks sizes.
/** A row holding one example, flat or nested. */
export const exampleRow = { type: 'array', minItems: 1 };
/** Examples x, as decode, reconstruct and score take them. */
export const exampleRows = (limits: SchemaLimits) =>
  rows(limits, 'examples x, flat or nested like the input shape', exampleRow);

/** A seed of the random draws. */
export const seedSchema = {
  type: 'integer',
  minimum: 0,
  maximum: MAX_SEED,
  description: 'seed of the random draws; the same seed gives the same numbers in every runtime',
};

/** Rows of numbers in a JSON answer. */
export const rowsOut = { type: 'array', items: { type: 'array', items: { type: 'number' } } };
/** The full shape of an answer, batch first. */
export const shapeOut = { type: 'array', items: { type: 'integer' }, description: 'full shape, batch first' };
/** The JSON answer of the operations that return images. */
export const imagesOut = object({ x_hat: rowsOut, shape: shapeOut }, ['x_hat', 'shape']);

/**
 * The request's rows for `field`, from a JSON body or a raw float32 body, checked against the model
 * (and, for examples of a Bernoulli model, against [0, 1]).
 * @throws RequestError (400) naming the field.
 */
export function inputRows(ctx: OperationContext, fn: string, field: 'x' | 'z'): Batch {
  const { model } = ctx.served;
  const shape = field === 'z' ? [model.latentDim] : model.inputShape;
  const body = ctx.request.body;
  let batch: Batch;
  try {
    if (Buffer.isBuffer(body)) {
      const raw = readFloat32Body(body, ctx.request.headers[SHAPE_HEADER]);
      if ((raw.shape[0] as number) > ctx.options.maxBatch) {
        throw new RequestError(
          400,
          `"${field}" may have at most ${ctx.options.maxBatch} rows, got ${raw.shape[0]}`,
          SHAPE_HEADER,
        );
      }
      batch = toBatch(raw, shape, fn, field);
    } else {
      batch = toBatch((body as Record<string, unknown[]>)[field] as unknown[], shape, fn, field);
    }
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw new RequestError(400, (error as Error).message, field);
  }
  const bad =
    field === 'x' && model.likelihoodKind === 'bernoulli' ? findOutsideUnitInterval(batch) : undefined;
  if (bad) {
    throw new RequestError(
      400,
      `"${field}" holds ${bad.value} at row ${bad.row}, index ${bad.index}; this model's Bernoulli likelihood expects values in [0, 1]`,
      `${field}[${bad.row}]`,
    );
  }
  return batch;
}

/**
 * The model's encoder runs.
 * @throws RequestError (404) when the model has no encoder.onnx.
 */
export function encoderOf(ctx: OperationContext, op: string) {
  const { encode, name } = ctx.served;
  if (!encode) throw new RequestError(404, `model "${name}" has no encoder.onnx, so it cannot ${op}`, 'name');
  return encode;
}

/**
 * Every value of a model's output is a finite number: JSON has no NaN or Infinity, and an answer
 * of nulls is not an answer. An input far outside what the model represents (a code of 3e38) makes
 * its outputs overflow.
 * @throws RequestError (422) naming the input row whose output is not finite.
 */
export function assertFinite(output: Batch, name: string, input: 'x' | 'z', op: string): void {
  const n = output.shape[0] as number;
  const size = n === 0 ? 0 : output.data.length / n;
  for (let i = 0; i < output.data.length; i++) {
    if (!Number.isFinite(output.data[i] as number)) {
      const row = Math.floor(i / size);
      throw new RequestError(
        422,
        `${op}: the model's ${name} for row ${row} of "${input}" is not a finite number (${output.data[i]}); that input is far outside anything the model represents`,
        `${input}[${row}]`,
      );
    }
  }
}

/**
 * Images as JSON rows (with the codes they came from, for sample), raw float32 or a PNG grid.
 * `from` names the operation and the input the images came from, for the error of a non-finite one.
 */
export function imagesResult(
  ctx: OperationContext,
  x: Batch,
  from: { op: string; input: 'x' | 'z' },
  codes?: Batch,
): OperationResult {
  assertFinite(x, 'x_hat', from.input, from.op);
  if (ctx.type === MEDIA.png) {
    const [, ...example] = x.shape;
    if (
      example.length < 2 ||
      example.length > 3 ||
      (example.length === 3 && example[2] !== 1 && example[2] !== 3)
    ) {
      throw new RequestError(
        406,
        `${MEDIA.png} needs images shaped [H, W] or [H, W, 1|3]; this model's examples are [${ctx.served.model.inputShape.join(', ')}]`,
        'accept',
      );
    }
    return { body: imageGrid(x.data, x.shape) };
  }
  if (ctx.type === MEDIA.octet) {
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
  return { body: json.raw('}').finish() };
}

/**
 * An optional integer query parameter (raw bodies carry score's options there).
 * @throws RequestError (400) naming the parameter when it is not an integer in [min, max].
 */
export function queryInt(ctx: OperationContext, name: string, min: number, max: number): number | undefined {
  const raw = ctx.request.query[name];
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
 * The rows a request carries in `field` (its JSON array's length, or X-Shape's first number), at
 * most `maxBatch` (more is refused when the request is checked), else 1.
 */
export function requestRows(request: OperationRequest, field: 'x' | 'z', maxBatch: number): number {
  const body = request.body;
  let rows = 1;
  if (Buffer.isBuffer(body)) {
    const first = Number(String(request.headers[SHAPE_HEADER] ?? '1').split(',')[0]);
    if (Number.isInteger(first) && first > 0) rows = first;
  } else {
    const given = (body as Record<string, unknown> | undefined)?.[field];
    if (Array.isArray(given)) rows = Math.max(1, given.length);
  }
  return Math.min(rows, maxBatch);
}
