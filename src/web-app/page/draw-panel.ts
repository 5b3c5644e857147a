/**
 * The Draw panel: the seed's three uses on the model in use, for a digit the user draws. The page
 * encodes the drawing (compression to a latent code), decodes the code (generation), and scores it
 * with `VaeModel.score`, −log p(x) by importance sampling (anomaly detection), beside the scores of
 * typical test images, so that a scribble visibly scores as unusual.
 */
import type { VaeModel } from '../../runtime/web.js';
import { $, type AppContext, type Images } from './context.js';
import { bundledDigits } from './digits.js';
import { drawGrid } from './draw.js';
import { drawCode, drawScores } from './plots.js';

/** Importance samples per score: the estimate's spread is well under a nat at this count. */
export const SCORE_SAMPLES = 200;
/** Strokes in the Scribble button's drawing. */
const SCRIBBLE_STROKES = 32;
/** Typical test images scored per model, for the histogram. */
const TYPICAL = 200;

const typicalCache = new WeakMap<VaeModel, Promise<number[] | undefined>>();

/** The model's scores of typical test images: the bundled digits, or the test part of what it was trained on here. */
function typicalScores(ctx: AppContext, model: VaeModel): Promise<number[] | undefined> {
  let scores = typicalCache.get(model);
  if (!scores) {
    scores = (async () => {
      const shape = model.inputShape;
      const sameShape = (images: Images) => images.shape.join() === shape.join();
      let test: Images | undefined = ctx.trainedOn && sameShape(ctx.trainedOn) ? ctx.trainedOn : undefined;
      if (!test) {
        const digits = await bundledDigits();
        if (sameShape(digits.test)) test = digits.test;
      }
      if (!test) return undefined;
      const n = Math.min(TYPICAL, test.count);
      const size = shape.reduce((a, b) => a * b, 1);
      const s = await model.score(
        { data: test.images.subarray(0, n * size), shape: [n, ...shape] },
        { samples: SCORE_SAMPLES, seed: 1 },
      );
      return Array.from(s);
    })();
    typicalCache.set(model, scores);
  }
  return scores;
}

/**
 * The drawing as the model's input, prepared as MNIST's digits were: the ink's bounding box scaled
 * to fit 20/28 of the image, placed so that its centre of mass sits at the centre; grey values in
 * [0, 1], repeated over C channels. Undefined for an empty pad.
 */
export function padToInput(pad: HTMLCanvasElement, [H, W, C]: readonly number[]): Float32Array | undefined {
  const g = pad.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  const { data } = g.getImageData(0, 0, pad.width, pad.height);
  let [x0, y0, x1, y1, mass, mx, my] = [pad.width, pad.height, -1, -1, 0, 0, 0];
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      const v = (data[4 * (y * pad.width + x)] as number) / 255;
      if (v < 0.1) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  if (mass === 0 || H === undefined || W === undefined) return undefined;
  const scale = Math.min((H * 20) / 28 / (y1 - y0 + 1), (W * 20) / 28 / (x1 - x0 + 1));
  const out = new OffscreenCanvas(W, H);
  const o = out.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D;
  o.fillStyle = '#000';
  o.fillRect(0, 0, W, H);
  o.imageSmoothingQuality = 'high';
  const dx = W / 2 - (mx / mass - x0) * scale;
  const dy = H / 2 - (my / mass - y0) * scale;
  o.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, dx, dy, (x1 - x0 + 1) * scale, (y1 - y0 + 1) * scale);
  const pixels = o.getImageData(0, 0, W, H).data;
  const channels = C ?? 1;
  const x = new Float32Array(H * W * channels);
  for (let p = 0; p < H * W; p++)
    for (let k = 0; k < channels; k++) x[p * channels + k] = (pixels[4 * p] as number) / 255;
  return x;
}

/** What the panel shows for one drawing. */
export interface Analysis {
  score: number;
  /** Fraction of the typical test images' scores below this one (NaN without them). */
  fractionBelow: number;
  mu: Float32Array;
}

