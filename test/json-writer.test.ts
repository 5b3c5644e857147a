import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../src/core/random.js';
import { JsonWriter } from '../src/server/json-writer.js';

const write = (values: number[]) =>
  new JsonWriter(8).numbers(new Float32Array(values)).finish().toString('latin1');

test('every float32 reads back exactly from its 9 significant digits (200,000 random bit patterns)', () => {
  const rng = createRng(9);
  const values = new Float32Array(200_000);
  const bits = new Uint32Array(values.buffer);
  for (let i = 0; i < values.length; i++) {
    bits[i] = rng.uint32();
    // NaN and infinities are covered below; keep finite values here.
    if (!Number.isFinite(values[i] as number)) values[i] = i;
  }
  const back = JSON.parse(new JsonWriter().numbers(values).finish().toString('latin1')) as number[];
  assert.equal(back.length, values.length);
  const wrong = back.findIndex((v, i) => Math.fround(v) !== values[i]);
  assert.equal(wrong, -1, `value ${values[wrong]} came back as ${back[wrong]}`);
});

test('edge values: powers of ten, extremes, subnormals, rounding carries, signs', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [0.5, '0.5'],
    [100, '100'],
    [1e9, '1000000000'],
    [0.1, '0.100000001'],
    [-2.5, '-2.5'],
    [1e-6, '9.99999997e-7'],
    [0.000999999, '0.000999999'],
    [123456789, '123456792'],
    [3.4028234663852886e38, '3.40282347e38'],
    [1.401298464324817e-45, '1.40129846e-45'],
    [9.999999e-11, '9.99999875e-11'],
  ];
  for (const [value, text] of cases) {
    assert.equal(write([value]), `[${text}]`, String(value));
    assert.equal(Math.fround(JSON.parse(text)), Math.fround(value));
  }
});

test('rows, nulls for what JSON cannot carry, and growth past the first buffer', () => {
  assert.equal(write([Number.NaN, Infinity, -Infinity, 2]), '[null,null,null,2]');
  const rows = new JsonWriter(4)
    .raw('{"x":')
    .rows(new Float32Array([1, 2, 3, 4, 5, 6]), 2)
    .raw('}');
  assert.deepEqual(JSON.parse(rows.finish().toString()), {
    x: [
      [1, 2, 3],
      [4, 5, 6],
    ],
  });
  const big = new Float32Array(10_000).map((_, i) => i / 7);
  const parsed = JSON.parse(new JsonWriter(16).numbers(big).finish().toString()) as number[];
  assert.deepEqual(parsed.map(Math.fround), Array.from(big));
});
