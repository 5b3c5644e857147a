/**
 * `shapes`: a procedural dataset of 64×64 sprites in the manner of dSprites (Matthey et al. 2017),
 * generated from a seed with no download: one white shape (square, ellipse or heart) on black, at
 * one of 6 scales, 40 orientations and 32 × 32 positions. The factors that made each image are kept
 * beside it, so a user can see which latent dimension of a β-VAE learned which factor.
 * No Node module: the browser door can generate it too.
 */
import { createRng, deriveSeed } from '../../core/random.js';
import { type Dataset, type Split, sharedFloat32 } from '../dataset.js';

/** The factors of variation, in the order of `ShapesSplit.factors` columns. */
export const SHAPE_FACTORS = Object.freeze(['shape', 'scale', 'orientation', 'posX', 'posY'] as const);

/** The shapes, by their label. */
export const SHAPE_NAMES = Object.freeze(['square', 'ellipse', 'heart'] as const);

/** How many values each factor takes (dSprites' grid). */
export const SHAPE_FACTOR_STEPS = Object.freeze({ shape: 3, scale: 6, orientation: 40, posX: 32, posY: 32 });

/** The image side in pixels. */
export const SHAPES_SIZE = 64;

/** A split of `shapes`: its labels are the shape, its factors every factor's value. */
export interface ShapesSplit extends Split {
  /** count × 5 values, row by row in SHAPE_FACTORS order: shape 0–2, scale 0.5–1, orientation in radians, posX and posY 0–1. */
  factors: Float32Array;
}

/** Options of `generateShapes`. */
export interface ShapesOptions {
  /** Training examples (default 10,000). */
  train?: number;
  /** Test examples (default 1,000). */
  test?: number;
  /** The seed of both splits (default 0): the same seed gives the same images. */
  seed?: number;
}

const SUPERSAMPLE = 2;

/** Whether the unit-space point (u, v) lies inside shape `kind`, the shape spanning about [-1, 1]². */
function inside(kind: number, u: number, v: number): boolean {
  if (kind === 0) return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
  if (kind === 1) return u * u + (v * v) / 0.36 <= 1;
  // The heart curve (x² + y² − 1)³ ≤ x² y³, scaled to fit the unit square, point up.
  const x = u * 1.2;
  const y = -v * 1.2 + 0.2;
  const a = x * x + y * y - 1;
  return a * a * a <= x * x * y * y * y;
}

/** Draws one sprite into `out` (size × size values, cleared before). */
function drawSprite(
  out: Float32Array,
  size: number,
  kind: number,
  scale: number,
  angle: number,
  px: number,
  py: number,
): void {
  // Half-extent in pixels of the largest sprite; positions keep every sprite inside the image.
  const radius = scale * size * 0.16;
  const margin = size * 0.16 * Math.SQRT2;
  const cx = margin + px * (size - 2 * margin);
  const cy = margin + py * (size - 2 * margin);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const reach = Math.ceil(radius * Math.SQRT2) + 1;
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(size - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(size - 1, Math.ceil(cy + reach));
  const weight = 1 / (SUPERSAMPLE * SUPERSAMPLE);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let cover = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const dx = x + (sx + 0.5) / SUPERSAMPLE - cx;
          const dy = y + (sy + 0.5) / SUPERSAMPLE - cy;
          // Into the sprite's own frame: rotate back by the angle, then divide by its radius.
          const u = (cos * dx + sin * dy) / radius;
          const v = (-sin * dx + cos * dy) / radius;
          if (inside(kind, u, v)) cover += weight;
        }
      }
      out[y * size + x] = cover;
    }
  }
}

/** `count` sprites with factors drawn uniformly from the grid by `seed`. */
function shapesSplit(count: number, seed: number): ShapesSplit {
  const size = SHAPES_SIZE;
  const D = size * size;
  const rng = createRng(seed);
  const images = sharedFloat32(count * D);
  const labels = new Uint8Array(count);
  const factors = new Float32Array(count * SHAPE_FACTORS.length);
  const pick = (steps: number) => Math.min(steps - 1, Math.floor(rng.uniform() * steps));
  const s = SHAPE_FACTOR_STEPS;
  for (let i = 0; i < count; i++) {
    const kind = pick(s.shape);
    const scale = 0.5 + (0.5 * pick(s.scale)) / (s.scale - 1);
    const angle = (2 * Math.PI * pick(s.orientation)) / s.orientation;
    const px = pick(s.posX) / (s.posX - 1);
    const py = pick(s.posY) / (s.posY - 1);
    drawSprite(images.subarray(i * D, (i + 1) * D), size, kind, scale, angle, px, py);
    labels[i] = kind;
    factors.set([kind, scale, angle, px, py], i * SHAPE_FACTORS.length);
  }
  return { images, labels, count, factors };
}

/**
 * Generates the `shapes` dataset: 64×64×1 sprites, values in [0, 1] (edges anti-aliased), train and
 * test drawn independently from `seed`. 10,000 + 1,000 examples take about a quarter of a second.
 * @throws RangeError for counts that are not positive integers or seeds that are not safe integers.
 */
export function generateShapes(
  options: ShapesOptions = {},
): Dataset & { train: ShapesSplit; test: ShapesSplit } {
  const { train = 10_000, test = 1_000, seed = 0 } = options;
  for (const [key, value] of [
    ['train', train],
    ['test', test],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
      throw new RangeError(`generateShapes: "${key}" must be an integer from 1 to 1000000, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`generateShapes: "seed" must be a safe integer, got ${seed}`);
  }
  return {
    name: 'shapes',
    shape: [SHAPES_SIZE, SHAPES_SIZE, 1],
    train: shapesSplit(train, deriveSeed(seed, 1)),
    test: shapesSplit(test, deriveSeed(seed, 2)),
  };
}
