import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { build } from 'vite';
import { tempDir } from './helpers/fixtures.js';
import { buildLibrary } from './helpers/vite-lib.js';

const src = join(import.meta.dirname, '..', 'src');
const entry = join(src, 'runtime', 'web.ts');

async function bundle(
  external: (id: string) => boolean,
  from = entry,
): Promise<{ code: string; bytes: number; entryBytes: number }> {
  const outDir = tempDir('vae-onnx-vite-');
  const files = await buildLibrary(from, outDir, { fileName: 'bundle', external });
  const code = files.map((f) => readFileSync(join(outDir, f), 'utf8')).join('\n');
  const entryFile = files.find((f) => f.startsWith('bundle')) as string;
  return {
    code,
    bytes: files.reduce((n, f) => n + statSync(join(outDir, f)).size, 0),
    entryBytes: statSync(join(outDir, entryFile)).size,
  };
}

/** The browser door must bundle for a page: no node:* modules, no onnxruntime-node, no tfjs. */
describe('browser bundle of vae-onnx/runtime (Vite)', () => {
  test('bundles with onnxruntime-web and imports nothing that only Node has', async () => {
    const { code } = await bundle(() => false);
    assert.doesNotMatch(code, /from\s*["']node:|import\(["']node:|require\(["']node:/, 'no node:* import');
    assert.doesNotMatch(code, /onnxruntime-node/, 'no onnxruntime-node');
    assert.doesNotMatch(code, /@tensorflow\/tfjs/, 'no tfjs');
    assert.match(code, /InferenceSession/, 'onnxruntime-web is in the bundle');
  });

  test("the runtime's own code (onnxruntime-web left out) is small, and reported", async (t) => {
    const { code, bytes, entryBytes } = await bundle(
      (id) => id === 'onnxruntime-web' || id.startsWith('onnxruntime-web/') || id === 'fflate',
    );
    // onnxruntime-web only by dynamic import: the bundler gives it a chunk of its own (threads on
    // crossOriginIsolated pages), and a page on wasm never loads the WebGPU build.
    assert.match(code, /import\(["']onnxruntime-web\/wasm["']\)/);
    assert.match(code, /import\(["']onnxruntime-web\/webgpu["']\)/);
    assert.doesNotMatch(code, /from\s*["']onnxruntime-web/, 'no static import of onnxruntime-web');
    t.diagnostic(
      `vae-onnx/runtime browser code: ${entryBytes} bytes minified loaded first, ${bytes} in all (the anomaly scores and the zip reader load when first asked for), without onnxruntime-web and its .wasm, and without fflate (zips)`,
    );
    assert.ok(entryBytes < 36_000, `${entryBytes} bytes loaded first`);
    // Lazy chunks: anomaly scores ~16 KB, the bounded zip reader ~6 KB, model-dir checks ~5 KB.
    assert.ok(bytes < 64_000, `${bytes} bytes`);
  });
});

/** The modules (by id) of a Vite browser build of `from`, and its size. */
async function bundledModules(from: string): Promise<{ ids: string[]; bytes: number }> {
  const result = (await build({
    logLevel: 'silent',
    configFile: false,
    root: join(import.meta.dirname, '..'),
    resolve: { conditions: ['browser', 'import', 'module', 'default'] },
    build: { write: false, minify: true, lib: { entry: from, formats: ['es'], fileName: 'bundle' } },
  })) as
    | { output: { moduleIds?: string[]; code?: string }[] }[]
    | { output: { moduleIds?: string[]; code?: string }[] };
  const chunks = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output);
  return {
    ids: chunks.flatMap((c) => c.moduleIds ?? []),
    bytes: chunks.reduce((n, c) => n + (c.code?.length ?? 0), 0),
  };
}

/** The browser doors of vae-onnx/train and vae-onnx/export bundle for a page, without Node. */
describe('browser bundles of vae-onnx/train and vae-onnx/export (Vite)', () => {
  for (const door of ['train', 'export'] as const) {
    test(`${door}: no node:* module, no onnxruntime-node, no worker_threads, no file system`, async (t) => {
      const { ids, bytes } = await bundledModules(join(src, door, 'browser.ts'));
      assert.deepEqual(
        ids.filter((id) => id.startsWith('node:') || /onnxruntime-node|worker_threads/.test(id)),
        [],
      );
      // Every module of ours in the bundle is free of Node imports (the worker pool, the dataset
      // readers, the disk checkpoint and exportVae stay out).
      const ours = ids.filter((id) => id.startsWith(src));
      assert.ok(ours.includes(join(src, door, 'browser.ts')));
      const withNode = ours.filter((id) => /from\s*'node:|import\('node:/.test(readFileSync(id, 'utf8')));
      assert.deepEqual(withNode, []);
      // Vite's empty stand-in for a Node built-in is there only for tfjs-backend-wasm's Emscripten
      // glue, which reaches for fs and worker_threads in Node alone (its package.json maps them to
      // false for browsers); nothing of ours imports one.
      const external = ids.filter((id) => !id.startsWith('/') && !id.startsWith('\0'));
      assert.ok(
        external.every((id) => id === '__vite-browser-external'),
        external.join(', '),
      );
      t.diagnostic(
        `vae-onnx/${door} browser bundle: ${(bytes / 1e6).toFixed(2)} MB minified (tfjs included), ${ours.length} modules of ours`,
      );
    });
  }
});
