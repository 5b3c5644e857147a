/** PNG files from pixels, through pngjs. */
import pngjs from 'pngjs';

const COLOR_TYPE = Object.freeze({ 1: 0, 3: 2, 4: 6 } as const);

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
  const colorType = COLOR_TYPE[channels];
  const png = new pngjs.PNG({
    width,
    height,
    colorType,
    inputColorType: colorType,
    inputHasAlpha: channels === 4,
  });
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return pngjs.PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4 });
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
