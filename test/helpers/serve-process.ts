import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** A free loopback port, found by binding port 0 and letting it go. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** `vae serve` running as its own process. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Its JSON log lines, when asked to keep them. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code. */
  exit: Promise<number | null>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `vae serve ARGS --port P` on a free port and resolves once /readyz answers 200.
 * @param keepLogs - parse stdout's JSON lines into `logs`; otherwise stdout goes to /dev/null, so
 *   that reading it costs a load generator in this process nothing.
 */
export async function startServeProcess(args: readonly string[], keepLogs = false): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args, '--port', String(port)], {
    stdio: ['ignore', keepLogs ? 'pipe' : 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  if (keepLogs && child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => logs.push(JSON.parse(line)));
  }
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    return exit;
  };
  for (let tries = 0; ; tries++) {
    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { child, url, logs, exit, stop };
    if (child.exitCode !== null || tries > 600) {
      child.kill();
      throw new Error(`vae serve did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
