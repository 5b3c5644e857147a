/**
 * The Train panel: a VAE trained in this tab (tfjs, on the bundled digits or the user's images),
 * exported to ONNX here, offered as downloads, and handed to the other panels, which run it with
 * onnxruntime-web. Loaded when first needed: it brings TensorFlow.js, which the first picture does
 * not wait for.
 */
import { normalArray } from '../../core/random.js';
import { vaeToOnnx } from '../../export/browser.js';
import { VaeModel } from '../../runtime/web.js';
import {
  type MemoryData,
  type MemoryTrainResult,
  packModelZip,
  type StepProgress,
  tfjsDecode,
  trainInBrowser,
  type VaeNetworks,
  type WebTrainBackend,
} from '../../train/browser.js';
import { $, type AppContext, type Images, onStart } from './context.js';
import { bundledDigits } from './digits.js';
import { drawGrid } from './draw.js';
import { acceptDrops, IMAGE_FILES, readImages } from './images.js';
import { drawLossCurve } from './plots.js';

/** What a training run is asked to do (the panel's fields, or `window.vaeApp.train`'s argument). */
export interface TrainRequest {
  /** The built-in network (default mlp) and its layers: hidden widths (mlp), filters per level (conv). */
  arch?: 'mlp' | 'conv';
  layers?: number[];
  epochs: number;
  latent: number;
  beta: number;
  batchSize: number;
  seed: number;
  backend: WebTrainBackend | 'auto';
  /** Train on the first `limit` training examples only. */
  limit?: number;
  /** The bundled digits, or the images the user gave the panel. */
  source: 'digits' | 'files';
}

/** What a finished run gives `window.vaeApp.train`. */
export interface TrainOutcome {
  /** Negative ELBO on the held-out examples (nats per example), from card.json. */
  negElbo: number;
  encoderOnnx: Uint8Array;
  decoderOnnx: Uint8Array;
  /** The tfjs backend the steps ran on. */
  backend: string;
  /** The run was stopped before its last epoch. */
  aborted: boolean;
  /** Seconds of training (steps only), and of the whole run with evaluation and export. */
  trainSeconds: number;
  totalSeconds: number;
  /** Examples per second of training (steps × batch size over the steps' seconds), as card.json has it. */
  examplesPerSec: number;
  /** card.json, the tfjs checkpoint and the ONNX files, zipped. */
  zip: Uint8Array;
}

let userImages: Images | undefined;
let running: AbortController | undefined;
const links: string[] = [];

function status(text: string): void {
  $('train-status').textContent = text;
}

/** The training data a request asks for; the user's images are split 90/10 into train and test. */
async function chosenData(request: TrainRequest): Promise<{ data: MemoryData; test: Images }> {
  const { limit } = request;
  if (request.source === 'files') {
    if (!userImages || userImages.count < 2) throw new Error('choose or drop some images first');
    const size = userImages.shape.reduce((a, b) => a * b, 1);
    const testCount = Math.max(1, Math.floor(userImages.count / 10));
    const trainCount = Math.min(userImages.count - testCount, limit ?? Number.POSITIVE_INFINITY);
    const test = userImages.images.subarray((userImages.count - testCount) * size);
    return {
      data: {
        images: userImages.images.subarray(0, trainCount * size),
        shape: userImages.shape,
        test: { images: test },
        name: 'your images',
      },
      test: { images: test, shape: userImages.shape, count: testCount },
    };
  }
  const digits = await bundledDigits();
  const size = digits.train.shape.reduce((a, b) => a * b, 1);
  const n = Math.min(digits.train.count, limit ?? digits.train.count);
  return {
    data: {
      images: digits.train.images.subarray(0, n * size),
      labels: digits.train.labels.subarray(0, n),
      shape: digits.train.shape,
      test: { images: digits.test.images, labels: digits.test.labels },
      name: 'mnist-mini (bundled digits)',
    },
    test: digits.test,
  };
}

/** Draws 16 samples from the networks as they are (fixed codes, so that the pictures can be compared). */
async function drawPreview(networks: VaeNetworks, latent: number, shape: readonly number[]): Promise<void> {
  const z = normalArray(16 * latent, 2024);
  const x = await tfjsDecode(networks.decoder, z, [16, latent]);
  drawGrid($('train-samples'), x, [16, ...shape], 4, 2);
}

