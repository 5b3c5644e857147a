import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from './helpers/fixtures.js';
import { saveModelFolder } from './helpers/save-model.js';
import { NEEDS_CHROMIUM, openApp, servedApp } from './helpers/web-page.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const MODEL = join(import.meta.dirname, '..', 'models', 'mnist-mini');
const L = tf.layers;
let seed = 7000;
const w = () => tf.initializers.randomUniform({ minval: -0.4, maxval: 0.4, seed: seed++ });

/** An LSTM sequence model with a masked, padded token input, and a GRU regression head. */
function sequenceModel(): tf.LayersModel {
  const x = tf.input({ shape: [16] });
  const e = L.embedding({ inputDim: 30, outputDim: 6, maskZero: true, embeddingsInitializer: w() }).apply(x);
  const b = L.bidirectional({
    layer: L.lstm({
      units: 8,
      returnSequences: true,
      kernelInitializer: w(),
      recurrentInitializer: w(),
    }) as tf.RNN,
  }).apply(e as tf.SymbolicTensor);
  const g = L.gru({ units: 5, kernelInitializer: w(), recurrentInitializer: w() }).apply(
    b as tf.SymbolicTensor,
  );
  const y = L.dense({ units: 2, kernelInitializer: w() }).apply(g as tf.SymbolicTensor);
  return tf.model({ inputs: x, outputs: y as tf.SymbolicTensor });
}

function convClassifier(): tf.LayersModel {
  return tf.sequential({
    layers: [
      L.conv2d({
        inputShape: [10, 10, 1],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: w(),
      }),
      L.flatten(),
      L.dense({ units: 3, activation: 'softmax', kernelInitializer: w() }),
    ],
  });
}

/** The bytes `vae convert` writes for a folder. */
function cliBytes(folder: string): Buffer {
  const out = join(folder, 'cli.onnx');
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'convert', folder, '--out', out], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(out);
}

interface Converted {
  base64: string;
  rows: { output: string; ok: boolean; maxAbs: number }[];
}

describe('the Convert panel in headless Chromium', { skip: NEEDS_CHROMIUM }, () => {
  const web = servedApp(MODEL);

  test('files chosen in the panel convert to the same bytes as vae convert; the check passes on onnxruntime-web', async (t) => {
    const app = await openApp(web.browser, web.server.url);
    try {
      for (const [name, build, options] of [
        ['sequence', sequenceModel, {}],
        ['quantized', convClassifier, { quantize: ['uint8', 'float16'] as const, shardBytes: 300 }],
      ] as const) {
        const folder = join(tempDir('vae-onnx-web-convert-'), name);
        await saveModelFolder(build(), folder, options);
        const files = readdirSync(folder).map((f) => join(folder, f));
        const want = cliBytes(folder);
        await app.page.evaluate(`window.vaeApp.showPanel('convert')`);
        await app.page.setInputFiles('#convert-files', files);
        await app.page.waitForFunction(
          `document.getElementById('convert-files-info').textContent.includes('files')`,
        );
        await app.page.click('#convert-start');
        await app.page.waitForFunction(
          `/converted|could not/.test(document.getElementById('convert-status').textContent)`,
          undefined,
          { timeout: 60_000 },
        );
        const status = (await app.page.evaluate(
          `document.getElementById('convert-status').textContent`,
        )) as string;
        t.diagnostic(`${name}: ${status}`);
        assert.match(status, /converted model\.json .*the check passed/);
        const got = (await app.page.evaluate(`(async () => {
          const blob = await (await fetch(document.getElementById('convert-download').href)).blob();
          return await new Promise((resolve) => {
            const reader = new FileReader();
            reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(',') + 1));
            reader.readAsDataURL(blob);
          });
        })()`)) as string;
        assert.ok(
          Buffer.from(got, 'base64').equals(want),
          `${name}: the page's model.onnx equals vae convert's`,
        );
      }
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  test('a URL of model.json (another origin, CORS) converts through window.vaeApp.convert', async () => {
    const folder = join(tempDir('vae-onnx-web-convert-url-'), 'm');
    await saveModelFolder(convClassifier(), folder, { shardBytes: 200 });
    const server = createServer((req, res) => {
      const file = join(folder, (req.url ?? '/').slice(1));
      res.setHeader('access-control-allow-origin', '*');
      let body: Buffer | undefined;
      try {
        body = readFileSync(file);
      } catch {}
      if (body) res.writeHead(200).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const app = await openApp(web.browser, web.server.url);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
      const r = (await app.page.evaluate(
        `window.vaeApp.convert(${JSON.stringify({ source: url, opset: 17, precision: 'fp32' })})`,
      )) as Converted;
      assert.ok(Buffer.from(r.base64, 'base64').equals(cliBytes(folder)));
      assert.ok(r.rows.length === 1 && r.rows.every((row) => row.ok), JSON.stringify(r.rows));
      const bad = await app.page
        .evaluate(
          `window.vaeApp.convert(${JSON.stringify({ source: `${url}.missing`, opset: 17, precision: 'fp32' })})`,
        )
        .catch((e: Error) => e.message);
      assert.match(String(bad), /HTTP 404/);
    } finally {
      await app.close();
      server.close();
    }
  });
});
