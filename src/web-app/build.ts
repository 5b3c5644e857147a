/**
 * Building the web app (src/web-app/page) with Vite, and the record of what the build bundled.
 *
 * The built app carries onnxruntime-web's and tfjs-backend-wasm's JavaScript, while `vae web` serves
 * their `.wasm` files from the installed packages: the two halves must be one version, or the page
 * fails at start with a LinkError. The build therefore writes `bundled.json` beside index.html (every
 * npm package in the bundle and its version); the packaging pins those versions exactly, and the
 * server refuses to start when what is installed differs from what was bundled.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';

/** The package root, from this file in src/web-app or dist/web-app. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, '..', '..');
/** The web app's sources (a checkout has them; the installed package ships the built app only). */
export const WEB_ROOT = join(PACKAGE_ROOT, 'src', 'web-app', 'page');
/** Where the built app lives: shipped in the package, built by `npm run build` in a checkout. */
export const WEB_DIST = join(PACKAGE_ROOT, 'dist', 'app');
/** The record of the bundled packages, in the built app's folder. */
export const BUNDLED_FILE = 'bundled.json';

/** What `bundled.json` holds: the npm packages whose code is in the built app, by name, and their versions. */
export interface BundledPackages {
  packages: Record<string, string>;
}

/** The npm package a bundled module comes from (its name and folder), or undefined for the app's own code. */
export function packageOfModule(id: string): { name: string; dir: string } | undefined {
  const path = id.replace(/^\0/, '').replace(/\?.*$/, '').split('\\').join('/');
  const at = path.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const rest = path.slice(at + '/node_modules/'.length).split('/');
  const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  if (!name) return undefined;
  return { name, dir: path.slice(0, at + '/node_modules/'.length + name.length) };
}

/** A Vite plugin that collects the npm packages (and their versions) of every module in the bundle. */
function recordBundledPackages(found: Map<string, string>): Plugin {
  return {
    name: 'vae-onnx:bundled-packages',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        for (const id of Object.keys(chunk.modules)) {
          const pkg = packageOfModule(id);
          if (!pkg || found.has(pkg.name)) continue;
          const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) as {
            version: string;
          };
          found.set(pkg.name, manifest.version);
        }
      }
    },
  };
}

/**
 * Builds the web app into `outDir` with Vite (a devDependency: a checkout has it, an installed package
 * ships the result) and writes `bundled.json` beside it. onnxruntime-web's and tfjs-backend-wasm's
 * .wasm files are left out: the server serves them from their own packages.
 * @throws Error when the sources or Vite are not here.
 */
export async function buildWebApp(outDir = WEB_DIST): Promise<BundledPackages> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(
      `cannot build the web app: its sources (${WEB_ROOT}) are not here; the package ships it built`,
    );
  }
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (error) {
    throw new Error('cannot build the web app: Vite is not installed (npm install --save-dev vite)', {
      cause: error,
    });
  }
  const found = new Map<string, string>();
  await vite.build({
    root: WEB_ROOT,
    base: './',
    logLevel: 'warn',
    configFile: false,
    plugins: [recordBundledPackages(found)],
    build: { outDir, emptyOutDir: true, assetsInlineLimit: 0, target: 'es2022', chunkSizeWarningLimit: 2048 },
  });
  const assets = join(outDir, 'assets');
  for (const name of await readdir(assets)) {
    if (name.endsWith('.wasm')) await rm(join(assets, name));
  }
  const record: BundledPackages = {
    packages: Object.fromEntries([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  await writeFile(join(outDir, BUNDLED_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/**
 * The packages the built app in `appDir` bundled.
 * @throws Error when the app has no bundled.json (built by an older version: rebuild it).
 */
export function readBundledPackages(appDir: string): BundledPackages {
  const file = join(appDir, BUNDLED_FILE);
  if (!existsSync(file)) {
    throw new Error(
      `cannot serve the web app in ${appDir}: it has no ${BUNDLED_FILE} saying which onnxruntime-web and tfjs-backend-wasm it bundles; build it again (npm run build)`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as BundledPackages;
}
