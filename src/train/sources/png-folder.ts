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
    let png: pngjs.PNGWithMetadata;
    try {
      png = pngjs.PNG.sync.read(await readFile(path));
    } catch (error) {
      throw new DataError(`cannot read image ${path}: ${(error as Error).message}`, { cause: error });
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
  const images = new Float32Array(parts.length * size);
  parts.forEach((p, i) => {
    images.set(p, i * size);
  });
  return { images, count: parts.length, shape: [h, w, c], ids: names };
}
