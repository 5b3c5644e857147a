/** The bundled digits (data/digits.bin, which vae web serves; see BUNDLED_DIGITS in src/web-app/bundled-digits.ts). */
import type { Images } from './context.js';

/** The bundled digits: training and test examples, values in [0, 1], with their labels. */
export interface Digits {
  train: Images & { labels: Uint8Array };
  test: Images & { labels: Uint8Array };
}

let loading: Promise<Digits> | undefined;

/** Fetches the bundled digits once. */
export function bundledDigits(): Promise<Digits> {
  loading ??= (async () => {
    const info = (await (await fetch(new URL('data/digits.json', location.href))).json()) as {
      shape: number[];
      train: number;
      test: number;
    };
    const response = await fetch(new URL('data/digits.bin', location.href));
    if (!response.ok)
      throw new Error(`cannot load the bundled digits: data/digits.bin gave HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const size = info.shape.reduce((a, b) => a * b, 1);
    const count = info.train + info.test;
    if (bytes.length !== count * size + count) {
      throw new Error(
        `cannot load the bundled digits: data/digits.bin holds ${bytes.length} bytes, expected ${count * size + count}`,
      );
    }
    const part = (first: number, n: number) => ({
      images: Float32Array.from(bytes.subarray(first * size, (first + n) * size), (v) => v / 255),
      labels: bytes.slice(count * size + first, count * size + first + n),
      shape: info.shape,
      count: n,
    });
    return { train: part(0, info.train), test: part(info.train, info.test) };
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
