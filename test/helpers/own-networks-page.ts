/**
 * A page for the Chromium test of `trainInBrowser({ networks })` (own-networks-browser.test.ts):
 * `window.runOwnNetworks(backend)` trains ownNetworks() on 16×16 blobs, exports both networks with
 * the browser exporter and decodes fixed codes with tfjs, and hands everything back as plain data.
 */
import { vaeToOnnx } from '../../src/export/browser.js';
import { tfjsDecode, trainInBrowser, type WebTrainBackend } from '../../src/train/browser.js';
import { ownNetworks } from './own-networks.js';

export const SIDE = 16;
export const LATENT = 4;

/** `count` deterministic images: a bright square whose place and size move with the index. */
export function blobs(count: number, offset = 0): Float32Array {
  const out = new Float32Array(count * SIDE * SIDE);
  for (let n = 0; n < count; n++) {
    const i = n + offset;
    const size = 3 + (i % 5);
    const top = (i * 7) % (SIDE - size);
    const left = (i * 11) % (SIDE - size);
    for (let y = top; y < top + size; y++)
      for (let x = left; x < left + size; x++)
        out[n * SIDE * SIDE + y * SIDE + x] = 0.6 + 0.4 * ((i % 3) / 2);
  }
  return out;
}

/** Fixed latent codes for the comparison of decoders: [3, LATENT]. */
export const CODES = Float32Array.from({ length: 3 * LATENT }, (_, i) => Math.sin(i + 1));

const base64 = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};

async function runOwnNetworks(backend: WebTrainBackend) {
  const result = await trainInBrowser(
    { images: blobs(256), shape: [SIDE, SIDE, 1], test: { images: blobs(64, 1000) }, name: 'blobs' },
    {
      backend,
      wasmPaths: '/tfjs/',
      networks: ownNetworks(SIDE, LATENT),
      latentDim: LATENT,
      epochs: 2,
      batchSize: 32,
      seed: 0,
      evalIw: 0,
    },
  );
  const onnx = vaeToOnnx(result.networks, result.card);
  const decoded = await tfjsDecode(result.networks.decoder, CODES, [3, LATENT]);
  const files = Object.fromEntries(
    Object.entries(result.files).map(([name, bytes]) => [name, base64(bytes as Uint8Array)]),
  );
  return {
    backend: result.backend,
    losses: result.history.map((h) => h.trainLoss),
    card: result.card,
    encoder: base64(onnx.encoder),
    decoder: base64(onnx.decoder),
    files,
    decoded: Array.from(decoded),
  };
}

/**
 * Two epochs straight, and one then another resumed from the first's files with freshly built
 * networks: the checkpoint's weight and optimizer-state files, and those whose bytes differ (model.json and state.json
 * differ by the fresh networks' layer names and the run's clock).
 */
async function runResume(): Promise<{ compared: string[]; differ: string[] }> {
  const data = { images: blobs(128), shape: [SIDE, SIDE, 1], test: { images: blobs(32, 1000) } };
  const options = {
    backend: 'wasm' as const,
    wasmPaths: '/tfjs/',
    latentDim: LATENT,
    batchSize: 32,
    seed: 3,
    evalIw: 0,
  };
  const straight = await trainInBrowser(data, { ...options, epochs: 2, networks: ownNetworks(SIDE, LATENT) });
  const first = await trainInBrowser(data, { ...options, epochs: 1, networks: ownNetworks(SIDE, LATENT) });
  const resumed = await trainInBrowser(data, {
    ...options,
    epochs: 2,
    networks: ownNetworks(SIDE, LATENT),
    resumeFrom: first.files,
  });
  const compared = Object.keys(straight.files).filter((name) => name.endsWith('.bin'));
  const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
    a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
  return { compared, differ: compared.filter((name) => !same(straight.files[name], resumed.files[name])) };
}

/** The contract check in the page: a decoder whose output is not the input's shape. */
async function runMisfit(): Promise<string> {
  const { encoder } = ownNetworks(SIDE, LATENT);
  const { decoder } = ownNetworks(SIDE + 4, LATENT);
  try {
    await trainInBrowser(
      { images: blobs(64), shape: [SIDE, SIDE, 1] },
      {
        backend: 'wasm',
        wasmPaths: '/tfjs/',
        networks: { encoder, decoder },
        latentDim: LATENT,
        epochs: 1,
        batchSize: 16,
      },
    );
    return 'trained';
  } catch (error) {
    return (error as Error).message;
  }
}

if (typeof window !== 'undefined') Object.assign(window, { runOwnNetworks, runMisfit, runResume });
