import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRng, normalArray } from '../src/core/random.js';
import { OPERATIONS } from '../src/server/app.js';
import { postJson, startTestServer, type TestServer } from './helpers/server.js';

const L = 20;
const D = 784;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const flat = (rows: unknown): number[] => (rows as number[][]).flat();

describe('vae serve: the HTTP service', () => {
  let t: TestServer;
  let decodeUrl: string;
  before(async () => {
    t = await startTestServer({
      maxBatch: 8,
      maxWaitMs: 10,
      bodyLimit: 256 * 1024,
      maxSamples: 50,
      maxScoreDecodes: 200,
    });
    decodeUrl = `${t.url}/v1/models/mnist-mini/decode`;
  });
  after(async () => {
    await t.stop();
  });

  test('health, readiness and the model list', async () => {
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const ready = await fetch(`${t.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    const list = (await (await fetch(`${t.url}/v1/models`)).json()) as Record<string, unknown>[];
    assert.deepEqual(
      list.map((m) => [m.name, m.inputShape, m.latentDim, m.hasEncoder, m.card === null]),
      [
        ['mnist-mini', [28, 28, 1], L, true, false],
        ['decoder-only', [28, 28, 1], L, false, true],
      ],
    );
  });

  test('decode, encode, reconstruct and score answer what VaeModel computes', async () => {
    const model = t.models.get('mnist-mini');
    assert.ok(model);
    const z = Array.from({ length: 3 }, (_, i) => Array.from(normalArray(L, 40 + i)));
    const decoded = await postJson(decodeUrl, { z });
    assert.equal(decoded.status, 200);
    assert.deepEqual(decoded.json.shape, [3, 28, 28, 1]);
    const direct = await model.decode(z);
    assert.ok(maxAbsDiff(flat(decoded.json.x_hat), direct.data) < 1e-6);

    const x = Array.from(direct.data.subarray(0, 2 * D));
    const rows = [x.slice(0, D), x.slice(D)];
    const encoded = await postJson(`${t.url}/v1/models/mnist-mini/encode`, { x: rows });
    const moments = await model.encode(rows);
    assert.ok(maxAbsDiff(flat(encoded.json.mu), moments.mu.data) < 1e-5);
    assert.ok(maxAbsDiff(flat(encoded.json.logvar), moments.logvar.data) < 1e-5);

    const rec = await postJson(`${t.url}/v1/models/mnist-mini/reconstruct`, { x: rows });
    assert.ok(maxAbsDiff(flat(rec.json.x_hat), (await model.reconstruct(rows)).data) < 1e-5);

    const scored = await postJson(`${t.url}/v1/models/mnist-mini/score`, {
      x: rows,
      score: 'nll',
      samples: 20,
      seed: 3,
    });
    assert.equal(scored.json.samples, 20);
    assert.equal(scored.json.score, 'nll');
    const expected = await model.score(rows, { score: 'nll', samples: 20, seed: 3 });
    assert.ok(maxAbsDiff(scored.json.scores as number[], expected.values) < 1e-3);
    // The default: the calibrated dose score, with percentiles, verdicts and the statistics.
    const dose = await postJson(`${t.url}/v1/models/mnist-mini/score`, { x: rows });
    const inNode = await model.score(rows);
    assert.equal(dose.json.score, 'dose');
    assert.ok(maxAbsDiff(dose.json.scores as number[], inNode.values) < 1e-3);
    assert.ok(maxAbsDiff(dose.json.percentiles as number[], inNode.percentiles as Float64Array) < 1e-2);
    assert.deepEqual(dose.json.anomalous, inNode.anomalous);
    assert.equal(dose.json.falseAlarmRate, 0.01);
    const stats = dose.json.statistics as Record<string, number[]>;
    assert.deepEqual(Object.keys(stats).sort(), ['bitsPerDim', 'distortion', 'misfit', 'nll', 'rate']);
  });

  test('sample draws the same z as VaeModel.sample for a seed, and nested examples are accepted', async () => {
    const model = t.models.get('mnist-mini');
    assert.ok(model);
    const res = await postJson(`${t.url}/v1/models/mnist-mini/sample`, { n: 4, seed: 11 });
    const local = await model.sample(4, { seed: 11 });
    // JSON carries float32 values at 9 significant digits: each reads back to the exact float32.
    assert.deepEqual(flat(res.json.z).map(Math.fround), Array.from(local.z.data));
    assert.ok(maxAbsDiff(flat(res.json.x_hat), local.x.data) < 1e-6);
    // An example nested like its shape, [28][28][1], is the same as its 784 values.
    const image = Array.from({ length: 28 }, (_, r) =>
      Array.from({ length: 28 }, (_, c) => [((r * 28 + c) % 255) / 255]),
    );
    const nested = await postJson(`${t.url}/v1/models/mnist-mini/encode`, { x: [image] });
    const flatRow = await postJson(`${t.url}/v1/models/mnist-mini/encode`, { x: [image.flat(2)] });
    assert.equal(nested.status, 200);
    assert.deepEqual(nested.json.mu, flatRow.json.mu);
  });

  test('raw float32 in and out: the same numbers as JSON, shape and tensor names in headers', async () => {
    const z = normalArray(2 * L, 5);
    const raw = await fetch(decodeUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        accept: 'application/octet-stream',
        'x-shape': `2,${L}`,
      },
      body: new Uint8Array(z.buffer as ArrayBuffer),
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('x-shape'), '2,28,28,1');
    assert.equal(raw.headers.get('x-tensors'), 'x_hat');
    const values = new Float32Array(await raw.arrayBuffer());
    const json = await postJson(decodeUrl, { z: [Array.from(z.subarray(0, L)), Array.from(z.subarray(L))] });
    assert.deepEqual(Array.from(values), flat(json.json.x_hat).map(Math.fround));

    const enc = await fetch(`${t.url}/v1/models/mnist-mini/encode`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        accept: 'application/octet-stream',
        'x-shape': '1,28,28,1',
      },
      body: values.slice(0, D),
    });
    assert.equal(enc.headers.get('x-tensors'), 'mu,logvar');
    assert.equal(enc.headers.get('x-shape'), `1,${L}`);
    assert.equal((await enc.arrayBuffer()).byteLength, 2 * L * 4);
  });

  test('Accept: image/png returns a PNG grid; an unacceptable type is a 406 naming what is offered', async () => {
    const png = await fetch(`${t.url}/v1/models/mnist-mini/sample`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'image/png' },
      body: JSON.stringify({ n: 4, seed: 1 }),
    });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const bytes = new Uint8Array(await png.arrayBuffer());
    assert.deepEqual(Array.from(bytes.subarray(1, 4)), [0x50, 0x4e, 0x47]);
    // 2 × 2 images of 56 px (scale 2) with 2 px padding: 2 + 2 × 58 = 118 px a side.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [118, 118]);

    const refused = await postJson(
      `${t.url}/v1/models/mnist-mini/score`,
      { x: [new Array(D).fill(0)] },
      { accept: 'image/png' },
    );
    assert.equal(refused.status, 406);
    assert.equal(refused.json.field, 'accept');
    assert.match(String(refused.json.message), /score offers application\/json/);
  });

  test('concurrent requests merge into one session.run and each gets its own rows back', async () => {
    const model = t.models.get('mnist-mini');
    assert.ok(model);
    const before = await batchTotals(t.url);
    const codes = Array.from({ length: 16 }, (_, i) => Array.from(normalArray(L, 100 + i)));
    const replies = await Promise.all(codes.map((z) => postJson(decodeUrl, { z: [z] })));
    const after = await batchTotals(t.url);
    assert.equal(after.rows - before.rows, 16);
    assert.ok(after.runs - before.runs < 16, `16 requests took ${after.runs - before.runs} runs`);
    const direct = await model.decode(codes);
    replies.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.ok(maxAbsDiff(flat(r.json.x_hat), direct.data.subarray(i * D, (i + 1) * D)) < 1e-6);
    });
  });

  const bad: [string, string, unknown, Record<string, string>, number, string | undefined, RegExp][] = [
    [
      'a wrong row length',
      'decode',
      { z: [new Array(L - 1).fill(0)] },
      {},
      400,
      'z',
      /must have 20 values, got 19/,
    ],
    [
      'a ragged batch',
      'decode',
      { z: [new Array(L).fill(0), [0]] },
      {},
      400,
      'z',
      /20 values, got 1 values in row 1/,
    ],
    [
      'a string among numbers',
      'decode',
      { z: [[...new Array(L - 1).fill(0), 'a']] },
      {},
      400,
      'z[0][19]',
      /must be number/,
    ],
    ['null rows', 'decode', { z: [null] }, {}, 400, 'z[0]', /must be array/],
    ['z that is not an array', 'decode', { z: 3 }, {}, 400, 'z', /must be array/],
    ['an empty array', 'decode', { z: [] }, {}, 400, 'z', /must NOT have fewer than 1 items/],
    ['an empty row', 'decode', { z: [[]] }, {}, 400, 'z[0]', /fewer than 1 items/],
    [
      'too many rows',
      'decode',
      { z: new Array(9).fill(new Array(L).fill(0)) },
      {},
      400,
      'z',
      /more than 8 items/,
    ],
    [
      'a number beyond float32',
      'decode',
      { z: [[1e39, ...new Array(L - 1).fill(0)]] },
      {},
      400,
      'z',
      /Infinity at row 0, index 0; values must be finite/,
    ],
    [
      'pixels outside [0, 1] for a Bernoulli model',
      'encode',
      { x: [new Array(D).fill(2)] },
      {},
      400,
      'x[0]',
      /expects values in \[0, 1\]/,
    ],
    ['a missing field', 'decode', {}, {}, 400, 'z', /must have the field "z"/],
    [
      'an unknown field',
      'decode',
      { z: [new Array(L).fill(0)], extra: 1 },
      {},
      400,
      'extra',
      /unknown field "extra"/,
    ],
    ['n = 0', 'sample', { n: 0 }, {}, 400, 'n', /must be >= 1/],
    ['n as a string', 'sample', { n: '4' }, {}, 400, 'n', /must be integer/],
    ['a fractional n', 'sample', { n: 1.5 }, {}, 400, 'n', /must be integer/],
    ['a negative seed', 'sample', { n: 1, seed: -1 }, {}, 400, 'seed', /must be >= 0/],
    [
      'too many importance samples',
      'score',
      { x: [new Array(D).fill(0)], samples: 51 },
      {},
      400,
      'samples',
      /must be <= 50/,
    ],
    [
      'a score asking for too many decodes',
      'score',
      { x: new Array(8).fill(new Array(D).fill(0)), samples: 40 },
      {},
      400,
      'samples',
      /8 rows × 40 samples = 320 decodes; one request may ask for at most 200/,
    ],
    ['NaN, which JSON cannot carry', 'decode', '{"z":[[NaN]]}', {}, 400, 'body', /not valid JSON/],
    ['malformed JSON', 'decode', '{"z":', {}, 400, 'body', /not valid JSON/],
    [
      'a __proto__ key',
      'decode',
      '{"__proto__":{"z":1}}',
      {},
      400,
      '__proto__',
      /the body has the key "__proto__", which is refused/,
    ],
    [
      'a constructor.prototype key',
      'decode',
      '{"z":[[0]],"constructor":{"prototype":{}}}',
      {},
      400,
      'prototype',
      /has the key "prototype"/,
    ],
    [
      'a text body',
      'decode',
      'hello',
      { 'content-type': 'text/plain' },
      415,
      'content-type',
      /must be application\/json or application\/octet-stream/,
    ],
    [
      'a raw body without its shape',
      'decode',
      'abcd',
      { 'content-type': 'application/octet-stream' },
      400,
      'x-shape',
      /needs the "x-shape" header/,
    ],
    [
      'a raw body shorter than its shape',
      'decode',
      'abcd',
      { 'content-type': 'application/octet-stream', 'x-shape': '1,20' },
      400,
      'body',
      /must hold 20 float32 values \(80 bytes\)/,
    ],
    [
      'a malformed shape header',
      'decode',
      'abcd',
      { 'content-type': 'application/octet-stream', 'x-shape': '1;x' },
      400,
      'x-shape',
      /positive integers/,
    ],
    [
      'a raw body for sample',
      'sample',
      'abcd',
      { 'content-type': 'application/octet-stream' },
      415,
      'content-type',
      /sample takes a application\/json body/,
    ],
    [
      'a body over the limit',
      'decode',
      { z: new Array(8).fill(new Array(4000).fill(0.123456789)) },
      {},
      413,
      'body',
      /larger than the limit of 262144 bytes/,
    ],
  ];
  for (const [what, op, body, headers, status, field, message] of bad) {
    test(`${what} → ${status} naming ${field ?? 'nothing'}`, async () => {
      const res = await fetch(`${t.url}/v1/models/mnist-mini/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, status, JSON.stringify(json));
      assert.equal(json.statusCode, status);
      assert.equal(json.field, field);
      assert.match(String(json.message), message);
    });
  }

  test('model names are looked up among loaded models only', async () => {
    for (const name of ['nope', '__proto__', 'constructor', '..%2F..%2Fetc%2Fpasswd', 'mnist-mini%00']) {
      const res = await postJson(`${t.url}/v1/models/${name}/decode`, { z: [new Array(L).fill(0)] });
      assert.equal(res.status, 404, name);
      assert.equal(res.json.field, 'name');
      assert.match(String(res.json.message), /unknown model .*; loaded models: mnist-mini, decoder-only/);
    }
    const noEncoder = await postJson(`${t.url}/v1/models/decoder-only/encode`, { x: [new Array(D).fill(0)] });
    assert.equal(noEncoder.status, 404);
    assert.match(String(noEncoder.json.message), /has no encoder\.onnx, so it cannot encode/);
    for (const path of ['a/b', '..', '%2E%2E']) {
      const res = await postJson(`${t.url}/v1/models/${path}/decode`, { z: [new Array(L).fill(0)] });
      assert.equal(res.status, 404, path);
      assert.equal(res.json.field, 'url');
    }
    const unknownRoute = await fetch(`${t.url}/v2/things`);
    assert.equal(unknownRoute.status, 404);
    assert.deepEqual(await unknownRoute.json(), {
      statusCode: 404,
      error: 'Not Found',
      message: 'no route for GET /v2/things',
      field: 'url',
    });
  });

  test('request ids: a sane X-Request-Id is echoed, anything else is replaced by a UUID', async () => {
    const echoed = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(echoed.headers.get('x-request-id'), 'abc-123');
    const replaced = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'a b\u00e9' } });
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('metrics: requests, latency, batch sizes and errors in Prometheus text', async () => {
    await postJson(decodeUrl, { z: [] });
    const res = await fetch(`${t.url}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(
      text,
      /vae_http_requests_total\{method="POST",route="\/v1\/models\/:name\/decode",status="200"\} \d+/,
    );
    assert.match(
      text,
      /vae_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/models\/:name\/decode",status="200"\} \d+/,
    );
    assert.match(text, /vae_batch_rows_bucket\{le="8",model="mnist-mini",part="decoder"\} \d+/);
    assert.match(
      text,
      /vae_http_errors_total\{route="\/v1\/models\/:name\/decode",status="400",kind="client"\} \d+/,
    );
    assert.match(text, /vae_ready 1/);
    assert.match(text, /process_resident_memory_bytes \d+/);
    assert.doesNotMatch(text, /status="5\d\d"/);
  });

  test('the OpenAPI description holds every route, with the very schemas the server validates with', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(
      OPERATIONS.map((op) => op.name),
      ['decode', 'encode', 'reconstruct', 'sample', 'score'],
    );
    for (const op of OPERATIONS) {
      const post = doc.paths[`/v1/models/{name}/${op.name}`]?.post;
      assert.ok(post, op.name);
      assert.deepEqual(
        post.requestBody?.content['application/json']?.schema,
        op.body({ maxBatch: 8, maxSamples: 50 }),
      );
    }
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/models'])
      assert.ok(doc.paths[path]?.get, path);
  });
});

describe('vae serve: batching off, readiness and shutdown', () => {
  test('with batching off every request is its own run', async () => {
    const t = await startTestServer({ batching: false });
    try {
      const before = await batchTotals(t.url);
      const url = `${t.url}/v1/models/mnist-mini/decode`;
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => postJson(url, { z: [Array.from(normalArray(L, i))] })),
      );
      const after = await batchTotals(t.url);
      assert.equal(after.runs - before.runs, 8);
    } finally {
      await t.stop();
    }
  });

  test('/readyz is 503 until warm-up and again once shutdown starts; in-flight requests finish', async () => {
    const { VaeModel } = await import('../src/runtime/node.js');
    const { createServer } = await import('../src/server/app.js');
    const model = await VaeModel.load('models/mnist-mini', { threads: 1 });
    const server = createServer(new Map([['m', model]]), { maxSamples: 5000 });
    try {
      const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
      assert.equal((await fetch(`${url}/readyz`)).status, 503);
      await server.warmUp();
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      const rng = createRng(1);
      const x = Array.from({ length: 16 }, () =>
        Array.from({ length: D }, () => (rng.uniform() < 0.2 ? 1 : 0)),
      );
      const slow = postJson(`${url}/v1/models/m/score`, { x, score: 'nll', samples: 2000 });
      await new Promise((r) => setTimeout(r, 50));
      const closing = server.close();
      assert.equal(server.state, 'draining');
      const done = await slow;
      assert.equal(done.status, 200);
      assert.equal((done.json.scores as number[]).length, 16);
      await closing;
    } finally {
      await model.dispose();
    }
  });
});

test('content negotiation: q-values, wildcards and the default', async () => {
  const t = await startTestServer();
  try {
    const type = async (accept: string | undefined) => {
      const response = await fetch(`${t.url}/v1/models/mnist-mini/sample`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(accept === undefined ? {} : { accept }) },
        body: JSON.stringify({ n: 1 }),
      });
      await response.arrayBuffer();
      return response.status === 406 ? undefined : response.headers.get('content-type')?.split(';')[0];
    };
    assert.equal(await type(undefined), 'application/json');
    assert.equal(await type('*/*'), 'application/json');
    assert.equal(await type('image/*'), 'image/png');
    assert.equal(await type('image/png;q=0.5, application/octet-stream'), 'application/octet-stream');
    assert.equal(await type('application/json;q=0, */*;q=0.1'), 'application/octet-stream');
    assert.equal(await type('text/html'), undefined);
  } finally {
    await t.stop();
  }
});

/** Rows and runs of the mnist-mini decoder so far, from /metrics. */
async function batchTotals(url: string): Promise<{ rows: number; runs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) =>
    Number(text.match(new RegExp(`^${name}\\{model="mnist-mini",part="decoder"\\} (\\S+)$`, 'm'))?.[1] ?? 0);
  return { rows: value('vae_batch_rows_sum'), runs: value('vae_batch_rows_count') };
}
