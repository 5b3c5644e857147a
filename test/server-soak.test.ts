/**
 * A bounded soak of `vae serve` as a process on loopback: valid, invalid and slow clients together
 * for a minute. No 5xx, /healthz green throughout, slow clients cut off, and resident memory after the
 * soak within 10 % of what it was after a warm-up with the same mix.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createRng, normalArray } from '../src/core/random.js';
import { startServeProcess } from './helpers/serve-process.js';
import { postHeaders, type RawClient, slowClient } from './helpers/slow-client.js';

const L = 20;
const D = 784;
const WARM_UP_MS = 15_000;
const SOAK_MS = 45_000;

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  return Number(line?.[1]) * 1024;
}

type Call = { path: string; init: RequestInit };

/** One request of the mix: mostly valid (JSON, raw float32, PNG, score), a third invalid in assorted ways. */
function pick(rng: ReturnType<typeof createRng>, base: string): Call {
  const json = (path: string, body: unknown, headers: Record<string, string> = {}): Call => ({
    path,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
  });
  const m = `${base}/v1/models/mnist-mini`;
  const rows = 1 + Math.floor(rng.uniform() * 8);
  const z = () => Array.from({ length: rows }, () => Array.from(normalArray(L, rng.uint32())));
  const x = () =>
    Array.from({ length: rows }, () => Array.from({ length: D }, () => (rng.uniform() < 0.2 ? 1 : 0)));
  const choices: (() => Call)[] = [
    () => json(`${m}/decode`, { z: z() }),
    () => json(`${m}/decode`, { z: z() }),
    () => ({
      path: `${m}/decode`,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-shape': `${rows},${L}` },
        body: new Uint8Array(normalArray(rows * L, rng.uint32()).buffer) as Uint8Array<ArrayBuffer>,
      },
    }),
    () => json(`${m}/encode`, { x: x() }),
    () => json(`${m}/score`, { x: x().slice(0, 2), score: 'nll', samples: 8, seed: rng.uint32() }),
    () => json(`${m}/sample`, { n: rows, seed: rng.uint32() }, { accept: 'image/png' }),
    () => json(`${m}/decode`, { z: [new Array(L - 1).fill(0)] }),
    () => json(`${m}/decode`, '{"z":[[1,2'),
    () => json(`${base}/v1/models/nope/decode`, { z: z() }),
    () => json(`${m}/sample`, `{"n":${'['.repeat(64)}1${']'.repeat(64)}}`),
    () => ({
      path: `${m}/decode`,
      init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' },
    }),
  ];
  return (choices[Math.floor(rng.uniform() * choices.length)] as () => Call)();
}

test('soak: a minute of valid, invalid and slow clients; no 5xx, healthy throughout, memory back within 10 %', async (t) => {
  const s = await startServeProcess([
    'models/mnist-mini',
    '--threads',
    '1',
    '--request-timeout',
    '1000',
    '--drain-grace',
    '0',
  ]);
  const pid = s.child.pid as number;
  const statuses = new Map<number, number>();
  const health: number[] = [];
  const slowCut: number[] = [];
  let running = true;
  let phaseEnd = 0;
  try {
    const rng = createRng(2026);
    const worker = async () => {
      while (running) {
        if (performance.now() > phaseEnd) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const call = pick(rng, s.url);
        const r = await fetch(call.path, call.init);
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    const slow = async () => {
      while (running) {
        if (performance.now() > phaseEnd) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        const body = JSON.stringify({ z: [new Array(L).fill(0)] });
        const c: RawClient = slowClient(
          s.url,
          postHeaders('/v1/models/mnist-mini/decode', body.length),
          body,
          300,
        );
        slowCut.push(await c.closed);
      }
    };
    const poll = async () => {
      while (running) {
        health.push((await fetch(`${s.url}/healthz`)).status);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const clients = [...Array.from({ length: 12 }, worker), ...Array.from({ length: 8 }, slow), poll()];
    const phase = async (ms: number) => {
      phaseEnd = performance.now() + ms;
      await new Promise((r) => setTimeout(r, ms + 1500));
      return rssOf(pid);
    };
    const warm = await phase(WARM_UP_MS);
    const requestsWarm = [...statuses.values()].reduce((a, b) => a + b, 0);
    const soaked = await phase(SOAK_MS);
    running = false;
    await Promise.all(clients);
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(
      `requests: ${requestsWarm} in the warm-up, ${requests - requestsWarm} in the soak; statuses ${JSON.stringify(Object.fromEntries(statuses))}; slow clients cut: ${slowCut.length} (after ${Math.min(...slowCut).toFixed(0)}–${Math.max(...slowCut).toFixed(0)} ms); RSS after warm-up ${(warm / 2 ** 20).toFixed(1)} MB, after the soak ${(soaked / 2 ** 20).toFixed(1)} MB (${((soaked / warm - 1) * 100).toFixed(1)} %)`,
    );
    assert.ok(
      ![...statuses.keys()].some((code) => code >= 500),
      JSON.stringify(Object.fromEntries(statuses)),
    );
    assert.ok((statuses.get(200) ?? 0) > 1000, 'the valid clients were served');
    assert.ok(
      [...statuses.keys()].some((code) => code >= 400 && code < 500),
      'the invalid clients were refused',
    );
    assert.ok(
      health.length > 100 && health.every((h) => h === 200),
      `/healthz: ${JSON.stringify([...new Set(health)])}`,
    );
    assert.ok(slowCut.length >= 8 && Math.max(...slowCut) < 3000, 'slow clients are cut within the timeout');
    assert.ok(soaked <= 1.1 * warm, `RSS ${soaked} after the soak vs ${warm} after the warm-up`);
    assert.equal(await s.stop(), 0);
  } finally {
    running = false;
    s.child.kill('SIGKILL');
  }
});