function offerDownloads(files: Record<string, Uint8Array>): void {
  for (const url of links.splice(0)) URL.revokeObjectURL(url);
  const box = $('train-downloads');
  box.replaceChildren('Download: ');
  for (const [name, bytes] of Object.entries(files)) {
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    links.push(url);
    const a = Object.assign(document.createElement('a'), {
      href: url,
      download: name,
      textContent: `${name} (${(bytes.length / 1024).toFixed(0)} KiB)`,
    });
    box.append(a);
  }
}

/**
 * Trains on the chosen data, exports the ONNX files, offers the downloads and makes the model the
 * page's. One run at a time.
 * @throws Error when a run is under way, or what training, export or loading threw.
 */
export async function trainAndUse(ctx: AppContext, request: TrainRequest): Promise<TrainOutcome> {
  if (running) throw new Error('a training run is under way: stop it first');
  const controller = new AbortController();
  running = controller;
  ($('train-start') as HTMLButtonElement).disabled = true;
  ($('train-stop') as HTMLButtonElement).disabled = false;
  const started = performance.now();
  const losses: number[] = [];
  const epochEnds: number[] = [];
  let lastPreview = 0;
  let result: MemoryTrainResult | undefined;
  try {
    status('loading TensorFlow.js and the data…');
    const { data, test } = await chosenData(request);
    const [H = 1, W = 1, C = 1] = data.shape;
    result = await trainInBrowser(data, {
      backend: request.backend,
      wasmPaths: new URL('tfjs/', location.href).href,
      epochs: request.epochs,
      latentDim: request.latent,
      ...networkOptions(request),
      beta: request.beta,
      batchSize: request.batchSize,
      seed: request.seed,
      // The card's IWAE figure on 100 held-out images: seconds, not minutes, in a page.
      evalIw: 50,
      evalIwLimit: 100,
      signal: controller.signal,
      onStep: (p: StepProgress, networks: VaeNetworks) => {
        losses.push(p.loss);
        if (p.step === p.stepsPerEpoch) epochEnds.push(losses.length);
        status(
          `epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.stepsPerEpoch}: ${p.loss.toFixed(1)} nats, ${p.examplesPerSec.toFixed(0)} images/s`,
        );
        const now = performance.now();
        if (now - lastPreview > 400 || p.step === p.stepsPerEpoch) {
          lastPreview = now;
          drawLossCurve($('train-loss'), losses, epochEnds);
          void drawPreview(networks, request.latent, [H, W, C]);
        }
      },
    });
    drawLossCurve($('train-loss'), losses, epochEnds);
    await drawPreview(result.networks, request.latent, [H, W, C]);
    const trainSeconds = result.history.reduce((s, h) => s + h.seconds, 0);
    const negElbo = result.card.metrics?.negElbo ?? Number.NaN;
    status(`exporting to ONNX…`);
    const onnx = vaeToOnnx(result.networks, result.card);
    const files = { ...result.files, 'encoder.onnx': onnx.encoder, 'decoder.onnx': onnx.decoder };
    const zip = packModelZip(files);
    offerDownloads({ 'vae-model.zip': zip, 'encoder.onnx': onnx.encoder, 'decoder.onnx': onnx.decoder });
    const model = await VaeModel.load(
      { encoder: onnx.encoder, decoder: onnx.decoder, card: result.card },
      ctx.loadOptions,
    );
    ctx.trainedOn = test;
    await ctx.useModel(
      model,
      `trained in this tab (${result.card.training.epochs} epochs on ${result.backend})`,
    );
    const totalSeconds = (performance.now() - started) / 1000;
    status(
      `${result.aborted ? 'stopped' : 'done'}: ${result.card.training.steps} steps on ${result.backend} in ${trainSeconds.toFixed(1)} s; held-out negative ELBO ${negElbo.toFixed(1)} nats; the other panels now run this model with onnxruntime-web`,
    );
    return {
      negElbo,
      encoderOnnx: onnx.encoder,
      decoderOnnx: onnx.decoder,
      backend: result.backend,
      aborted: result.aborted,
      trainSeconds,
      totalSeconds,
      examplesPerSec: result.card.training.examplesPerSec,
      zip,
    };
  } catch (error) {
    status(`could not train: ${(error as Error).message}`);
    throw error;
  } finally {
    result?.networks.encoder.dispose();
    result?.networks.decoder.dispose();
    running = undefined;
    ($('train-start') as HTMLButtonElement).disabled = false;
    ($('train-stop') as HTMLButtonElement).disabled = true;
  }
}

