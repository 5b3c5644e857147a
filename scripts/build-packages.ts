/**
 * Assembles the two publishable packages from one compiled tree (dist/, see `npm run build`) and
 * packs them into build/:
 *
 * - vae-onnx-runtime: VaeModel and what it needs (dist/runtime and the core files they import),
 *   onnxruntime-web as its dependency, onnxruntime-node as an optional peer. No tfjs, no Fastify,
 *   no install script, no models.
 * - vae-onnx: the CLI, trainer, exporter, server and parity tools, the built web app and the
 *   shipped models' ONNX files and cards; it depends on vae-onnx-runtime, and its imports of the
 *   runtime's files are rewritten to that package (`vae-onnx-runtime/internal/...`), so one copy
 *   of the runtime runs.
 *
 * The repository keeps one source tree (src/train, src/export, src/runtime, ...): assembling at
 * build time keeps that layout and one set of tests, where npm workspaces would split src/.
 *
 * Usage: tsx scripts/build-packages.ts [--out build] [--skip-build]
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { readBundledPackages } from '../src/web-app/build.js';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');

/** The runtime package's name, as npm users search for it. */
export const RUNTIME_PACKAGE = 'vae-onnx-runtime';
/** The files of a shipped model that go into the package (no tfjs checkpoint, no pictures). */
export const SHIPPED_MODEL_FILES = Object.freeze(['card.json', 'encoder.onnx', 'decoder.onnx']);
/**
 * The shipped models whose half-float decoder goes in too. One, not both: the float32 ONNX files of
 * the two models are 5.4 MB gzipped already, and the package stays under 6 MB.
 */
export const FP16_DECODER_MODELS = Object.freeze(['mnist-mini']);

/** The light-my-request Fastify gets in the full package (see its dependencies) and in this repository's overrides. */
const LIGHT_MY_REQUEST = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { overrides: Record<string, string> }
).overrides['light-my-request'] as string;

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g;

/** The relative import specifiers of a compiled file. */
function relativeImports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => m[3] as string);
}

/** Every .js file reachable from `entries` by relative imports, as paths relative to dist/. */
export function importClosure(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    const rel = relative(DIST, file);
    if (seen.has(rel)) return;
    if (!existsSync(file)) throw new Error(`cannot assemble the packages: ${file} is imported but missing`);
    seen.add(rel);
    for (const spec of relativeImports(file)) visit(resolve(dirname(file), spec));
  };
  for (const e of entries) visit(join(DIST, e));
  return seen;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

function copy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  repository?: unknown;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};

function pick(names: readonly string[]): Record<string, string> {
  const all = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
  return Object.fromEntries(
    names.map((n) => {
      const range = all[n];
      if (range === undefined) throw new Error(`cannot assemble the packages: ${n} is not in package.json`);
      return [n, range];
    }),
  );
}

/** Writes a package's package.json after checking that it declares every package its code imports. */
function writeManifest(dir: string, manifest: Record<string, unknown>): void {
  checkDeclaredImports(dir, manifest);
  writeJson(join(dir, 'package.json'), manifest);
}

/** The docs the full package's README links to, shipped so that every link resolves from node_modules. */
export const SHIPPED_DOCS = Object.freeze([
  'docs/serving.md',
  'docs/op-coverage.md',
  'docs/packages/vae-onnx-runtime.md',
  'docs/images/shapes-traverse.png',
]);

/** Marks the README's parts that concern a checkout of the repository, not a package user. */
const CHECKOUT_ONLY = /<!-- checkout-only -->[\s\S]*?<!-- \/checkout-only -->\n?/g;

/** The README as package users read it: the checkout-only parts left out. */
export function packageReadme(readme: string): string {
  return readme.replace(CHECKOUT_ONLY, '');
}

/** A conditional export of one compiled module: its types and its code for each condition. */
const entry = (js: string) => ({ types: js.replace(/\.js$/, '.d.ts'), default: js });

const COMMON = {
  version: rootPackage.version,
  license: rootPackage.license,
  type: 'module',
  engines: { node: '>=20' },
};

