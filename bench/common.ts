/** What the benchmarks share: the machine line, the median, and a child process with its peak memory. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(import.meta.dirname, '..');

/** "machine: 2 × AMD EPYC …, Node v20…": the first line of every benchmark's report. */
export function machineLine(): string {
  return `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Peak resident memory of a running process so far (VmHWM), 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m);
    return Number(line?.[1]) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Runs a command in the repository's root, keeping stdout's lines and sampling the process's peak
 * memory every 200 ms.
 * @throws Error with its stderr when it exits with a non-zero code.
 */
export function runProcess(
  command: string,
  args: string[],
): Promise<{ lines: string[]; peakRss: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRss(child.pid as number));
    }, 200);
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.once('exit', (code) => {
      clearInterval(sampler);
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`));
      else resolve({ lines: stdout.trim().split('\n'), peakRss: peak, stderr });
    });
  });
}

/** What one `vae train` run measured. */
export interface TrainRun {
  /** All the epochs' examples over all their seconds (training steps only). */
  examplesPerSec: number;
  /** card.json's test negative ELBO. */
  negElbo: number;
  peakRss: number;
}

/**
 * Runs this checkout's `vae train` with `args` (plus `--json --out` a temporary directory, removed
 * afterwards) in a process of its own.
 */
export async function vaeTrain(args: string[]): Promise<TrainRun> {
  const out = mkdtempSync(join(tmpdir(), 'vae-bench-train-'));
  try {
    const cli = join(ROOT, 'src', 'cli', 'main.ts');
    const r = await runProcess(process.execPath, [
      '--import',
      'tsx',
      cli,
      'train',
      ...args,
      '--json',
      '--out',
      out,
    ]);
    const epochs = r.lines.map((l) => JSON.parse(l) as { examplesPerSec: number; seconds: number });
    const seconds = epochs.reduce((s, e) => s + e.seconds, 0);
    const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8')) as { metrics: { negElbo: number } };
    return {
      examplesPerSec: epochs.reduce((s, e) => s + e.examplesPerSec * e.seconds, 0) / seconds,
      negElbo: card.metrics.negElbo,
      peakRss: r.peakRss,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
