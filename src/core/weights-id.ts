/**
 * The id of the weights a model's files came from: card.json keeps it (`weightsId`) and both ONNX
 * files carry it (metadata `vae_onnx.weights_id`), so that files from different weights (an
 * interrupted write, files copied from another model) are refused at load instead of giving wrong
 * answers. It is a hash of the weights' bytes: the same weights give the same id everywhere.
 */
import { crc32 } from './crc32.js';

/** The ONNX metadata key that carries the weights' id. */
export const WEIGHTS_ID_KEY = 'vae_onnx.weights_id';

/** FNV-1a, 32 bits, continuing from `h`. */
function fnv1a(bytes: Uint8Array, h: number): number {
  let x = h;
  for (let i = 0; i < bytes.length; i++) x = Math.imul(x ^ (bytes[i] as number), 16777619) >>> 0;
  return x;
}

/** The id of weights given as arrays in a fixed order: `w-` and 16 hex digits (CRC-32, then FNV-1a). */
export function weightsIdOf(arrays: Iterable<ArrayBufferView>): string {
  const parts: Uint8Array[] = [];
  for (const a of arrays) parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  let total = 0;
  for (const p of parts) total += p.length;
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const hex = (v: number) => v.toString(16).padStart(8, '0');
  return `w-${hex(crc32(all))}${hex(fnv1a(all, 2166136261))}`;
}
