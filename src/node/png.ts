import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes 8-bit pixels as a PNG file.
 * @param pixels - height × width × channels bytes, row-major.
 * @param channels - 1 (gray), 3 (RGB) or 4 (RGBA).
 */
export function encodePng(
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  pixels: Uint8Array,
): Uint8Array {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(
      `encodePng: "pixels" must have ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`,
    );
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const stride = width * channels;
  // Each scanline starts with its filter type; 0 (none) keeps the encoder simple, zlib does the rest.
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++)
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = [
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Options of `imageGrid`. */
export interface GridOptions {
  /** Images per row; default: the smallest square that holds them all. */
  columns?: number;
  /** Pixels between images. Default 2. */
  padding?: number;
  /** Each image pixel becomes scale × scale pixels. Default 2. */
  scale?: number;
}

/**
 * Lays out images with values in [0, 1] as a PNG grid.
 * @param images - N × H × W × C values (C = 1 or 3), row-major, as a VAE's x_hat.
 * @param shape - [N, H, W, C], or [N, H, W] for gray images.
 */
export function imageGrid(
  images: Float32Array,
  shape: readonly number[],
  options: GridOptions = {},
): Uint8Array {
  const [n = 0, h = 0, w = 0, c = 1] = shape;
  if (shape.length < 3 || (c !== 1 && c !== 3)) {
    throw new RangeError(`imageGrid: "shape" must be [N, H, W] or [N, H, W, 1|3], got [${shape.join(', ')}]`);
  }
  const columns = options.columns ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const pad = options.padding ?? 2;
  const scale = options.scale ?? 2;
  const width = columns * (w * scale + pad) + pad;
  const height = rows * (h * scale + pad) + pad;
  const pixels = new Uint8Array(width * height * c).fill(32);
  for (let i = 0; i < n; i++) {
    const x0 = pad + (i % columns) * (w * scale + pad);
    const y0 = pad + Math.floor(i / columns) * (h * scale + pad);
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const src = ((i * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
        const dst = ((y0 + y) * width + x0 + x) * c;
        for (let k = 0; k < c; k++) {
          const v = images[src + k] as number;
          pixels[dst + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      }
    }
  }
  return encodePng(width, height, c as 1 | 3, pixels);
}
