import { execFileSync, spawnSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';

/**
 * One empty npm cache for this test process, made on first use: installs resolve what the registry
 * serves today, as for a new user, not what a developer's warm cache remembers.
 */
let cache: string | undefined;
export function throwawayNpmCache(): string {
  cache ??= mkdtempSync(join(tmpdir(), 'vae-onnx-npm-cache-'));
  return cache;
}

/** The environment for npm and npx in consumer projects: the throwaway cache, no lockfile reuse. */
export function npmEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, npm_config_cache: throwawayNpmCache(), ...env };
}

/** A fresh npm project in `dir` (ESM, no dependencies yet). */
export function emptyProject(dir: string): void {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
}

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
  return npm(dir, ['install', '--no-audit', '--no-fund'], env);
}

/** Runs npm in `dir` with the throwaway cache; throws with npm's output when it fails. */
export function npm(dir: string, args: string[], env: Record<string, string> = {}): { output: string } {
  const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', env: npmEnv(env) });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${dir}:\n${output}`);
  return { output };
}

/** The newest version of `name` that `range` allows, as the registry says today. */
export function newestInRange(name: string, range: string): string {
  const r = spawnSync('npm', ['view', `${name}@${range}`, 'version', '--json'], {
    encoding: 'utf8',
    env: npmEnv(),
  });
  if (r.status !== 0) throw new Error(`npm view ${name}@${range} failed: ${r.stderr}`);
  const versions = JSON.parse(r.stdout) as string | string[];
  return Array.isArray(versions) ? (versions.at(-1) as string) : versions;
}

/** The version of `name` that code in `fromDir` (inside node_modules) resolves, walking up as Node does. */
export function resolvedVersion(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = join(dir, '..')) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest))
      return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    if (normalize(join(dir, '..')) === normalize(dir)) return undefined;
  }
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