function numberField(id: string, min: number, max: number): number {
  const input = $<HTMLInputElement>(id);
  const value = Number(input.value);
  if (!(Number.isFinite(value) && value >= min && value <= max)) {
    throw new RangeError(
      `${input.labels?.[0]?.textContent?.trim() ?? id} must be between ${min} and ${max}, got ${input.value}`,
    );
  }
  return value;
}

/** The trainer's options for the request's built-in network. */
function networkOptions(request: TrainRequest): {
  arch: 'mlp' | 'conv';
  hiddenDim?: number;
  hidden?: number[];
  filters?: number[];
} {
  const arch = request.arch ?? 'mlp';
  const layers = request.layers;
  if (layers === undefined) return { arch };
  return arch === 'conv'
    ? { arch, filters: layers }
    : { arch, hiddenDim: layers[0] as number, hidden: layers };
}

/** A comma-separated list of positive integers from a text field, or a RangeError naming the field. */
function listField(id: string): number[] {
  const input = $<HTMLInputElement>(id);
  const parts = input.value.split(',').map((p) => p.trim());
  if (parts.length > 8 || !parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 4096)) {
    throw new RangeError(
      `layers must be 1 to 8 comma-separated integers from 1 to 4096 (e.g. 512,256), got "${input.value}"`,
    );
  }
  return parts.map(Number);
}

/** The panel's fields as a request. */
function requestFromFields(): TrainRequest {
  return {
    arch: $<HTMLSelectElement>('train-arch').value === 'conv' ? 'conv' : 'mlp',
    layers: listField('train-layers'),
    epochs: Math.round(numberField('train-epochs', 1, 200)),
    latent: Math.round(numberField('train-latent', 1, 64)),
    beta: numberField('train-beta', 0, 10),
    batchSize: Math.round(numberField('train-batch', 8, 512)),
    seed: 0,
    backend: $<HTMLSelectElement>('train-backend').value as TrainRequest['backend'],
    source:
      document.querySelector<HTMLInputElement>('input[name="train-data"]:checked')?.value === 'files'
        ? 'files'
        : 'digits',
  };
}

async function takeImages(files: File[]): Promise<void> {
  const info = $('train-data-info');
  if (files.length === 0) {
    info.textContent = 'no PNG or JPEG files there';
    return;
  }
  info.textContent = `reading ${files.length} images…`;
  const read = await readImages(files, [28, 28, 1], $<HTMLInputElement>('train-invert').checked);
  userImages = read;
  info.textContent = `${read.count} images, 28×28 grey${read.skipped.length ? `; could not read ${read.skipped.length} (${read.skipped.slice(0, 3).join(', ')})` : ''}`;
  const files_ = document.querySelector<HTMLInputElement>('input[name="train-data"][value="files"]');
  if (files_) files_.checked = true;
}

/** Wires the panel's controls (once). */
export function initTrainPanel(ctx: AppContext): void {
  onStart('train-start', requestFromFields, (request) => trainAndUse(ctx, request), status);
  $('train-arch').addEventListener('change', () => {
    // Each network's own default layers: the MLP's 400 hidden units, the conv's two levels.
    $<HTMLInputElement>('train-layers').value =
      $<HTMLSelectElement>('train-arch').value === 'conv' ? '32,64' : '400';
  });
  $('train-stop').addEventListener('click', () => {
    running?.abort();
    status('stopping after this step…');
  });
  for (const id of ['train-files', 'train-folder']) {
    $<HTMLInputElement>(id).addEventListener('change', (event) => {
      const list = (event.target as HTMLInputElement).files;
      void takeImages([...(list ?? [])].filter((f) => IMAGE_FILES.test(f.name)));
    });
  }
  acceptDrops($('drop'), IMAGE_FILES, takeImages);
}
