/**
 * vae web's server without a browser: it serves only regular files of the model folder, tells the
 * page which model files exist, and refuses to serve an app whose bundled onnxruntime-web or
 * tfjs-backend-wasm is not the installed version (the page would fail with a LinkError).
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUNDLED_FILE, buildWebApp, packageOfModule } from '../src/web-app/build.js';
import { serveWebApp, type WebServer } from '../src/web-app/server.js';
import { tempDir } from './helpers/fixtures.js';

const MODEL = join(import.meta.dirname, '..', 'models', 'fashion-mnist');

describe('vae web: the server', () => {
  let appDir: string;
  let cacheDir: string;
  let server: WebServer;
  let modelDir: string;
  let secret: string;

  before(async () => {
    appDir = tempDir('vae-onnx-web-');
    await buildWebApp(appDir);
    cacheDir = tempDir('vae-onnx-web-cache-');
    modelDir = tempDir('vae-onnx-web-model-');
    copyFileSync(join(MODEL, 'decoder.onnx'), join(modelDir, 'decoder.onnx'));
    // Files from elsewhere, linked into the model folder: none may be served.
    secret = join(tempDir(), 'secret.json');
    writeFileSync(secret, '{"secret": true}\n');
    symlinkSync(secret, join(modelDir, 'card.json'));
    symlinkSync(join(MODEL, 'encoder.onnx'), join(modelDir, 'encoder.onnx'));
    mkdirSync(join(modelDir, 'decoder.fp16.onnx'));
    server = await serveWebApp({ appDir, modelDir, cacheDir });
  });
  after(async () => {
    await server?.close();
  });

  test('regular files of the model folder only: symbolic links (to anywhere) and folders are not served', async () => {
    const get = (file: string) => fetch(new URL(`model/${file}`, server.url));
    const decoder = await get('decoder.onnx');
    assert.equal(decoder.status, 200);
    assert.deepEqual(Buffer.from(await decoder.arrayBuffer()), readFileSync(join(MODEL, 'decoder.onnx')));
    for (const file of ['card.json', 'encoder.onnx', 'decoder.fp16.onnx', '..%2F..%2Fetc%2Fpasswd', 'x.onnx'])
      assert.equal((await get(file)).status, 404, file);
  });

  test('the page is told which model files exist, so it asks for no decoder.fp16.onnx that is not there', async () => {
    for (const encoding of ['br', 'gzip', 'identity']) {
      const page = await fetch(server.url, { headers: { 'accept-encoding': encoding } });
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-encoding') ?? 'identity', encoding);
      const html = await page.text();
      assert.match(html, /<meta name="vae-model-files" content="decoder\.onnx" \/>/);
    }
    assert.equal((await fetch(new URL('index.html', server.url))).status, 200);
  });

  test('an app built with another onnxruntime-web than the installed one is refused, naming both versions', async () => {
    const stale = tempDir('vae-onnx-web-stale-');
    cpSync(appDir, stale, { recursive: true });
    const record = JSON.parse(readFileSync(join(appDir, BUNDLED_FILE), 'utf8')) as {
      packages: Record<string, string>;
    };
    const installed = record.packages['onnxruntime-web'];
    assert.ok(installed, 'the build records the onnxruntime-web it bundled');
    record.packages['onnxruntime-web'] = '1.30.0';
    writeFileSync(join(stale, BUNDLED_FILE), JSON.stringify(record));
    await assert.rejects(
      serveWebApp({ appDir: stale, modelDir: MODEL, cacheDir }),
      new RegExp(
        `cannot serve the web app in .*: it bundles onnxruntime-web 1\\.30\\.0's JavaScript, but .*onnxruntime-web is onnxruntime-web ${installed.replace(/\./g, '\\.')}.*LinkError.*install onnxruntime-web@1\\.30\\.0`,
      ),
    );
    const unrecorded = tempDir('vae-onnx-web-unrecorded-');
    cpSync(appDir, unrecorded, { recursive: true, filter: (f) => !f.endsWith(BUNDLED_FILE) });
    await assert.rejects(
      serveWebApp({ appDir: unrecorded, modelDir: MODEL, cacheDir }),
      /has no bundled\.json/,
    );
  });

  test('the build records each bundled module under its package, scoped names included', () => {
    assert.deepEqual(packageOfModule('/a/node_modules/onnxruntime-web/dist/ort.bundle.min.mjs'), {
      name: 'onnxruntime-web',
      dir: '/a/node_modules/onnxruntime-web',
    });
    assert.deepEqual(
      packageOfModule('\0/a/node_modules/x/node_modules/@tensorflow/tfjs-core/dist/index.js?commonjs-proxy'),
      { name: '@tensorflow/tfjs-core', dir: '/a/node_modules/x/node_modules/@tensorflow/tfjs-core' },
    );
    assert.equal(packageOfModule('/repo/src/web-app/page/main.ts'), undefined);
  });
});
