import { chromiumRunner } from '../../parity/chromium.js';
import { checkGolden, PARITY_RUNTIMES, type ParityRow, runParity, writeGolden } from '../../parity/parity.js';
import { type Command, intFlag, onePositional, type ParsedArgs, UsageError } from '../args.js';
import { note, out } from '../output.js';

function list(cmd: string, args: ParsedArgs, name: string): string[] | undefined {
  const raw = args.flags[name];
  if (raw === undefined) return undefined;
  const names = String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(PARITY_RUNTIMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `vae ${cmd}: --${name} names unknown runtimes ${unknown.join(', ')}; known: ${PARITY_RUNTIMES.join(', ')}`,
    );
  }
  return names;
}

const fmt = (v: number | null) => (v === null ? '—' : v.toExponential(2));

function table(rows: readonly ParityRow[]): string[] {
  const w = Math.max(7, ...rows.map((r) => r.runtime.length));
  return [
    `${'runtime'.padEnd(w)}  tensor  max abs   max rel   mean abs  tol       ok`,
    ...rows.map(
      (r) =>
        `${r.runtime.padEnd(w)}  ${r.tensor.padEnd(6)}  ${fmt(r.maxAbs).padEnd(8)}  ${fmt(r.maxRel).padEnd(8)}  ${fmt(r.meanAbs).padEnd(8)}  ${fmt(r.tolerance ?? null).padEnd(8)}  ${r.ok === null ? `- (${r.note})` : r.ok ? 'yes' : 'NO'}`,
    ),
  ];
}

/** `vae parity DIR`: prove that every runtime computes the same numbers. */
export const parityCommand: Command = {
  name: 'parity',
  usage:
    'DIR [--json] [--batch N] [--seed S] [--runtimes LIST] [--tolerance T] [--require LIST] [--write-golden] [--check-golden]',
  flags: {
    json: {
      type: 'boolean',
      description: 'print { model, reference, rows: [{ runtime, tensor, maxAbs, maxRel, meanAbs, ok }] }',
    },
    batch: { type: 'string', value: 'N', description: 'examples per input', default: '8' },
    seed: { type: 'string', value: 'S', description: 'seed of the inputs', default: '0' },
    runtimes: {
      type: 'string',
      value: 'LIST',
      description: `comma-separated subset of ${PARITY_RUNTIMES.join(', ')}`,
    },
    tolerance: {
      type: 'string',
      value: 'T',
      description: 'max abs difference allowed (default: 1e-5 fp32, 1e-2 fp16, 5e-2 int8)',
    },
    require: { type: 'string', value: 'LIST', description: 'runtimes that must run (a missing one fails)' },
    'write-golden': { type: 'boolean', description: 'write DIR/golden in the ONNX test-data layout' },
    'check-golden': { type: 'boolean', description: 'replay DIR/golden with onnxruntime-node cpu' },
  },
  details: 'Exit code 1 when a row that ran is over the tolerance, or a --require runtime did not run.',
  async run(args) {
    const dir = onePositional('parity', args, 'model directory');
    const batch = intFlag('parity', args, 'batch', 1, 4096);
    const seed = intFlag('parity', args, 'seed', 0);
    const tolerance = args.flags.tolerance === undefined ? undefined : Number(args.flags.tolerance);
    if (tolerance !== undefined && !(tolerance >= 0))
      throw new UsageError(`vae parity: --tolerance must be a number >= 0, got "${args.flags.tolerance}"`);
    if (args.flags['write-golden']) {
      const files = await writeGolden(dir, { batch, seed });
      note(`wrote ${files.length} files under ${dir}/golden`);
      return 0;
    }
    if (args.flags['check-golden']) {
      const rows = await checkGolden(dir, tolerance);
      out(
        args.flags.json ? JSON.stringify({ model: dir, reference: 'golden', rows }) : table(rows).join('\n'),
      );
      return rows.every((r) => r.ok) ? 0 : 1;
    }
    const runtimes = list('parity', args, 'runtimes');
    const require = list('parity', args, 'require');
    const wants = (name: string) => !runtimes || runtimes.includes(name);
    const chromium = wants('onnxruntime-web-wasm-chromium') ? await chromiumRunner('wasm') : undefined;
    const chromiumWebgpu = wants('onnxruntime-web-webgpu-chromium')
      ? await chromiumRunner('webgpu')
      : undefined;
    const report = await runParity(dir, {
      batch,
      seed,
      ...(runtimes ? { runtimes } : {}),
      ...(require ? { require } : {}),
      ...(tolerance === undefined ? {} : { tolerance }),
      ...(chromium ? { chromium } : {}),
      ...(chromiumWebgpu ? { chromiumWebgpu } : {}),
    });
    if (args.flags.json) {
      out(JSON.stringify(report));
    } else {
      out(
        `${dir}: reference ${report.reference}${report.referenceNote ? ` (${report.referenceNote})` : ''}; ${report.precision} weights, tolerance ${report.tolerance}; ${batch} inputs, seed ${seed}`,
      );
      out(table(report.rows).join('\n'));
      out(report.ok ? 'parity: ok' : 'parity: FAILED');
    }
    return report.ok ? 0 : 1;
  },
};