/** Encodes, reconstructs and scores the drawing on the model in use, and draws the results. */
export async function analyze(ctx: AppContext): Promise<Analysis | undefined> {
  const model = ctx.model();
  const verdict = $('draw-verdict');
  if (!model) return undefined;
  const shape = model.inputShape;
  if (shape.length !== 3 || !model.hasEncoder) {
    verdict.textContent =
      shape.length !== 3 ? "this model's inputs are not images" : 'this model has no encoder.onnx';
    return undefined;
  }
  const x = padToInput($<HTMLCanvasElement>('draw-pad'), shape);
  if (!x) {
    verdict.textContent = 'draw something';
    return undefined;
  }
  drawGrid($('draw-input'), x, [1, ...shape], 1, 4);
  const batch = { data: x, shape: [1, ...shape] };
  const { mu, logvar } = await model.encode(batch);
  const recon = await model.decode({ data: mu.data, shape: [1, model.latentDim] });
  drawGrid($('draw-recon'), recon.data, [1, ...shape], 1, 4);
  drawCode($<HTMLCanvasElement>('draw-code'), mu.data, logvar.data);
  const [score = Number.NaN] = await model.score(batch, { samples: SCORE_SAMPLES, seed: 1 });
  const typical = await typicalScores(ctx, model);
  const fractionBelow = typical
    ? drawScores($<HTMLCanvasElement>('draw-scores'), typical, score)
    : Number.NaN;
  const percent = (100 * fractionBelow).toFixed(1);
  verdict.className = fractionBelow > 0.99 ? 'unusual' : fractionBelow < 0.95 ? 'typical' : '';
  verdict.textContent = typical
    ? `−log p(x) ≈ ${score.toFixed(1)} nats: higher than ${percent}% of ${typical.length} test images — ${fractionBelow > 0.99 ? 'unusual for this model' : fractionBelow < 0.95 ? 'a typical image for this model' : 'at the edge of what the model knows'}`
    : `−log p(x) ≈ ${score.toFixed(1)} nats (no test images of this shape to compare with)`;
  return { score, fractionBelow, mu: mu.data };
}

/** Clears the pad and draws `strokes` random strokes across it (seeded): something no digit looks like. */
export function scribble(pad: HTMLCanvasElement, seed: number, strokes = SCRIBBLE_STROKES): void {
  clear(pad);
  const g = pad.getContext('2d') as CanvasRenderingContext2D;
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  g.lineWidth = 14;
  g.lineCap = 'round';
  g.strokeStyle = '#fff';
  g.beginPath();
  g.moveTo(random() * pad.width, random() * pad.height);
  for (let i = 0; i < strokes; i++) g.lineTo(random() * pad.width, random() * pad.height);
  g.stroke();
}

function clear(pad: HTMLCanvasElement): void {
  const g = pad.getContext('2d') as CanvasRenderingContext2D;
  g.fillStyle = '#000';
  g.fillRect(0, 0, pad.width, pad.height);
}

/** Wires the pad and its buttons (once); drawings are analysed when a stroke ends. */
export function initDrawPanel(ctx: AppContext): void {
  const pad = $<HTMLCanvasElement>('draw-pad');
  clear(pad);
  const g = pad.getContext('2d') as CanvasRenderingContext2D;
  let drawing = false;
  const at = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return [
      ((e.clientX - r.left) / r.width) * pad.width,
      ((e.clientY - r.top) / r.height) * pad.height,
    ] as const;
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    g.lineWidth = 20;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.strokeStyle = '#fff';
    g.beginPath();
    g.moveTo(...at(e));
    g.lineTo(...at(e));
    g.stroke();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    g.lineTo(...at(e));
    g.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    void analyze(ctx);
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('draw-clear').addEventListener('click', () => {
    clear(pad);
    $('draw-verdict').textContent = 'draw something';
  });
  let scribbles = 0;
  $('draw-scribble').addEventListener('click', () => {
    scribble(pad, ++scribbles);
    void analyze(ctx);
  });
}
