import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { build } from 'vite';
import { tempDir } from './helpers/fixtures.js';

const entry = join(import.meta.dirname, '..', 'src', 'runtime', 'web.ts');

async function bundle(external: (id: string) => boolean): Promise<{ code: string; bytes: number }> {
  const outDir = tempDir('vae-onnx-vite-');
  await build({
    logLevel: 'silent',
    configFile: false,
    root: join(import.meta.dirname, '..'),
    resolve: { conditions: ['browser', 'import', 'module', 'default'] },
    build: {
      outDir,
      emptyOutDir: true,
      minify: true,
      lib: { entry, formats: ['es'], fileName: 'runtime' },
      rollupOptions: { external },
    },
  });
  const files = readdirSync(outDir).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
  const code = files.map((f) => readFileSync(join(outDir, f), 'utf8')).join('\n');
  return { code, bytes: files.reduce((n, f) => n + statSync(join(outDir, f)).size, 0) };
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
    const { code, bytes } = await bundle(
      (id) => id === 'onnxruntime-web' || id.startsWith('onnxruntime-web/'),
    );
    // onnxruntime-web only by dynamic import: the bundler gives it a chunk of its own (threads on
    // crossOriginIsolated pages), and a page on wasm never loads the WebGPU build.
    assert.match(code, /import\(["']onnxruntime-web\/wasm["']\)/);
    assert.match(code, /import\(["']onnxruntime-web\/webgpu["']\)/);
    assert.doesNotMatch(code, /from\s*["']onnxruntime-web/, 'no static import of onnxruntime-web');
    t.diagnostic(
      `vae-onnx/runtime browser code: ${bytes} bytes minified, without onnxruntime-web and its .wasm`,
    );
    assert.ok(bytes < 40_000, `${bytes} bytes`);
  });
});
