import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { normalArray } from '../src/core/random.js';
import { startServeProcess } from './helpers/serve-process.js';
import { postJson, startTestServer } from './helpers/server.js';
import { postHeaders, slowClient } from './helpers/slow-client.js';

const L = 20;
const D = 784;
const decodeBody = (seed: number) => ({ z: [Array.from(normalArray(L, seed))] });

describe('vae serve: slow clients, deep bodies, graceful shutdown', () => {
  test('clients that trickle their body are cut off with a 408 within the request timeout; others are served meanwhile', async (t) => {
    const s = await startTestServer({ requestTimeoutMs: 1000 });
    try {
      const body = JSON.stringify(decodeBody(1));
      const slow = Array.from({ length: 40 }, () =>
        slowClient(s.url, postHeaders('/v1/models/mnist-mini/decode', body.length), body, 200),
      );
      const latencies: number[] = [];
      const statuses: number[] = [];
      // Normal clients keep sending while the slow ones hold their connections.
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const started = performance.now();
            const r = await postJson(`${s.url}/v1/models/mnist-mini/decode`, decodeBody(round * 10 + i));
            latencies.push(performance.now() - started);
            statuses.push(r.status);
          }),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      const closedAfter = await Promise.all(slow.map((c) => c.closed));
      latencies.sort((a, b) => a - b);
      t.diagnostic(
        `slow clients cut after ${Math.min(...closedAfter).toFixed(0)}–${Math.max(...closedAfter).toFixed(0)} ms; normal requests meanwhile: median ${latencies[50]?.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`,
      );
      assert.deepEqual([...new Set(statuses)], [200]);
      // The timeout is 1 s, checked every 250 ms: every slow client is gone well within 3 s.
      assert.ok(Math.max(...closedAfter) < 3000, `${Math.max(...closedAfter)} ms`);
      for (const c of slow) {
        assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
        assert.match(
          c.received(),
          /"statusCode":408,"error":"Request Timeout","message":"the request did not arrive in full within the request timeout"/,
        );
      }
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /^vae_http_request_timeouts_total 40$/m);
      assert.match(metrics, /vae_http_errors_total\{route="unmatched",status="408",kind="client"\} 40/);
    } finally {
      await s.stop();
    }
  });

  test('a body nested millions of levels deep is refused before it is parsed', async () => {
    const s = await startTestServer();
    try {
      const deep = `{"z":${'['.repeat(4_000_000)}${']'.repeat(4_000_000)}}`;
      const r = await postJson(`${s.url}/v1/models/mnist-mini/decode`, deep);
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'body');
      assert.match(String(r.json.message), /nests deeper than 16 levels/);
      // Brackets inside strings do not count, and an ordinary nested example is fine.
      const nested = Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0]));
      const ok = await postJson(`${s.url}/v1/models/mnist-mini/encode`, { x: [nested] });
      assert.equal(ok.status, 200);
      const strings = await postJson(
        `${s.url}/v1/models/mnist-mini/sample`,
        `{"n":1,"x":"${'['.repeat(100)}"}`,
      );
      assert.match(String(strings.json.message), /unknown field "x"/);
    } finally {
      await s.stop();
    }
  });

  test('SIGTERM: /readyz turns 503 while requests are still served, idle and silent connections close, exit 0', async () => {
    const s = await startServeProcess(['models/mnist-mini', '--threads', '1', '--drain-grace', '1500']);
    // An idle keep-alive connection and one that never sends anything.
    const idle = connect(Number(new URL(s.url).port), '127.0.0.1');
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const silent = connect(Number(new URL(s.url).port), '127.0.0.1');
    for (const socket of [idle, silent]) {
      socket.on('error', () => undefined);
      socket.resume(); // read what comes, so that the server's close reaches 'end' and 'close'
    }
    const closed = Promise.all([idle, silent].map((c) => new Promise((r) => c.once('close', r))));
    await new Promise((r) => setTimeout(r, 200));
    const signalled = performance.now();
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const ready = await fetch(`${s.url}/readyz`);
    assert.equal(ready.status, 503, 'not ready while draining');
    assert.equal((await ready.json()).status, 'draining');
    const served = await postJson(`${s.url}/v1/models/mnist-mini/decode`, decodeBody(3));
    assert.equal(served.status, 200, 'still served during the grace period');
    assert.equal(served.headers.get('connection'), 'close');
    assert.equal(await s.exit, 0);
    await closed;
    assert.ok(performance.now() - signalled < 1500 + 5000, 'the process exits soon after the grace period');
  });

  test('SIGTERM under load: every request sent before it gets its answer, even while a score holds the event loop', async () => {
    const s = await startServeProcess([
      'models/mnist-mini',
      '--threads',
      '1',
      '--drain-grace',
      '1000',
      '--max-samples',
      '5000',
    ]);
    const x = Array.from({ length: 16 }, (_, i) =>
      Array.from({ length: D }, (_, j) => ((i + j) % 5 === 0 ? 1 : 0)),
    );
    const slowScore = postJson(`${s.url}/v1/models/mnist-mini/score`, { x, score: 'nll', samples: 3000 });
    await new Promise((r) => setTimeout(r, 100));
    const before = Array.from({ length: 100 }, (_, i) =>
      postJson(`${s.url}/v1/models/mnist-mini/decode`, decodeBody(i)),
    );
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill('SIGTERM');
    const results = await Promise.allSettled([slowScore, ...before]);
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : String(r.reason)));
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(await s.exit, 0);
  });
});
