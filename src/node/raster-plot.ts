/**
 * Small raster plots written as PNG (vae ood's histograms and ROC curves): an RGB canvas with
 * rectangles, lines and text in a built-in 3×5 pixel font, so that no canvas library is needed.
 */
import { encodePng } from './png.js';

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

// 3×5 glyphs, five rows of three bits (left to right); lower case is drawn as upper case.
const GLYPHS: Readonly<Record<string, string>> = Object.freeze({
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  A: '010101111101101',
  B: '110101110101110',
  C: '011100100100011',
  D: '110101101101110',
  E: '111100110100111',
  F: '111100110100100',
  G: '011100101101011',
  H: '101101111101101',
  I: '111010010010111',
  J: '001001001101010',
  K: '101101110101101',
  L: '100100100100111',
  M: '101111101101101',
  N: '110101101101101',
  O: '010101101101010',
  P: '110101110100100',
  Q: '010101101110011',
  R: '110101110101101',
  S: '011100010001110',
  T: '111010010010010',
  U: '101101101101111',
  V: '101101101101010',
  W: '101101111111101',
  X: '101101010101101',
  Y: '101101010010010',
  Z: '111001010100111',
  '.': '000000000000010',
  ',': '000000000010100',
  '-': '000000111000000',
  ':': '000010000010000',
  '%': '101001010100101',
  '(': '001010010010001',
  ')': '100010010010100',
  '/': '001001010100100',
  '=': '000111000111000',
  _: '000000000000111',
  '+': '000010111010000',
  '>': '100010001010100',
  '<': '001010100010001',
  ' ': '000000000000000',
});

/** An RGB image being drawn on; `png()` encodes it. */
export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, 3 * i);
  }

  /** Sets one pixel, blending with `alpha` (1: opaque). */
  dot(x: number, y: number, color: Rgb, alpha = 1): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const at = 3 * (yi * this.width + xi);
    for (let c = 0; c < 3; c++) {
      this.pixels[at + c] = Math.round(
        (1 - alpha) * (this.pixels[at + c] as number) + alpha * (color[c] as number),
      );
    }
  }

  /** Fills a rectangle. */
  rect(x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
    for (let yy = Math.floor(y); yy < Math.ceil(y + h); yy++)
      for (let xx = Math.floor(x); xx < Math.ceil(x + w); xx++) this.dot(xx, yy, color, alpha);
  }

  /** A straight line `thickness` pixels wide; `dash` pixels on and off when given. */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1, dash = 0): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (thickness - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      if (dash > 0 && Math.floor(s / dash) % 2 === 1) continue;
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.dot(x + dx, y + dy, color);
    }
  }

  /** Text in the 3×5 font, `scale` pixels per font pixel, from its top-left corner. Returns its width. */
  text(x: number, y: number, text: string, color: Rgb, scale = 2): number {
    let cx = x;
    for (const ch of text.toUpperCase()) {
      const glyph = GLYPHS[ch] ?? GLYPHS[' '];
      for (let row = 0; row < 5; row++)
        for (let col = 0; col < 3; col++)
          if (glyph?.[row * 3 + col] === '1')
            this.rect(cx + col * scale, y + row * scale, scale, scale, color);
      cx += 4 * scale;
    }
    return cx - x;
  }

  /** The image as PNG bytes. */
  png(): Uint8Array {
    return encodePng(this.width, this.height, 3, this.pixels);
  }
}
