/**
 * The Draw panel: the seed's three uses on the model in use, for a drawing. The page encodes the
 * drawing (compression to a latent code), decodes the code (generation), and scores it with
 * `VaeModel.score` (anomaly detection): the model's default score, its percentile among the model's
 * own held-out data (card.json's calibration) and the verdict at its false-alarm rate, on a
 * histogram of that data's scores, so that a scribble visibly scores as unusual for this model.
 */
import { CALIBRATION_P, type ScoreName } from '../../core/anomaly-card.js';
import { percentileOf, quantileTable, thresholdAt } from '../../runtime/anomaly/quantiles.js';
import type { VaeModel } from '../../runtime/web.js';
import { $, type AppContext, type Images } from './context.js';
import { bundledDigits } from './digits.js';
import { drawGrid } from './draw.js';
import { drawCode, drawScores } from './plots.js';

/** Strokes in the Scribble button's drawing. */
const SCRIBBLE_STROKES = 32;
/** Typical images scored, for a model without calibration. */
const TYPICAL = 200;
/** The datasets the bundled digits stand for, for a model without calibration. */
const DIGIT_DATASETS = ['mnist-mini', 'mnist'];

/** A score's distribution on data the model knows, as a table at CALIBRATION_P, and what the data are. */
interface Reference {
  table: number[];
  label: string;
  /** True when the table is the model's own calibration (card.json), not measured here. */
  calibrated: boolean;
}

const referenceCache = new WeakMap<VaeModel, Promise<Reference | undefined>>();

/**
 * The distribution the panel compares a drawing with: the model's calibration when card.json has
 * one; else the scores of images like its training data, measured here (the held-out part of what it
 * was trained on in this tab, or the bundled digits for a digits model); else none.
 */
function referenceFor(ctx: AppContext, model: VaeModel, score: ScoreName): Promise<Reference | undefined> {
  let found = referenceCache.get(model);
  if (!found) {
    found = (async () => {
      const calibration = model.card?.anomaly;
      const table = calibration?.calibration.scores[score];
      if (calibration && table) {
        const c = calibration.calibration;
        return {
          table,
          label: `${c.examples} held-out ${model.card?.dataset ?? ''} examples (${c.split})`.replace(
            '  ',
            ' ',
          ),
          calibrated: true,
        };
      }
      const shape = model.inputShape;
      const sameShape = (images: Images) => images.shape.join() === shape.join();
      let test: Images | undefined = ctx.trainedOn && sameShape(ctx.trainedOn) ? ctx.trainedOn : undefined;
      if (!test && DIGIT_DATASETS.includes(model.card?.dataset ?? '')) {
        const digits = await bundledDigits();
        if (sameShape(digits.test)) test = digits.test;
      }
      if (!test) return undefined;
      const n = Math.min(TYPICAL, test.count);
      const size = shape.reduce((a, b) => a * b, 1);
      const r = await model.score(
        { data: test.images.subarray(0, n * size), shape: [n, ...shape] },
        { score },
      );
      return { table: quantileTable(r.values, CALIBRATION_P), label: `${n} test images`, calibrated: false };
    })();
    referenceCache.set(model, found);
  }
  return found;
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
  /** The score's name and value (higher is more unusual). */
  scoreName: ScoreName;
  score: number;
  /** Its percentile among the model's held-out data, as a fraction (NaN with nothing to compare). */
  fractionBelow: number;
  /** The verdict at the model's false-alarm rate (undefined with nothing to compare). */
  anomalous: boolean | undefined;
  mu: Float32Array;
  /** The drawing as the model's input. */
  x: Float32Array;
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
  const result = await model.score(batch);
  const score = result.values[0] as number;
  const reference = await referenceFor(ctx, model, result.score);
  const rate = result.falseAlarmRate ?? model.card?.anomaly?.falseAlarmRate ?? 0.01;
  const threshold = result.threshold ?? (reference ? thresholdAt(reference.table, rate) : undefined);
  const percentile =
    result.percentiles?.[0] ?? (reference ? percentileOf(reference.table, score) : Number.NaN);
  const anomalous = result.anomalous?.[0] ?? (threshold === undefined ? undefined : score > threshold);
  const name = `${result.score} score`;
  if (reference) {
    drawScores(
      $<HTMLCanvasElement>('draw-scores'),
      reference.table,
      CALIBRATION_P,
      score,
      threshold,
      reference.label,
    );
  }
  verdict.className = anomalous === undefined ? '' : anomalous ? 'unusual' : percentile < 95 ? 'typical' : '';
  verdict.textContent = reference
    ? `${name} ${score.toFixed(1)}: higher than ${percentile.toFixed(1)}% of ${reference.label} — ${anomalous ? `unusual for this model (past the threshold that flags ${(100 * rate).toFixed(1)}% of them)` : percentile < 95 ? 'a typical image for this model' : 'at the edge of what the model knows'}`
    : `${name} ${score.toFixed(1)} (this model has no calibration to compare with: vae calibrate DIR --dataset NAME)`;
  return { scoreName: result.score, score, fractionBelow: percentile / 100, anomalous, mu: mu.data, x };
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
