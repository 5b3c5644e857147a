import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/** An array read from an IDX file: its dimensions and its values in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** IDX element types by their type byte: constructor and bytes per element. */
const IDX_TYPES: Record<number, { name: string; size: number }> = {
  8: { name: 'uint8', size: 1 },
  9: { name: 'int8', size: 1 },
  11: { name: 'int16', size: 2 },
  12: { name: 'int32', size: 4 },
  13: { name: 'float32', size: 4 },
  14: { name: 'float64', size: 8 },
};

/**
 * Parses the bytes of an IDX file (the MNIST family's format), gzip-compressed or raw.
 * @param bytes - the file's contents.
 * @param source - a name for the bytes (usually the path), used in error messages.
 * @throws DataError when the magic number, the header or the body size is wrong.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (error) {
      throw new DataError(`cannot read IDX file ${source}: gzip stream is corrupt or truncated`, {
        cause: error,
      });
    }
  }
  if (raw.length < 4) {
    throw new DataError(
      `cannot read IDX file ${source}: expected at least a 4-byte header, got ${raw.length} bytes`,
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const typeByte = raw[2] as number;
  const rank = raw[3] as number;
  const type = IDX_TYPES[typeByte];
  if (raw[0] !== 0 || raw[1] !== 0 || type === undefined || rank === 0) {
    const magic = `0x${view.getUint32(0).toString(16).padStart(8, '0')}`;
    throw new DataError(
      `cannot read IDX file ${source}: bad magic number ${magic} at byte 0, expected 0x0000TTNN with type TT in {08,09,0b,0c,0d,0e} and rank NN >= 1`,
    );
  }
  const headerSize = 4 + 4 * rank;
  if (raw.length < headerSize) {
    throw new DataError(
      `cannot read IDX file ${source}: header needs ${headerSize} bytes for ${rank} dimensions, file has ${raw.length}`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.size;
  if (raw.length !== expected) {
    const what = raw.length < expected ? 'truncated' : 'has trailing bytes';
    throw new DataError(
      `cannot read IDX file ${source}: body ${what}: dims [${dims.join(', ')}] of ${type.name} need ${expected} bytes, file has ${raw.length}`,
    );
  }
  return { dims, data: decodeBody(view, headerSize, count, typeByte) };
}

function decodeBody(view: DataView, offset: number, count: number, typeByte: number): IdxArray['data'] {
  const body = new Uint8Array(
    view.buffer,
    view.byteOffset + offset,
    count * (IDX_TYPES[typeByte]?.size ?? 1),
  );
  if (typeByte === 0x08) return body.slice();
  if (typeByte === 0x09) return new Int8Array(body.slice().buffer);
  // Multi-byte IDX values are big-endian: read them one by one through the DataView.
  if (typeByte === 0x0b) return Int16Array.from({ length: count }, (_, i) => view.getInt16(offset + 2 * i));
  if (typeByte === 0x0c) return Int32Array.from({ length: count }, (_, i) => view.getInt32(offset + 4 * i));
  if (typeByte === 0x0d)
    return Float32Array.from({ length: count }, (_, i) => view.getFloat32(offset + 4 * i));
  return Float64Array.from({ length: count }, (_, i) => view.getFloat64(offset + 8 * i));
}

/**
 * Reads an IDX file from disk (gzip-compressed or raw).
 * @throws DataError naming the path when the file is missing or malformed.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DataError(`cannot read IDX file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseIdx(bytes, path);
}
