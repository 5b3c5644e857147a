import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { DataError } from '../errors.js';

/** Images of one folder, converted to one shape. */
export interface ImageSet {
  images: Float32Array;
  count: number;
  shape: [number, number, number];
  /** The images' file names, in order. */
  ids: string[];
}

/** Bilinear resampling of one channel-interleaved image, values in [0, 1]. */
function resize(src: Float32Array, h: number, w: number, c: number, toH: number, toW: number): Float32Array {
  if (h === toH && w === toW) return src;
  const out = new Float32Array(toH * toW * c);
  for (let y = 0; y < toH; y++) {
    const fy = Math.max(0, ((y + 0.5) * h) / toH - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < toW; x++) {
      const fx = Math.max(0, ((x + 0.5) * w) / toW - 0.5);
      const x0 = Math.min(w - 1, Math.floor(fx));
      const x1 = Math.min(w - 1, x0 + 1);
      const dx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => src[(yy * w + xx) * c + k] as number;
        const top = at(y0, x0) * (1 - dx) + at(y0, x1) * dx;
        const bottom = at(y1, x0) * (1 - dx) + at(y1, x1) * dx;
        out[(y * toW + x) * c + k] = top * (1 - dy) + bottom * dy;
      }
    }
  }
  return out;
}

/** The most pixels an image may have (4096 × 4096): decoding takes 4 bytes each, before any resizing. */
export const MAX_IMAGE_PIXELS = 4096 * 4096;
/** The most float32 values a folder's images may take together (2 GiB). */
const MAX_FOLDER_VALUES = 2 ** 29;

/**
 * Checks a PNG's header before it is decoded: that it is a PNG, that its size (from IHDR) is within
 * MAX_IMAGE_PIXELS, and that it is whole (it ends with the IEND chunk).
 * @throws DataError naming the file and what is wrong.
 */
export function checkPngHeader(bytes: Uint8Array, path: string): void {
  const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || !SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new DataError(`cannot read image ${path}: it is not a PNG file (${bytes.length} bytes)`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  if (width === 0 || height === 0 || width * height > MAX_IMAGE_PIXELS) {
    throw new DataError(
      `cannot read image ${path}: it is ${width}×${height} pixels; images of up to ${MAX_IMAGE_PIXELS} pixels (4096×4096) are read: resize it first`,
    );
  }
  const end = new TextDecoder().decode(bytes.subarray(bytes.length - 8, bytes.length - 4));
  if (end !== 'IEND') {
    throw new DataError(`cannot read image ${path}: it is truncated (it does not end with the IEND chunk)`);
  }
}

/** RGBA bytes to `channels` floats in [0, 1]: gray by ITU-R 601 luma, or RGB. Alpha is dropped. */
function toChannels(rgba: Uint8Array, pixels: number, channels: 1 | 3): Float32Array {
  const out = new Float32Array(pixels * channels);
  for (let i = 0; i < pixels; i++) {
    const r = (rgba[4 * i] as number) / 255;
    const g = (rgba[4 * i + 1] as number) / 255;
    const b = (rgba[4 * i + 2] as number) / 255;
    if (channels === 1) out[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    else out.set([r, g, b], 3 * i);
  }
  return out;
}

/**
 * Reads every .png in `dir` (sorted by name) as a [H, W, C] image.
 * @param shape - the size and channels to convert every image to; without it, all images must share
 *   the first image's size, and are read as gray.
 * @throws DataError naming the file that is not a PNG or whose size differs.
 */
export async function readPngFolder(
  dir: string,
  shape?: readonly [number, number, number],
): Promise<ImageSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.png')).sort();
  } catch (error) {
    throw new DataError(`cannot read PNG folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  if (names.length === 0) throw new DataError(`cannot read PNG folder ${dir}: it holds no .png files`);
  let target = shape;
  const parts: Float32Array[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const bytes = await readFile(path);
    checkPngHeader(bytes, path);
    let png: pngjs.PNGWithMetadata;
    try {
      png = pngjs.PNG.sync.read(bytes);
    } catch (error) {
      throw new DataError(`cannot read image ${path}: it is damaged (${(error as Error).message})`, {
        cause: error,
      });
    }
    if (target === undefined) target = [png.height, png.width, 1];
    const [h, w, c] = target;
    if (shape === undefined && (png.height !== h || png.width !== w)) {
      throw new DataError(
        `cannot read PNG folder ${dir}: ${name} is ${png.width}×${png.height}, the first image ${names[0]} is ${w}×${h}; pass an image size to resize them all`,
      );
    }
    if (c !== 1 && c !== 3)
      throw new DataError(`cannot read PNG folder ${dir}: channels must be 1 or 3, got ${c}`);
    const pixels = toChannels(png.data, png.width * png.height, c);
    parts.push(resize(pixels, png.height, png.width, c, h, w));
  }
  const [h, w, c] = target as [number, number, number];
  const size = h * w * c;
  if (parts.length * size > MAX_FOLDER_VALUES) {
    throw new DataError(
      `cannot read PNG folder ${dir}: ${parts.length} images of ${w}×${h}×${c} are ${((parts.length * size * 4) / 2 ** 30).toFixed(1)} GiB as float32, more than the ${(MAX_FOLDER_VALUES * 4) / 2 ** 30} GiB a dataset may take; pass a smaller image size`,
    );
  }
  const images = new Float32Array(parts.length * size);
  parts.forEach((p, i) => {
    images.set(p, i * size);
  });
  return { images, count: parts.length, shape: [h, w, c], ids: names };
}
