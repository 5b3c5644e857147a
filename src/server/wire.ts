/**
 * What travels over HTTP: client errors with the field they are about, and raw float32 bodies with
 * their shape in a header.
 */
import { STATUS_CODES } from 'node:http';
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
    /** Headers the answer carries, e.g. Retry-After on a 503. */
    readonly headers?: Readonly<Record<string, string>>,
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

/** The error body for a status, message and optional field. */
export function errorBody(statusCode: number, message: string, field?: string | undefined): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? (statusCode < 500 ? 'Client Error' : 'Server Error'),
    message,
    ...(field === undefined ? {} : { field }),
  };
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
