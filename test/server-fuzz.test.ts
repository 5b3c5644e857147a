import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng, type Rng } from '../src/core/random.js';
import { startTestServer } from './helpers/server.js';

const REQUESTS = 3000;
const L = 20;
const D = 784;

/** A seeded source of hostile requests: random JSON, mutated valid bodies, random bytes and headers. */
function fuzzer(rng: Rng) {
  const int = (n: number) => Math.floor(rng.uniform() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const oddNumbers = [0, -0, 1, -1, 0.5, 1e39, -1e39, 1e308, 5e-324, 2 ** 53, -(2 ** 31), 3.7, 255];
  const keys = ['z', 'x', 'n', 'seed', 'samples', '__proto__', 'constructor', 'prototype', '', 'Z', 'extra'];
  const value = (depth: number): unknown => {
    switch (int(depth > 3 ? 4 : 7)) {
      case 0:
        return pick(oddNumbers);
      case 1:
        return rng.uniform() * 4 - 2;
      case 2:
        return pick(['', 'a', '1', 'NaN', '\u0000', 'z'.repeat(int(50))]);
      case 3:
        return pick([null, true, false]);
      case 4:
      case 5:
        return Array.from({ length: int(depth === 0 ? 30 : 6) }, () => value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(keys), value(depth + 1)]));
    }
  };
  const row = (size: number) => Array.from({ length: size }, () => rng.uniform());
  const valid = (op: string): Record<string, unknown> => {
    const rows = 1 + int(3);
    if (op === 'decode') return { z: Array.from({ length: rows }, () => row(L).map((v) => v * 4 - 2)) };
    if (op === 'sample') return { n: 1 + int(4), seed: int(1000) };
    const x = Array.from({ length: rows }, () => row(D));
    return op === 'score' ? { x, samples: 1 + int(4) } : { x };
  };
  /** A valid body with one thing changed: a value, a row's length, the number of rows, or a field. */
  const mutate = (body: Record<string, unknown>): unknown => {
    const field = Object.keys(body)[0] as string;
    const rows = body[field];
    switch (int(6)) {
      case 0:
        if (Array.isArray(rows)) {
          const r = rows[int(rows.length)] as unknown[];
          r[int(r.length)] = value(3);
        }
        return body;
      case 1:
        if (Array.isArray(rows)) (rows[0] as unknown[]).length += int(3) - 1 || 1;
        return body;
      case 2:
        if (Array.isArray(rows)) rows.push(value(1));
        return body;
      case 3:
        body[pick(keys)] = value(2);
        return body;
      case 4:
        return { ...body, [field]: value(1) };
      default:
        return body;
    }
  };
  const ops = ['decode', 'encode', 'reconstruct', 'sample', 'score'];
  return () => {
    const op = pick(ops);
    const model =
      rng.uniform() < 0.85
        ? 'mnist-mini'
        : pick(['decoder-only', 'missing', '%00', '__proto__', 'constructor']);
    const path =
      rng.uniform() < 0.05
        ? pick(['/v1/models', '/v1/models/mnist-mini', '/nope', '/v1/models/mnist-mini/x'])
        : `/v1/models/${model}/${op}`;
    const method = rng.uniform() < 0.05 ? pick(['GET', 'PUT', 'DELETE', 'PATCH']) : 'POST';
    const headers: Record<string, string> = {};
    let body: string | Uint8Array<ArrayBuffer>;
    const kind = rng.uniform();
    if (kind < 0.75) {
      headers['content-type'] =
        rng.uniform() < 0.9
          ? pick(['application/json', 'application/json; charset=utf-8'])
          : pick(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']);
      const u = rng.uniform();
      const b = u < 0.4 ? valid(op) : u < 0.8 ? mutate(valid(op)) : value(0);
      body = JSON.stringify(b) ?? 'null';
      if (rng.uniform() < 0.1) body = body.slice(0, int(body.length));
    } else {
      headers['content-type'] = 'application/octet-stream';
      const rows = 1 + int(3);
      const size = op === 'decode' ? L : D;
      const floats = new Float32Array(rows * size + (rng.uniform() < 0.3 ? int(5) - 2 : 0));
      for (let i = 0; i < floats.length; i++)
        floats[i] = rng.uniform() < 0.01 ? pick([Number.NaN, Infinity, 7]) : rng.uniform();
      body = new Uint8Array(floats.buffer, 0, floats.byteLength - (rng.uniform() < 0.1 ? 1 : 0));
      const shapes = [
        `${rows},${size}`,
        `${rows},28,28,1`,
        `${rows}`,
        '0,20',
        '-1,20',
        'a,b',
        `${rows},${size},`,
        '99999999,20',
      ];
      if (rng.uniform() < 0.9) headers['x-shape'] = pick(shapes);
    }
    if (rng.uniform() < 0.3)
      headers.accept = pick([
        'image/png',
        'application/octet-stream',
        'text/html',
        '*/*',
        'image/*;q=0',
        'application/json;q=0.5, image/png',
      ]);
    return { method, path, headers, body: method === 'GET' ? undefined : body };
  };
}

test(`fuzz: ${REQUESTS} random requests get 2xx or a JSON 4xx, never a 5xx, and the server keeps serving`, async () => {
  const t = await startTestServer({ maxBatch: 8, maxSamples: 4, bodyLimit: 64 * 1024 });
  try {
    const next = fuzzer(createRng(20261126));
    const statuses = new Map<number, number>();
    for (let sent = 0; sent < REQUESTS; sent += 16) {
      // 16 at a time, so good and bad requests share batches.
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          const r = next();
          const res = await fetch(`${t.url}${r.path}`, {
            method: r.method,
            headers: r.headers,
            body: r.body ?? null,
          });
          const bytes = new Uint8Array(await res.arrayBuffer());
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const what = `${r.method} ${r.path} ${JSON.stringify(r.headers)} → ${res.status}`;
          assert.ok(res.status < 500, `${what}: ${new TextDecoder().decode(bytes).slice(0, 300)}`);
          if (res.status >= 400) {
            const error = JSON.parse(new TextDecoder().decode(bytes)) as {
              statusCode: number;
              message: string;
            };
            assert.equal(error.statusCode, res.status, what);
            assert.ok(error.message.length > 10, what);
          }
        }),
      );
    }
    // Both sides must be exercised: plenty of successes and plenty of refusals.
    const ok = statuses.get(200) ?? 0;
    assert.ok(ok > REQUESTS / 10, `only ${ok} successes: ${JSON.stringify([...statuses])}`);
    assert.ok(REQUESTS - ok > REQUESTS / 3, `only ${REQUESTS - ok} refusals`);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const decode = await fetch(`${t.url}/v1/models/mnist-mini/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ z: [new Array(L).fill(0)] }),
    });
    assert.equal(decode.status, 200);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /kind="server"/);
  } finally {
    await t.stop();
  }
});
