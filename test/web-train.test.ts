import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { unpackModelZip } from '../src/core/model-zip.js';
import { normalArray } from '../src/core/random.js';
import { exportVae } from '../src/export/index.js';
import { encodePng } from '../src/node/png.js';
import { VaeModel } from '../src/runtime/node.js';
import { loadDataset } from '../src/train/index.js';
import { tempDir } from './helpers/fixtures.js';
import { checkWithReferenceChecker } from './helpers/onnx-checker.js';
import { NEEDS_CHROMIUM, openApp, pageState, servedApp } from './helpers/web-page.js';

const MODEL = join(import.meta.dirname, '..', 'models', 'mnist-mini');
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

/** What `window.vaeApp.train` resolves to. */
interface Outcome {
  negElbo: number;
  encoderOnnx: Uint8Array;
  decoderOnnx: Uint8Array;
  zip: Uint8Array;
  backend: string;
  aborted: boolean;
  trainSeconds: number;
  totalSeconds: number;
}

/**
 * Calls `window.vaeApp.train`. The byte arrays cross the page boundary as base64 strings: as arrays of
 * numbers, playwright's serializer would hold the page's main thread for minutes.
 */
async function train(page: Page, request: Record<string, unknown>): Promise<Outcome> {
  const BYTES = ['encoderOnnx', 'decoderOnnx', 'zip'] as const;
  const outcome = (await page.evaluate(`(async () => {
    const base64 = (bytes) => new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(',') + 1));
      reader.readAsDataURL(new Blob([bytes]));
    });
    await window.vaeApp.showPanel('train');
    const r = await window.vaeApp.train(${JSON.stringify(request)});
    for (const key of ${JSON.stringify(BYTES)}) r[key] = await base64(r[key]);
    return r;
  })()`)) as Record<string, unknown>;
  for (const key of BYTES) outcome[key] = new Uint8Array(Buffer.from(outcome[key] as string, 'base64'));
  return outcome as unknown as Outcome;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/** The whole pipeline in a tab: train with tfjs, export to ONNX, run with onnxruntime-web (issue 15). */
describe('train, export and run in headless Chromium', { skip: NEEDS_CHROMIUM }, () => {
  const web = servedApp(MODEL);

  test('1 epoch on the 2,000 bundled digits trains, exports and draws from the exported decoder; the files pass the checker, match onnxruntime-node within 1e-5, and equal a Node export of the same weights', async (t) => {
    const app = await openApp(web.browser, web.server.url);
    try {
      const started = performance.now();
      const outcome = await train(app.page, { epochs: 1, limit: 2000, backend: 'wasm', seed: 0 });
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(
        `1 epoch on 2,000 digits in the page (wasm): ${seconds.toFixed(1)} s from the call to the drawn samples (${outcome.trainSeconds.toFixed(1)} s of steps); neg-ELBO ${outcome.negElbo}`,
      );
      assert.equal(outcome.backend, 'wasm');
      assert.equal(outcome.aborted, false);
      assert.ok(outcome.negElbo > 50 && outcome.negElbo < 400, `neg-ELBO ${outcome.negElbo}`);
      const state = await pageState(app.page);
      assert.match(state.status, /trained in this tab \(1 epochs on wasm\)/);
      for (const c of state.canvases) assert.ok(c.width > 0 && c.bright > 50, JSON.stringify(c));
      const trainStatus = (await app.page.evaluate(
        `document.getElementById('train-status').textContent`,
      )) as string;
      assert.match(trainStatus, /^done: 28 steps on wasm/);
      const links = (await app.page.evaluate(
        `[...document.querySelectorAll('#train-downloads a')].map((a) => a.download)`,
      )) as string[];
      assert.deepEqual(links, ['vae-model.zip', 'encoder.onnx', 'decoder.onnx']);
      mkdirSync(ARTIFACTS, { recursive: true });
      await app.page.screenshot({ path: join(ARTIFACTS, 'web-train-panel.png'), fullPage: true });

      // The exported files, judged by the reference checker.
      const dir = tempDir();
      const encoderPath = join(dir, 'encoder.onnx');
      const decoderPath = join(dir, 'decoder.onnx');
      writeFileSync(encoderPath, outcome.encoderOnnx);
      writeFileSync(decoderPath, outcome.decoderOnnx);
      checkWithReferenceChecker(encoderPath, decoderPath);

      // onnxruntime-node on the same bytes against onnxruntime-web in the page.
      const model = await VaeModel.load({
        encoder: outcome.encoderOnnx,
        decoder: outcome.decoderOnnx,
      });
      try {
        const z = Array.from({ length: 8 }, (_, i) => Array.from(normalArray(8, 50 + i)));
        const inPage = (await app.page.evaluate(`window.vaeApp.decode(${JSON.stringify(z)})`)) as number[];
        const decodeDiff = maxAbsDiff(inPage, (await model.decode(z)).data);
        const digits = await loadDataset('mnist-mini');
        const x = Array.from({ length: 4 }, (_, i) =>
          Array.from(digits.test.images.subarray(i * 784, (i + 1) * 784)),
        );
        const encoded = (await app.page.evaluate(`window.vaeApp.encode(${JSON.stringify(x)})`)) as {
          mu: number[];
        };
        const muDiff = maxAbsDiff(
          encoded.mu,
          (await model.encode({ data: Float32Array.from(x.flat()), shape: [4, 28, 28, 1] })).mu.data,
        );
        t.diagnostic(
          `onnxruntime-web (page) vs onnxruntime-node: decode ${decodeDiff.toExponential(2)}, encode mu ${muDiff.toExponential(2)}`,
        );
        assert.ok(decodeDiff <= 1e-5, `decode differs by ${decodeDiff}`);
        assert.ok(muDiff <= 1e-5, `mu differs by ${muDiff}`);
      } finally {
        await model.dispose();
      }

      // The zip holds the tfjs checkpoint: exported in Node, the same weights give the same bytes.
      const unpacked = tempDir();
      for (const [path, bytes] of Object.entries(await unpackModelZip(outcome.zip))) {
        mkdirSync(dirname(join(unpacked, path)), { recursive: true });
        writeFileSync(join(unpacked, path), bytes);
      }
      const inNode = await exportVae(unpacked);
      assert.deepEqual(Buffer.from(inNode.encoder), Buffer.from(outcome.encoderOnnx));
      assert.deepEqual(Buffer.from(inNode.decoder), Buffer.from(outcome.decoderOnnx));
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  test('the Train panel trains the deeper built-ins: its network and layers fields reach card.json, and the files agree with onnxruntime-node', async () => {
    const app = await openApp(web.browser, web.server.url);
    try {
      const layersAfter = (await app.page.evaluate(`(async () => {
        await window.vaeApp.showPanel('train');
        const arch = document.getElementById('train-arch');
        arch.value = 'conv';
        arch.dispatchEvent(new Event('change'));
        return document.getElementById('train-layers').value;
      })()`)) as string;
      assert.equal(layersAfter, '32,64');
      const outcome = await train(app.page, {
        arch: 'mlp',
        layers: [64, 32],
        epochs: 1,
        latent: 4,
        limit: 256,
        backend: 'wasm',
        seed: 0,
      });
      const files = await unpackModelZip(outcome.zip);
      const card = JSON.parse(new TextDecoder().decode(files['card.json']));
      assert.equal(card.arch, 'mlp');
      assert.deepEqual(card.hidden, [64, 32]);
      const model = await VaeModel.load({ encoder: outcome.encoderOnnx, decoder: outcome.decoderOnnx });
      try {
        const z = Array.from({ length: 4 }, (_, i) => Array.from(normalArray(4, 70 + i)));
        const inPage = (await app.page.evaluate(`window.vaeApp.decode(${JSON.stringify(z)})`)) as number[];
        const diff = maxAbsDiff(inPage, (await model.decode(z)).data);
        assert.ok(diff <= 1e-5, `decode differs by ${diff}`);
      } finally {
        await model.dispose();
      }
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  test("Draw: a scribble scores as unusual against the model's own held-out digits; vaeApp.score agrees with VaeModel.score in Node", async (t) => {
    const app = await openApp(web.browser, web.server.url);
    try {
      const results = [] as { score: number; fractionBelow: number }[];
      for (const seed of [3, 4, 5]) {
        results.push(
          (await app.page.evaluate(
            `window.vaeApp.scribble(${seed}).then((r) => ({ score: r.score, fractionBelow: r.fractionBelow }))`,
          )) as { score: number; fractionBelow: number },
        );
      }
      t.diagnostic(
        `scribbles: ${results.map((r) => `${r.score.toFixed(1)} (above ${(100 * r.fractionBelow).toFixed(1)}% of the model's held-out digits)`).join(', ')}`,
      );
      for (const r of results) assert.ok(r.fractionBelow >= 0.99, JSON.stringify(r));
      const verdict = (await app.page.evaluate(
        `document.getElementById('draw-verdict').className`,
      )) as string;
      assert.equal(verdict, 'unusual');
      mkdirSync(ARTIFACTS, { recursive: true });
      await app.page.screenshot({ path: join(ARTIFACTS, 'web-draw-panel.png'), fullPage: true });

      const digits = await loadDataset('mnist-mini');
      const x = Array.from({ length: 6 }, (_, i) =>
        Array.from(digits.test.images.subarray(i * 784, (i + 1) * 784)),
      );
      const scored = (await app.page.evaluate(`window.vaeApp.score(${JSON.stringify(x)})`)) as {
        score: string;
        values: number[];
        percentiles: number[];
      };
      const inPage = scored.values;
      const model = await VaeModel.load(MODEL);
      try {
        const inNode = await model.score({ data: Float32Array.from(x.flat()), shape: [6, 28, 28, 1] });
        // The model is calibrated: both doors give its default score (dose) and the same percentiles.
        assert.equal(scored.score, 'dose');
        assert.equal(inNode.score, 'dose');
        const diff = maxAbsDiff(inPage, inNode.values);
        t.diagnostic(
          `scores in the page vs Node: ${inPage.map((s) => s.toFixed(2)).join(', ')} (max diff ${diff.toExponential(2)})`,
        );
        // The same draws; the two builds' decodes differ by ~1e-7, which the statistics carry into
        // the score at ~1e-4 here.
        assert.ok(diff < 1e-2, `${diff}`);
        assert.ok(maxAbsDiff(scored.percentiles, inNode.percentiles as Float64Array) < 0.1);
        // Typical digits score below the scribbles.
        assert.ok(Math.max(...inPage) < Math.min(...results.map((r) => r.score)));
      } finally {
        await model.dispose();
      }
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  test('the Train panel trains on images the user chooses, and Stop ends a run between steps with a usable model', async () => {
    const app = await openApp(web.browser, web.server.url);
    try {
      const digits = await loadDataset('mnist-mini');
      const dir = tempDir();
      const files = Array.from({ length: 200 }, (_, i) => {
        // Dark strokes on white, as a scan would have them: the panel inverts them.
        const pixels = Uint8Array.from(
          digits.train.images.subarray(i * 784, (i + 1) * 784),
          (v) => 255 - Math.round(v * 255),
        );
        const path = join(dir, `digit-${i}.png`);
        writeFileSync(path, encodePng(28, 28, 1, pixels));
        return path;
      });
      await app.page.evaluate(`window.vaeApp.showPanel('train')`);
      await app.page.setInputFiles('#train-files', files);
      await app.page.waitForFunction(
        `/^200 images/.test(document.getElementById('train-data-info').textContent)`,
      );
      const fromFiles = await train(app.page, { epochs: 1, batchSize: 30, source: 'files', backend: 'wasm' });
      assert.equal(fromFiles.aborted, false);
      assert.ok(fromFiles.negElbo > 50 && fromFiles.negElbo < 600, `${fromFiles.negElbo}`);

      // A long run, stopped from the page's Stop button.
      const long = train(app.page, { epochs: 100, backend: 'wasm' });
      // Once steps are under way (the status line counts them), the user presses Stop. Where the run
      // then stands depends on the machine's speed; what must hold does not: it stops between two
      // steps, and the model it keeps says how many whole epochs those steps made.
      const running = (await app.page.waitForFunction(
        `(/^epoch \\d+\\/100, step \\d+\\/(\\d+)/.exec(document.getElementById('train-status').textContent) || [])[1]`,
      )) as { jsonValue(): Promise<unknown> };
      const stepsPerEpoch = Number(await running.jsonValue());
      await app.page.click('#train-stop');
      const stopped = await long;
      assert.equal(stopped.aborted, true);
      const status = (await app.page.evaluate(
        `document.getElementById('train-status').textContent`,
      )) as string;
      const steps = Number(/^stopped: (\d+) steps on wasm/.exec(status)?.[1]);
      assert.ok(steps >= 1 && steps < 100 * stepsPerEpoch, status);
      const state = await pageState(app.page);
      const epochs = Math.floor(steps / stepsPerEpoch);
      assert.match(state.status, new RegExp(`trained in this tab \\(${epochs} epochs on wasm\\)`));
      assert.ok((state.canvases[0]?.bright ?? 0) > 50);
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });

  test('the page trains on webgl and webgpu too (SwiftShader here): the same run as on wasm within float error', async (t) => {
    const app = await openApp(web.browser, web.server.url);
    try {
      const request = { epochs: 1, limit: 256, batchSize: 64, backend: 'wasm' };
      const wasm = await train(app.page, request);
      for (const backend of ['webgl', 'webgpu']) {
        const other = await train(app.page, { ...request, backend });
        t.diagnostic(
          `${backend}: neg-ELBO ${other.negElbo} (wasm ${wasm.negElbo}), ${other.trainSeconds.toFixed(1)} s of steps (wasm ${wasm.trainSeconds.toFixed(1)} s)`,
        );
        assert.equal(other.backend, backend);
        assert.ok(
          Math.abs(other.negElbo - wasm.negElbo) < 0.05,
          `${backend} ${other.negElbo} vs wasm ${wasm.negElbo}`,
        );
      }
      assert.deepEqual(app.consoleErrors, []);
    } finally {
      await app.close();
    }
  });
});
