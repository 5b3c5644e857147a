/**
 * An ONNX file's metadata_props, read from its bytes without a protobuf library: a walk over the
 * ModelProto's top-level fields (the graph is skipped by its length), so that the runtime can check
 * which weights a file came from in any door.
 */

/** Reads a varint at `at`; returns the value and where the next field starts. */
function varint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  let i = at;
  for (;;) {
    if (i >= bytes.length) throw new RangeError('truncated varint');
    const b = bytes[i++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, i];
    scale *= 128;
    if (scale > 2 ** 56) throw new RangeError('varint too long');
  }
}

const decoder = new TextDecoder();

/** One StringStringEntryProto: key (field 1) and value (field 2). */
function entry(bytes: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  let at = 0;
  while (at < bytes.length) {
    const [tag, next] = varint(bytes, at);
    const [length, start] = varint(bytes, next);
    const text = decoder.decode(bytes.subarray(start, start + length));
    if (tag === (1 << 3) + 2) key = text;
    else if (tag === (2 << 3) + 2) value = text;
    at = start + length;
  }
  return [key, value];
}

/**
 * The metadata_props (ModelProto field 14) of ONNX bytes, by key. Bytes that are not a well-formed
 * ModelProto give what could be read before the damage (onnxruntime reports the damage itself).
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  try {
    while (at < bytes.length) {
      const [tag, next] = varint(bytes, at);
      const wire = tag & 7;
      if (wire === 0) {
        at = varint(bytes, next)[1];
      } else if (wire === 2) {
        const [length, start] = varint(bytes, next);
        if (tag >>> 3 === 14) {
          const [k, v] = entry(bytes.subarray(start, start + length));
          out[k] = v;
        }
        at = start + length;
      } else if (wire === 5) {
        at = next + 4;
      } else if (wire === 1) {
        at = next + 8;
      } else {
        break;
      }
    }
  } catch {
    // A damaged file: keep what was read.
  }
  return out;
}
