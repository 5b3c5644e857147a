import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

/** A fresh npm project in `dir` with `dependencies`, installed; returns npm's output. */
export function npmProject(
  dir: string,
  dependencies: Record<string, string>,
  env: Record<string, string> = {},
): { output: string } {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies },
      null,
      2,
    ),
  );
  return npm(dir, ['install', '--no-audit', '--no-fund', '--prefer-offline'], env);
}

/** Runs npm in `dir`; throws with npm's output when it fails. */
export function npm(dir: string, args: string[], env: Record<string, string> = {}): { output: string } {
  const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${dir}:\n${output}`);
  return { output };
}

/** npm's warning and error lines in its output. */
export function warnings(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /^npm (warn|error|ERR)/i.test(l))
    .map((l) => l.trim());
}

/** Bytes under `dir`, every file counted once. */
export function treeBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

const MIME: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
});

/** A plain static server on loopback, with COOP/COEP headers or without, as a user's own host would be. */
export async function staticServer(
  root: string,
  crossOriginIsolated: boolean,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      ...(crossOriginIsolated
        ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
        : {}),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The files in `dir`, recursively, relative to it. */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}
