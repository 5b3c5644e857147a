import assert from 'node:assert/strict';
import { test } from 'node:test';
import pngjs from 'pngjs';
import { encodePng, imageGrid } from '../src/node/png.js';

for (const channels of [1, 3, 4] as const) {
  test(`encodePng round-trips ${channels}-channel pixels through pngjs's reader`, () => {
    const pixels = Uint8Array.from({ length: 5 * 3 * channels }, (_, i) => (i * 37) % 256);
    const back = pngjs.PNG.sync.read(Buffer.from(encodePng(5, 3, channels, pixels)));
    assert.equal(back.width, 5);
    assert.equal(back.height, 3);
    for (let p = 0; p < 15; p++) {
      for (let k = 0; k < channels; k++) {
        // pngjs reads into RGBA: gray lands in every colour channel.
        assert.equal(back.data[p * 4 + (channels === 1 ? 0 : k)], pixels[p * channels + k]);
      }
    }
  });
}

test('encodePng refuses pixels that do not fill the image, naming the sizes', () => {
  assert.throws(() => encodePng(2, 2, 1, new Uint8Array(3)), /"pixels" must have 2×2×1 = 4 bytes, got 3/);
});

test('imageGrid lays images out at scale 2 with padding, values clamped to [0, 1]', () => {
  const images = Float32Array.from([0, 1, 2, -1, 0.5, 0.5, 0.5, 0.5]);
  const png = pngjs.PNG.sync.read(Buffer.from(imageGrid(images, [2, 2, 2, 1], { columns: 2 })));
  assert.equal(png.width, 2 * (2 * 2 + 2) + 2);
  assert.equal(png.height, 2 * 2 + 2 * 2);
  const at = (x: number, y: number) => png.data[(y * png.width + x) * 4];
  assert.equal(at(0, 0), 32, 'padding');
  assert.equal(at(2, 2), 0);
  assert.equal(at(4, 2), 255);
  assert.equal(at(2, 4), 255, 'clamped from 2');
  assert.equal(at(4, 4), 0, 'clamped from -1');
  assert.equal(at(8, 2), 128);
});
