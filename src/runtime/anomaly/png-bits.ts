/**
 * The size in bits of an image compressed as PNG does it (each row filtered by the filter that
 * minimizes its sum of absolute differences, then deflate at level 9): the complexity term of the
 * `complexity` score (Serrà et al. 2020, "Input complexity and out-of-distribution detection with
 * likelihood-based generative models") and the no-model baseline `vae ood` prints. fflate makes the
 * bytes, so the count is the same in Node and in browsers.
 */

type Deflate = (data: Uint8Array, options: { level: 9 }) => Uint8Array;

let deflate: Promise<Deflate> | undefined;

/** fflate's deflateSync, loaded once, when first needed (a page that never asks does not fetch it). */
function loadDeflate(): Promise<Deflate> {
  deflate ??= import('fflate').then((m) => m.deflateSync as Deflate);
  return deflate;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** One image's rows, each filtered as PNG would (filter byte first), ready for deflate. */
export function filteredRows(
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: number,
): Uint8Array {
  const stride = width * channels;
  const out = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  for (let r = 0; r < height; r++) {
    const row = pixels.subarray(r * stride, (r + 1) * stride);
    const up = r > 0 ? pixels.subarray((r - 1) * stride, r * stride) : undefined;
    let best = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let filter = 0; filter < 5; filter++) {
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= channels ? (row[i - channels] as number) : 0;
        const b = up ? (up[i] as number) : 0;
        const c = up && i >= channels ? (up[i - channels] as number) : 0;
        const predicted =
          filter === 0
            ? 0
            : filter === 1
              ? a
              : filter === 2
                ? b
                : filter === 3
                  ? (a + b) >> 1
                  : paeth(a, b, c);
        const value = ((row[i] as number) - predicted) & 0xff;
        candidate[i] = value;
        cost += value < 128 ? value : 256 - value;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = filter;
        out[r * (stride + 1)] = filter;
        out.set(candidate, r * (stride + 1) + 1);
      }
    }
    if (best < 0) out[r * (stride + 1)] = 0;
  }
  return out;
}

/**
 * The PNG-compressed size in bits of each of n images (values in [0, 1], quantized to 8 bits).
 * @param shape - one image's [H, W, C].
 */
export async function pngBits(images: Float32Array, shape: readonly number[]): Promise<Float64Array> {
  const [height = 1, width = 1, channels = 1] = shape.length === 3 ? shape : [1, shape[0] ?? 1, 1];
  const size = height * width * channels;
  const n = images.length / size;
  const compress = await loadDeflate();
  const bits = new Float64Array(n);
  const pixels = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) {
      pixels[j] = Math.min(255, Math.max(0, Math.round((images[i * size + j] as number) * 255)));
    }
    bits[i] = 8 * compress(filteredRows(pixels, height, width, channels), { level: 9 }).length;
  }
  return bits;
}
