/**
 * `npm run bench:server`: `vae serve` under 64 concurrent clients sending batch-1 decode requests,
 * with dynamic batching on and off, measured by autocannon in this process. The server runs in a
 * child process; both share this machine's cores, so the load generator competes with the server.
 *
 * Flags: --seconds S (per run, default 5), --rounds R (runs per setting, default 3), --connections C (default 64), --model DIR
 * (default models/fashion-mnist), --threads N (per session, default 1), --format json|octet|both,
 * --log-level L (the server's, default info: a log line per request, as in production).
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type ServeProcess, startServeProcess } from '../test/helpers/serve-process.js';
import { median } from './common.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    model: { type: 'string', default: 'models/fashion-mnist' },
    threads: { type: 'string', default: '1' },
    format: { type: 'string', default: 'both' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

/** Starts `vae serve` for the bench's model with the bench's threads and log level. */
function startServer(extra: string[]): Promise<ServeProcess> {
  return startServeProcess([
    values.model as string,
    '--threads',
    values.threads as string,
    '--log-level',
    values['log-level'] as string,
    ...extra,
  ]);
}

/** The batch-1 decode request body in the given format, for a model with `latent` dimensions. */
function request(format: 'json' | 'octet', latent: number): autocannon.Request {
  const z = Array.from({ length: latent }, (_, i) => Math.sin(i + 1));
  if (format === 'json') {
    return {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ z: [z] }),
    };
  }
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      accept: 'application/octet-stream',
      'x-shape': `1,${latent}`,
    },
    body: Buffer.from(new Float32Array(z).buffer),
  };
}

interface Row {
  format: string;
  batching: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  meanRows: number;
}

/** One timed autocannon run against a running server. */
async function measure(server: ServeProcess, format: 'json' | 'octet', batching: boolean): Promise<Row> {
  const name = (values.model as string).split('/').pop() as string;
  const info = (await (await fetch(`${server.url}/v1/models/${name}`)).json()) as { latentDim: number };
  const url = `${server.url}/v1/models/${name}/decode`;
  const requests = [request(format, info.latentDim)];
  // A short warm-up at the same concurrency, not counted.
  await autocannon({ url, connections, duration: 1, requests });
  const before = await batchCounts(server.url);
  const result = await autocannon({ url, connections, duration: seconds, requests });
  const after = await batchCounts(server.url);
  return {
    format,
    batching: batching ? 'on' : 'off',
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    meanRows: (after.rows - before.rows) / Math.max(1, after.runs - before.runs),
  };
}

/** Total rows and runs of the decoder so far, from /metrics. */
async function batchCounts(base: string): Promise<{ rows: number; runs: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const pick = (metric: string) =>
    Number(text.match(new RegExp(`^${metric}\\{model="[^"]+",part="decoder"\\} (\\S+)$`, 'm'))?.[1] ?? 0);
  return { rows: pick('vae_batch_rows_sum'), runs: pick('vae_batch_rows_count') };
}

const formats: ('json' | 'octet')[] =
  values.format === 'both' ? ['json', 'octet'] : [values.format as 'json' | 'octet'];
console.log(
  `bench:server — ${values.model}, ${connections} connections, batch-1 decode, ${rounds} rounds of ` +
    `${seconds} s per setting, batching off and on interleaved; server (--threads ${values.threads}, ` +
    `--log-level ${values['log-level']}) and autocannon share ${cpus().length} × ${cpus()[0]?.model.trim()}`,
);
// Both servers stay up; the runs alternate off, on, off, on… so that a noisy spell on this shared
// machine hits both settings alike.
const off = await startServer(['--no-batching']);
const on = await startServer([]);
const rows: Row[] = [];
try {
  for (const format of formats) {
    for (let round = 0; round < rounds; round++) {
      rows.push(await measure(off, format, false));
      rows.push(await measure(on, format, true));
    }
  }
} finally {
  await Promise.all([off.stop(), on.stop()]);
}
console.log('');
console.log('format  batching   req/s     p50 ms  p99 ms  errors  non-2xx  rows/run');
for (const r of rows) {
  console.log(
    `${r.format.padEnd(7)} ${r.batching.padEnd(8)} ${r.reqPerSec.toFixed(0).padStart(8)}  ${String(r.p50).padStart(6)}  ${String(r.p99).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}  ${r.meanRows.toFixed(1).padStart(8)}`,
  );
}
console.log('');
for (const format of formats) {
  const pick = (b: string) => rows.filter((r) => r.format === format && r.batching === b);
  const [offRuns, onRuns] = [pick('off'), pick('on')];
  const ratios = onRuns.map((r, i) => r.reqPerSec / (offRuns[i] as Row).reqPerSec);
  console.log(
    `${format}: median ${median(onRuns.map((r) => r.reqPerSec)).toFixed(0)} vs ${median(offRuns.map((r) => r.reqPerSec)).toFixed(0)} req/s, ` +
      `batching on / off = ${(median(onRuns.map((r) => r.reqPerSec)) / median(offRuns.map((r) => r.reqPerSec))).toFixed(2)}× ` +
      `(rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}); p99 with batching ${median(onRuns.map((r) => r.p99))} ms (median of rounds)`,
  );
}
