/**
 * What travels over HTTP: client errors with the field they are about, content negotiation, raw
 * float32 bodies with their shape in a header, and JSON rows written straight from Float32Arrays.
 */
import { endianness } from 'node:os';
import type { Batch } from '../runtime/tensor-input.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** The header that carries the shape of a raw float32 body, e.g. `X-Shape: 4,20`. */
export const SHAPE_HEADER = 'x-shape';
/** The header that names the tensors of a raw float32 response body, in order, e.g. `mu,logvar`. */
export const TENSORS_HEADER = 'x-tensors';

/** The media types the server reads and writes. */
export const MEDIA = Object.freeze({
  json: 'application/json',
  octet: 'application/octet-stream',
  png: 'image/png',
});

/** A client's mistake: a 4xx status, a message, and the field of the request it is about. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The error body for a status, message and optional field. */
export function errorBody(statusCode: number, message: string, field?: string): ErrorBody {
  return {
    statusCode,
    error: REASONS[statusCode] ?? (statusCode < 500 ? 'Client Error' : 'Server Error'),
    message,
    ...(field === undefined ? {} : { field }),
  };
}

/**
 * The media type to answer with: the first of `offered` that the Accept header allows, weighing
 * q-values; `offered[0]` when there is no Accept header. Undefined when nothing offered is acceptable.
 */
export function negotiate(accept: string | undefined, offered: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = accept.split(',').map((part, order) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    return { range: range.trim(), q: Number.isFinite(weight) ? weight : 0, order };
  });
  let best: { type: string; q: number; specificity: number } | undefined;
  for (const type of offered) {
    const [major] = type.split('/');
    // The most specific range that matches decides this type's weight.
    let match: { q: number; specificity: number } | undefined;
    for (const r of ranges) {
      const specificity = r.range === type ? 2 : r.range === `${major}/*` ? 1 : r.range === '*/*' ? 0 : -1;
      if (specificity >= 0 && (match === undefined || specificity > match.specificity)) {
        match = { q: r.q, specificity };
      }
    }
    if (match && match.q > 0 && (best === undefined || match.q > best.q)) best = { type, ...match };
  }
  return best?.type;
}

/**
 * Parses an `X-Shape` header such as `4,20` or `4,28,28,1`.
 * @throws RequestError (400) naming the header when it is missing or not a list of positive integers.
 */
export function parseShapeHeader(value: string | string[] | undefined): number[] {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RequestError(
      400,
      `a raw float32 body needs the "${SHAPE_HEADER}" header with its shape, e.g. "1,20"`,
      SHAPE_HEADER,
    );
  }
  const parts = value.split(',').map((s) => s.trim());
  const shape = parts.map(Number);
  if (parts.some((p) => !/^\d{1,9}$/.test(p)) || shape.some((d) => d < 1) || shape.length < 2) {
    throw new RequestError(
      400,
      `"${SHAPE_HEADER}" must be two or more positive integers separated by commas (batch first), got "${value}"`,
      SHAPE_HEADER,
    );
  }
  return shape;
}

/**
 * Reads a raw little-endian float32 body whose shape is given by the `X-Shape` header.
 * @throws RequestError (400) when the body's length does not match the shape.
 */
export function readFloat32Body(body: Buffer, shapeHeader: string | string[] | undefined): Batch {
  const shape = parseShapeHeader(shapeHeader);
  const count = shape.reduce((a, b) => a * b, 1);
  if (body.length !== count * 4) {
    throw new RequestError(
      400,
      `the body must hold ${count} float32 values (${count * 4} bytes) for shape [${shape.join(', ')}], got ${body.length} bytes`,
      'body',
    );
  }
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    // A byte copy: the body's offset inside its pool need not be 4-aligned.
    new Uint8Array(data.buffer).set(body);
  } else {
    const view = new DataView(body.buffer, body.byteOffset, body.length);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  }
  return { data, shape };
}

/** The float32 bytes of one or more batches, back to back, little-endian. */
export function float32Bytes(batches: readonly Batch[]): Buffer {
  const total = batches.reduce((n, b) => n + b.data.length, 0);
  const out = Buffer.allocUnsafe(total * 4);
  let offset = 0;
  for (const b of batches) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength), offset);
    else for (let i = 0; i < b.data.length; i++) out.writeFloatLE(b.data[i] as number, offset + i * 4);
    offset += b.data.length * 4;
  }
  return out;
}