function assembleRuntime(out: string, closure: Set<string>): void {
  for (const rel of closure) {
    for (const ext of ['.js', '.d.ts']) {
      const from = join(DIST, rel.replace(/\.js$/, ext));
      if (existsSync(from)) copy(from, join(out, 'dist', relative(DIST, from)));
    }
  }
  copy(join(ROOT, 'docs', 'packages', `${RUNTIME_PACKAGE}.md`), join(out, 'README.md'));
  copy(join(ROOT, 'LICENSE'), join(out, 'LICENSE'));
  writeManifest(out, {
    name: RUNTIME_PACKAGE,
    ...COMMON,
    description:
      'Run Variational Autoencoders exported to ONNX: sample, encode, decode, reconstruct and anomaly scores, with onnxruntime-web in browsers (WebAssembly, WebGPU) and onnxruntime-node or WebAssembly in Node.',
    keywords: [
      'vae',
      'variational-autoencoder',
      'onnx',
      'onnxruntime',
      'onnxruntime-web',
      'webgpu',
      'anomaly-detection',
      'generative',
    ],
    sideEffects: false,
    exports: {
      '.': {
        node: entry('./dist/runtime/node.js'),
        browser: entry('./dist/runtime/web.js'),
        default: entry('./dist/runtime/web.js'),
      },
      './node': entry('./dist/runtime/node.js'),
      './web': entry('./dist/runtime/web.js'),
      // For vae-onnx, which shares the runtime's core files; not a public API.
      './internal/*': './dist/*',
      './package.json': './package.json',
    },
    files: ['dist', 'README.md', 'LICENSE'],
    dependencies: pick(['fflate', 'onnxruntime-common', 'onnxruntime-web']),
    peerDependencies: { 'onnxruntime-node': pick(['onnxruntime-node'])['onnxruntime-node'] },
    peerDependenciesMeta: { 'onnxruntime-node': { optional: true } },
  });
}

/** Rewrites relative imports that point into the runtime package to `vae-onnx-runtime/internal/...`. */
function rewriteImports(text: string, fileRel: string, runtimeFiles: Set<string>): string {
  return text.replace(SPECIFIER, (whole, head: string, quote: string, spec: string) => {
    const target = relative(DIST, resolve(DIST, dirname(fileRel), spec))
      .split(sep)
      .join('/');
    if (!runtimeFiles.has(target)) return whole;
    return `${head}${quote}${RUNTIME_PACKAGE}/internal/${target}${quote}`;
  });
}

/**
 * The versions the prebuilt app bundled (dist/app/bundled.json): the full package pins these exactly,
 * because `vae web` serves .wasm files from the installed packages to JavaScript built into the app,
 * and the two must be one version (a newer onnxruntime-web in range broke every page with a LinkError).
 */
function bundledVersions(): Record<string, string> {
  return readBundledPackages(join(DIST, 'app')).packages;
}

/**
 * Each bare import of the package's .js files is one of its dependencies (or a Node builtin):
 * a package that works only because something else happened to hoist a module would break for users.
 */
function checkDeclaredImports(dir: string, manifest: Record<string, unknown>): void {
  const declared = new Set(
    ['dependencies', 'optionalDependencies', 'peerDependencies'].flatMap((field) =>
      Object.keys((manifest[field] as Record<string, string> | undefined) ?? {}),
    ),
  );
  declared.add(manifest.name as string);
  const BARE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"./][^'"]*)\1/g;
  const missing = new Set<string>();
  for (const file of listFiles(join(dir, 'dist'))) {
    if (!file.endsWith('.js') || file.includes(`${sep}app${sep}`)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(BARE)) {
      const spec = m[2] as string;
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : (spec.split('/')[0] as string);
      if (!declared.has(name)) missing.add(`${name} (imported by ${relative(dir, file)})`);
    }
  }
  if (missing.size > 0) {
    throw new Error(
      `cannot assemble ${manifest.name as string}: it imports packages it does not declare: ${[...missing].join(', ')}`,
    );
  }
}

