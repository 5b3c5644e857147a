/**
 * Hostile files built by hand, without holding what they expand to: zips whose entries inflate to
 * gigabytes, and PNGs that decode to gigabytes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Deflate, Zlib } from 'fflate';
import { crc32 } from '../../src/core/crc32.js';

/** A deflate (or zlib) stream of `size` zero bytes, and their CRC-32, made in 1 MiB pieces. */
function zeros(size: number, zlib = false, withCrc = true): { data: Uint8Array; crc: number } {
  const chunks: Uint8Array[] = [];
  const stream = zlib ? new Zlib({ level: 1 }) : new Deflate({ level: 1 });
  stream.ondata = (chunk) => chunks.push(chunk);
  const piece = new Uint8Array(1 << 20);
  let left = size;
  // CRC-32 of zeros: combine by running the table over the count (cheap enough in 1 MiB steps).
  let running = 0xffffffff;
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  while (left > 0) {
    const n = Math.min(left, piece.length);
    stream.push(piece.subarray(0, n), left - n === 0);
    if (withCrc) for (let i = 0; i < n; i++) running = (table[running & 0xff] as number) ^ (running >>> 8);
    left -= n;
  }
  const crc = (running ^ 0xffffffff) >>> 0;
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { data, crc };
}

/** One zip entry: stored bytes, or a deflated run of `zeros` zero bytes. */
export type BombEntry =
  | { name: string; bytes: Uint8Array }
  | { name: string; zeros: number; declared?: number; crc?: boolean };

/** A zip of `entries` (stored or deflated), with CRCs and sizes as given (a `declared` size may lie). */
export function zipOf(entries: readonly BombEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const enc = new TextEncoder();
  for (const e of entries) {
    const name = enc.encode(e.name);
    let data: Uint8Array;
    let crc: number;
    let size: number;
    let method: number;
    if ('bytes' in e) {
      data = e.bytes;
      crc = crc32(e.bytes);
      size = e.bytes.length;
      method = 0;
    } else {
      const z = zeros(e.zeros, false, e.crc !== false);
      data = z.data;
      crc = z.crc;
      size = e.declared ?? e.zeros;
      method = 8;
    }
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, eocd];
  const out = new Uint8Array(all.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of all) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A gray 8-bit PNG of `width` × `height` zero pixels (its IDAT a zlib stream of the zero rows), whole or cut. */
export function blankPng(width: number, height: number, truncate = false): Uint8Array {
  const rows = zeros(height * (width + 1), true, false).data;
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', truncate ? rows.subarray(0, rows.length >> 1) : rows),
    ...(truncate ? [] : [chunk('IEND', new Uint8Array(0))]),
  ];
  const out = new Uint8Array(parts.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Writes at `path` a zip whose first entry, pad.bin, is `padBytes` of nothing (stored, a sparse hole
 * on disk), followed by `entries` stored: an archive far larger than its disk use.
 */
export function writeSparseZip(
  path: string,
  padBytes: number,
  entries: { name: string; bytes: Uint8Array }[],
): void {
  const fd = openSync(path, 'w');
  try {
    const enc = new TextEncoder();
    const central: Uint8Array[] = [];
    let offset = 0;
    const put = (name: string, data: Uint8Array | number, crc: number) => {
      const n = enc.encode(name);
      const size = typeof data === 'number' ? data : data.length;
      const local = new Uint8Array(30 + n.length);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, 0x04034b50, true);
      lv.setUint16(4, 20, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, size, true);
      lv.setUint32(22, size, true);
      lv.setUint16(26, n.length, true);
      local.set(n, 30);
      writeSync(fd, local, 0, local.length, offset);
      if (typeof data !== 'number') writeSync(fd, data, 0, data.length, offset + local.length);
      const cd = new Uint8Array(46 + n.length);
      const cv = new DataView(cd.buffer);
      cv.setUint32(0, 0x02014b50, true);
      cv.setUint16(4, 20, true);
      cv.setUint16(6, 20, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, size, true);
      cv.setUint32(24, size, true);
      cv.setUint16(28, n.length, true);
      cv.setUint32(42, offset, true);
      cd.set(n, 46);
      central.push(cd);
      offset += local.length + size;
    };
    put('pad.bin', padBytes, 0);
    for (const e of entries) put(e.name, e.bytes, crc32(e.bytes));
    const cdStart = offset;
    for (const cd of central) {
      writeSync(fd, cd, 0, cd.length, offset);
      offset += cd.length;
    }
    const eocd = new Uint8Array(22);
    const ev = new DataView(eocd.buffer);
    ev.setUint32(0, 0x06054b50, true);
    ev.setUint16(8, central.length, true);
    ev.setUint16(10, central.length, true);
    ev.setUint32(12, offset - cdStart, true);
    ev.setUint32(16, cdStart, true);
    writeSync(fd, eocd, 0, 22, offset);
  } finally {
    closeSync(fd);
  }
}
