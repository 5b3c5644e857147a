/**
 * `npm run bench:server-load`: is `vae serve` still responsive under heavy requests? The server runs
 * in one process, a load generator in a second (waves of 10 maximal /score requests — 65 rows × 1000
 * samples — and 200 batch-1 decodes, all at once), and this process only probes /healthz every 10 ms,
 * so a probe's time is the server's, not a busy client's. The baseline is the same probe against the
 * idle server, measured in the same command before and after the load.
 *
 * Flags: --model DIR (default models/fashion-mnist), --waves W (default 5), --threads N (the
 * server's per session, default 1).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startServeProcess } from '../test/helpers/serve-process.js';
import { machineLine } from './common.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'bench' },
    url: { type: 'string' },
    name: { type: 'string' },
    model: { type: 'string', default: 'models/fashion-mnist' },
    waves: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
  },
});

interface ModelInfo {
  latentDim: number;
  inputShape: number[];
}

/** The load generator's side: waves of heavy scores and decodes; prints the status counts as JSON. */
async function generateLoad(url: string, name: string, waves: number): Promise<void> {
  const info = (await (await fetch(`${url}/v1/models/${name}`)).json()) as ModelInfo;
  const d = info.inputShape.reduce((a, b) => a * b, 1);
  const x = Array.from({ length: 65 }, (_, i) => Array.from({ length: d }, (_, j) => ((i * 7 + j) % 9) / 8));
  const z = [Array.from({ length: info.latentDim }, (_, i) => Math.sin(i))];
  const post = (op: string, body: unknown) =>
    fetch(`${url}/v1/models/${name}/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status === 503 && r.headers.get('retry-after') === null ? -503 : r.status;
      },
      () => 0,
    );
  const counts: Record<string, number> = {};
  for (let wave = 0; wave < waves; wave++) {
    const statuses = await Promise.all([
      ...Array.from({ length: 10 }, () => post('score', { x, score: 'nll', samples: 1000 })),
      ...Array.from({ length: 200 }, () => post('decode', { z })),
    ]);
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify(counts));
}

/** Probes /healthz every 10 ms until `done` resolves; the latencies in ms. */
async function probe(url: string, done: Promise<unknown>): Promise<{ ms: number[]; failed: number }> {
  let running = true;
  void done.finally(() => {
    running = false;
  });
  const ms: number[] = [];
  let failed = 0;
  while (running) {
    const started = performance.now();
    const status = await fetch(`${url}/healthz`).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
      () => 0,
    );
    if (status === 200) ms.push(performance.now() - started);
    else failed++;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { ms, failed };
}

/** The q-quantile (nearest rank) of latencies. */
function quantile(ms: number[], q: number): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m);
  return Number(line?.[1]) / 1024;
}

function summary(label: string, r: { ms: number[]; failed: number }): string {
  const f = (q: number) => quantile(r.ms, q).toFixed(1).padStart(7);
  return `${label.padEnd(14)} ${String(r.ms.length).padStart(6)} ${f(0.5)} ${f(0.99)} ${f(1)} ${String(r.failed).padStart(7)}`;
}

if (values.role === 'load') {
  await generateLoad(values.url as string, values.name as string, Number(values.waves));
} else {
  const model = values.model as string;
  const name = model.replace(/\/+$/, '').split('/').pop() as string;
  console.log(
    `bench:server-load — ${model}: ${values.waves} waves of 10 /score (65 rows × 1000 samples) + 200 decodes from a load process; /healthz probed every 10 ms from a third`,
  );
  console.log(machineLine());
  const server = await startServeProcess([
    model,
    '--threads',
    values.threads as string,
    '--log-level',
    'warn',
  ]);
  try {
    const idle = (ms: number) => probe(server.url, new Promise((r) => setTimeout(r, ms)));
    const before = await idle(2000);
    const load = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        import.meta.filename,
        '--role',
        'load',
        '--url',
        server.url,
        '--name',
        name,
        '--waves',
        values.waves as string,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    load.stdout.on('data', (d) => {
      out += d;
    });
    const loadDone = new Promise<void>((resolve) => load.once('exit', () => resolve()));
    const started = performance.now();
    const loaded = await probe(server.url, loadDone);
    const seconds = (performance.now() - started) / 1000;
    const after = await idle(2000);
    console.log('');
    console.log('/healthz        probes  p50 ms  p99 ms  max ms  failed');
    console.log(summary('idle, before', before));
    console.log(summary('under load', loaded));
    console.log(summary('idle, after', after));
    console.log('');
    const idleP99 = quantile([...before.ms, ...after.ms], 0.99);
    console.log(
      `load answers ${out} (503 = at capacity with Retry-After; -503 would be one without) in ${seconds.toFixed(1)} s; ` +
        `server peak RSS ${peakMb(server.child.pid as number).toFixed(0)} MB; ` +
        `/healthz p99 under load ${quantile(loaded.ms, 0.99).toFixed(1)} ms = ${(quantile(loaded.ms, 0.99) / idleP99).toFixed(1)}× idle p99`,
    );
  } finally {
    await server.stop();
  }
}