function assembleFull(out: string, runtimeDir: string, runtimeFiles: Set<string>): void {
  for (const file of listFiles(DIST)) {
    const rel = relative(DIST, file).split(sep).join('/');
    const js = rel.replace(/\.d\.ts$/, '.js');
    if (runtimeFiles.has(js) || rel.endsWith('.map')) continue;
    const target = join(out, 'dist', rel);
    mkdirSync(dirname(target), { recursive: true });
    if (/\.(js|d\.ts)$/.test(rel) && !rel.startsWith('app/'))
      writeFileSync(target, rewriteImports(readFileSync(file, 'utf8'), rel, runtimeFiles));
    else copyFileSync(file, target);
  }
  // vae-onnx/runtime is the runtime package, re-exported: one VaeModel class for the user and the server.
  for (const door of ['node', 'web']) {
    writeFileSync(join(out, 'dist', `runtime-${door}.js`), `export * from '${RUNTIME_PACKAGE}/${door}';\n`);
    writeFileSync(join(out, 'dist', `runtime-${door}.d.ts`), `export * from '${RUNTIME_PACKAGE}/${door}';\n`);
  }
  for (const name of readdirSync(join(ROOT, 'models'))) {
    const files = [
      ...SHIPPED_MODEL_FILES,
      ...(FP16_DECODER_MODELS.includes(name) ? ['decoder.fp16.onnx'] : []),
    ];
    for (const file of files) {
      const from = join(ROOT, 'models', name, file);
      if (existsSync(from)) copy(from, join(out, 'models', name, file));
    }
  }
  writeFileSync(join(out, 'README.md'), packageReadme(readFileSync(join(ROOT, 'README.md'), 'utf8')));
  for (const doc of SHIPPED_DOCS) copy(join(ROOT, doc), join(out, doc));
  copy(join(ROOT, 'LICENSE'), join(out, 'LICENSE'));
  // The runtime package travels inside this one (bundleDependencies), so that this tarball installs
  // alone: neither package is on the npm registry yet.
  cpSync(runtimeDir, join(out, 'node_modules', RUNTIME_PACKAGE), { recursive: true });
  const bundled = bundledVersions();
  const pinned = (names: string[]) =>
    Object.fromEntries(Object.entries(pick(names)).map(([n, range]) => [n, bundled[n] ?? range]));
  writeManifest(out, {
    name: 'vae-onnx',
    ...COMMON,
    description:
      'Train Variational Autoencoders with TensorFlow.js, export them to ONNX in TypeScript, and run them with onnxruntime in Node and in browsers. No Python.',
    keywords: [
      'vae',
      'variational-autoencoder',
      'onnx',
      'tensorflowjs',
      'tfjs',
      'tfjs-to-onnx',
      'onnxruntime',
      'anomaly-detection',
    ],
    bin: { vae: 'dist/cli/main.js' },
    exports: {
      './train': {
        node: entry('./dist/train/index.js'),
        browser: entry('./dist/train/browser.js'),
        default: entry('./dist/train/index.js'),
      },
      './export': {
        node: entry('./dist/export/index.js'),
        browser: entry('./dist/export/browser.js'),
        default: entry('./dist/export/index.js'),
      },
      './runtime': {
        node: entry('./dist/runtime-node.js'),
        browser: entry('./dist/runtime-web.js'),
        default: entry('./dist/runtime-web.js'),
      },
      './server': entry('./dist/server/index.js'),
      './package.json': './package.json',
    },
    files: ['dist', 'models', 'docs', 'README.md', 'LICENSE'],
    bundleDependencies: [RUNTIME_PACKAGE],
    dependencies: {
      [RUNTIME_PACKAGE]: rootPackage.version,
      // Exact versions for what the prebuilt app bundled; ranges for the rest.
      ...pinned([
        '@fastify/accepts',
        '@fastify/static',
        '@fastify/swagger',
        '@tensorflow/tfjs',
        '@tensorflow/tfjs-backend-wasm',
        '@tensorflow/tfjs-backend-webgpu',
        'fastify',
        'fastify-plugin',
        'fflate',
        'mnist',
        'onnx-proto',
        'onnxruntime-common',
        'onnxruntime-web',
        'pino',
        'pngjs',
        'prom-client',
      ]),
      // Fastify asks for light-my-request ^6; its newest 6.x pulls cookie@2, which declares Node >= 22
      // and makes npm warn on Node 20. Named here, 6.6.0 (cookie 1) is the copy npm places for Fastify too.
      'light-my-request': LIGHT_MY_REQUEST,
    },
    optionalDependencies: rootPackage.optionalDependencies,
    // Optional peers: onnxruntime-node (fast CPU and CUDA inference), playwright-core (vae parity's
    // Chromium rows drive Debian's chromium with it), vite (vae web --rebuild, in a checkout).
    peerDependencies: pick(OPTIONAL_PEERS),
    peerDependenciesMeta: Object.fromEntries(OPTIONAL_PEERS.map((n) => [n, { optional: true }])),
  });
}

/** The full package's optional peer dependencies. */
const OPTIONAL_PEERS = ['onnxruntime-node', 'playwright-core', 'vite'];

function pack(dir: string, destination: string): string {
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [info] = JSON.parse(output) as { filename: string }[];
  return join(destination, (info as { filename: string }).filename);
}

/** Builds (unless told not to), assembles and packs both packages; returns the tarballs' paths. */
export function buildPackages(options: { out?: string; skipBuild?: boolean } = {}): {
  runtime: string;
  full: string;
} {
  const out = resolve(options.out ?? join(ROOT, 'build'));
  if (!options.skipBuild) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(join(DIST, 'app', 'index.html')))
    throw new Error('cannot assemble the packages: dist/app is not built');
  rmSync(join(out, 'packages'), { recursive: true, force: true });
  const runtimeDir = join(out, 'packages', RUNTIME_PACKAGE);
  const fullDir = join(out, 'packages', 'vae-onnx');
  const closure = importClosure(['runtime/node.js', 'runtime/web.js']);
  assembleRuntime(runtimeDir, closure);
  assembleFull(fullDir, runtimeDir, closure);
  return { runtime: pack(runtimeDir, out), full: pack(fullDir, out) };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'skip-build': { type: 'boolean' } } });
  const result = buildPackages({
    ...(values.out ? { out: values.out } : {}),
    ...(values['skip-build'] ? { skipBuild: true } : {}),
  });
  for (const path of Object.values(result)) process.stdout.write(`${path} (${statSync(path).size} bytes)\n`);
}
