/**
 * The packages as their users get them: `npm run package` packs vae-onnx-runtime and vae-onnx, and
 * fresh projects outside the repository install the tarballs with the README's own install lines,
 * their dependencies from the npm registry through an empty npm cache: what a new user resolves
 * today, the newest version every range allows. Then they are used as the READMEs say.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Browser, chromium } from 'playwright-core';
import { buildPackages } from '../scripts/build-packages.js';
import { CHROMIUM_ARGS } from '../src/web-app/chromium.js';
import {
  emptyProject,
  listFiles,
  newestInRange,
  npm,
  npmEnv,
  npmProject,
  resolvedVersion,
  staticServer,
  treeBytes,
  warnings,
} from './helpers/consumer.js';
import { tempDir } from './helpers/fixtures.js';
import { openApp } from './helpers/web-page.js';

const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const VITE = rootPackage.devDependencies.vite as string;
const ORT_WEB = rootPackage.dependencies['onnxruntime-web'] as string;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The consumer web app: samples from a model served beside it, on the backend its URL names. */
const MAIN_TS = `import { VaeModel, type WebLoadOptions } from 'vae-onnx-runtime';

const backend: WebLoadOptions['backend'] = new URLSearchParams(location.search).get('backend') === 'webgpu' ? 'webgpu' : 'wasm';
const app: { ready: boolean; error?: string; backend?: string; sample?: number[] } = { ready: false };
(window as unknown as { vaeApp: typeof app }).vaeApp = app;
VaeModel.load(new URL('model/', location.href).href, {
  backend,
  onProgress: (p) => {
    document.title = \`\${p.file}: \${p.loaded} of \${p.total ?? '?'} bytes\`;
  },
})
  .then(async (vae) => {
    const { x } = await vae.sample(4, { seed: 1 });
    const canvas = document.querySelector('canvas') as HTMLCanvasElement;
    const [, h = 0, w = 0] = x.shape;
    canvas.width = w;
    canvas.height = h;
    const image = canvas.getContext('2d')?.createImageData(w, h) as ImageData;
    for (let i = 0; i < w * h; i++) image.data.set([x.data[i]! * 255, x.data[i]! * 255, x.data[i]! * 255, 255], 4 * i);
    canvas.getContext('2d')?.putImageData(image, 0, 0);
    app.backend = vae.backend;
    app.sample = Array.from(x.data.subarray(0, 784));
    app.ready = true;
  })
  .catch((error: Error) => {
    app.error = error.message;
  });
`;

/** The README's install lines for a project: `npm install /path/to/checkout/build/<tarball>`. */
function readmeInstallLines(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Install'),
    readme.indexOf('\n## ', readme.indexOf('## Install') + 3),
  );
  return [...section.matchAll(/^npm install (\/path\/to\/checkout\/build\/\S+\.tgz)/gm)].map((m) => m[0]);
}

/** Runs one README install line in `dir`, the checkout's build/ being `built`. */
function runInstallLine(dir: string, line: string, built: string): string {
  const args = line.replace('/path/to/checkout/build/', `${built}/`).split(/\s+/).slice(1);
  return npm(dir, [...args, '--no-audit', '--no-fund']).output;
}

/** Each dependency of the installed package `name` resolved to the newest version its range allows today. */
function assertNewestInRange(t: { diagnostic(s: string): void }, project: string, name: string): void {
  const dir = join(project, 'node_modules', ...name.split('/'));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const seen: string[] = [];
  for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
    if (dep.startsWith('vae-onnx')) continue;
    const got = resolvedVersion(dir, dep);
    const newest = newestInRange(dep, range);
    assert.equal(
      got,
      newest,
      `${name} → ${dep}@${range}: installed ${got}, the registry's newest in range is ${newest}`,
    );
    seen.push(`${dep}@${got}`);
  }
  t.diagnostic(`${name} resolved: ${seen.join(', ')}`);
}

/** The relative links of a Markdown file that do not resolve to a file (or a heading) in its package. */
function brokenLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const headings = new Set(
    [...text.matchAll(/^#+ (.+)$/gm)].map((m) =>
      (m[1] as string)
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const broken: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1] as string;
    if (/^https?:/.test(target)) {
      // Our packages are not on the registry: a link to their npm page leads nowhere.
      if (/npmjs\.com\/package\/vae-onnx/.test(target)) broken.push(target);
      continue;
    }
    const [path, anchor] = target.split('#');
    if (path) {
      if (!existsSync(join(dirname(file), path))) broken.push(target);
    } else if (anchor && !headings.has(anchor)) broken.push(target);
  }
  return broken;
}

/** Process ids whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'))
    .map((l) => Number.parseInt(l.trim(), 10));
}

/** Waits for a line on `stream` that matches `pattern`; rejects when the process exits first. */
function waitForLine(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    child[stream]?.on('data', (d: Buffer) => {
      text += d.toString();
      const m = pattern.exec(text);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}: ${text}`)));
  });
}

describe('the packages as users get them', () => {
  let tarballs: { runtime: string; full: string };
  let built: string;
  let browser: Browser | undefined;
  const lines = readmeInstallLines();

  before(async () => {
    built = tempDir('vae-onnx-packages-');
    tarballs = buildPackages({ out: built });
    if (existsSync(CHROMIUM))
      browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  });
  after(async () => {
    await browser?.close();
  });

  test('the README names one install line per tarball, and the tarballs are those', () => {
    assert.equal(lines.length, 2, lines.join('\n'));
    const names = lines.map((l) => l.split('/').at(-1));
    assert.deepEqual(names.sort(), [tarballs.full, tarballs.runtime].map((p) => p.split('/').at(-1)).sort());
  });

  test('the tarballs: the runtime is small; the full package stays under 6.5 MB without checkpoints', (t) => {
    const runtime = statSync(tarballs.runtime).size;
    const full = statSync(tarballs.full).size;
    t.diagnostic(`vae-onnx-runtime ${runtime} bytes, vae-onnx ${full} bytes`);
    assert.ok(runtime < 100_000, `${runtime}`);
    // 5.4 MB of it are the ONNX files (floats, which gzip barely shrinks); the web app's Train panel
    // (TensorFlow.js) is 0.23 MB. The panel's digits are not in it: vae web writes them from mnist.
    assert.ok(full <= 6_500_000, `${full}`);
    const listing = spawnSync('tar', ['tzf', tarballs.full], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(listing, /digits\.bin/);
    assert.match(listing, /package\/models\/mnist-mini\/decoder\.onnx/);
    assert.match(listing, /package\/models\/mnist-mini\/decoder\.fp16\.onnx/);
    assert.match(listing, /package\/dist\/app\/index\.html/);
    assert.match(listing, /package\/node_modules\/vae-onnx-runtime\/dist\/runtime\/web\.js/);
    assert.doesNotMatch(listing, /package\/models\/.*\/tfjs\/|optimizer\.bin|\.map$|package\/src\//m);
  });

  test('the full package pins exactly what its prebuilt app bundled', () => {
    const manifest = JSON.parse(
      spawnSync('tar', ['xzOf', tarballs.full, 'package/package.json'], { encoding: 'utf8' }).stdout,
    ) as { dependencies: Record<string, string> };
    const bundled = JSON.parse(
      spawnSync('tar', ['xzOf', tarballs.full, 'package/dist/app/bundled.json'], { encoding: 'utf8' }).stdout,
    ) as { packages: Record<string, string> };
    for (const name of ['onnxruntime-web', '@tensorflow/tfjs-backend-wasm'])
      assert.ok(bundled.packages[name], `the app bundles ${name}`);
    for (const [name, version] of Object.entries(bundled.packages)) {
      if (name in manifest.dependencies) assert.equal(manifest.dependencies[name], version, name);
    }
  });

  describe('a Vite web app that installs only vae-onnx-runtime, as the README says', () => {
    let app: string;
    let install: string;
    let bare: string;
    let bareInstall: string;

    before(() => {
      app = tempDir('vae-onnx-webapp-');
      emptyProject(app);
      install = runInstallLine(app, lines.find((l) => l.includes('vae-onnx-runtime-')) as string, built);
      install += npm(app, ['install', '--no-audit', '--no-fund', `vite@${VITE}`]).output;
      bare = tempDir('vae-onnx-bare-');
      bareInstall = npmProject(bare, { 'onnxruntime-web': ORT_WEB, vite: VITE }).output;
      writeFileSync(
        join(app, 'index.html'),
        '<!doctype html><link rel="icon" href="data:,"><canvas></canvas><script type="module" src="./main.ts"></script>\n',
      );
      writeFileSync(join(app, 'main.ts'), MAIN_TS);
      mkdirSync(join(app, 'public', 'model'), { recursive: true });
      for (const file of ['decoder.onnx', 'card.json'])
        cpSync(join(ROOT, 'models', 'mnist-mini', file), join(app, 'public', 'model', file));
    });

    test('resolves the newest versions in range; no warning the bare onnxruntime-web app lacks; ≤ 1.1× its node_modules', (t) => {
      assertNewestInRange(t, app, 'vae-onnx-runtime');
      const ours = new Set(warnings(install));
      for (const line of warnings(bareInstall)) ours.delete(line);
      assert.deepEqual([...ours], []);
      const size = treeBytes(join(app, 'node_modules'));
      const bareSize = treeBytes(join(bare, 'node_modules'));
      t.diagnostic(
        `node_modules: ${size} bytes, bare onnxruntime-web + Vite app ${bareSize} (${(size / bareSize).toFixed(3)}×)`,
      );
      assert.ok(size <= 1.1 * bareSize, `${size} vs ${bareSize}`);
      for (const absent of ['onnxruntime-node', '@tensorflow', 'fastify', 'mnist'])
        assert.equal(existsSync(join(app, 'node_modules', absent)), false, absent);
      assert.deepEqual(brokenLinks(join(app, 'node_modules', 'vae-onnx-runtime', 'README.md')), []);
    });

    test('TypeScript (moduleResolution bundler) sees the browser door: backend "webgpu" and typed onProgress check', () => {
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            module: 'esnext',
            moduleResolution: 'bundler',
            lib: ['es2022', 'dom'],
            strict: true,
            noEmit: true,
            skipLibCheck: true,
          },
          include: ['main.ts'],
        }),
      );
      const r = spawnSync(process.execPath, [TSC, '-p', app], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    test('vite build, then the page draws with COOP/COEP on and off, on wasm and on WebGPU', {
      skip: !existsSync(CHROMIUM),
    }, async (t) => {
      const r = spawnSync(join(app, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
        cwd: app,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      for (const isolated of [true, false]) {
        const server = await staticServer(join(app, 'dist'), isolated);
        try {
          for (const backend of ['wasm', 'webgpu']) {
            const page = await openApp(browser as Browser, `${server.url}?backend=${backend}`, 30_000);
            try {
              const state = (await page.page.evaluate(
                '({ app: window.vaeApp, isolated: crossOriginIsolated })',
              )) as {
                app: { ready: boolean; error?: string; backend: string; sample: number[] };
                isolated: boolean;
              };
              t.diagnostic(
                `COOP/COEP ${isolated ? 'on' : 'off'}, ${backend}: ${state.app.backend ?? state.app.error}`,
              );
              assert.equal(state.app.error, undefined);
              assert.equal(state.isolated, isolated);
              assert.equal(state.app.backend, `onnxruntime-web-${backend}`);
              assert.ok(
                state.app.sample.some((v) => v > 0.5),
                'the sample has bright pixels',
              );
              assert.deepEqual(page.consoleErrors, []);
            } finally {
              await page.close();
            }
          }
        } finally {
          await server.close();
        }
      }
    });
  });

  describe('a Node project that installs vae-onnx alone, as the README says', () => {
    let dir: string;
    const models = () => join(dir, 'node_modules', 'vae-onnx', 'models');
    const vae = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(join(dir, 'node_modules', '.bin', 'vae'), args, {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    /** `npx vae ARGS` in the project, as the README runs it. */
    const npx = (args: string[], env: Record<string, string> = {}) =>
      spawn('npx', ['vae', ...args], { cwd: dir, env: npmEnv(env) });

    before(() => {
      dir = tempDir('vae-onnx-node-');
      emptyProject(dir);
      const output = runInstallLine(dir, lines.find((l) => /\/vae-onnx-\d/.test(l)) as string, built);
      assert.doesNotMatch(output, /npm (error|ERR)|EBADENGINE/, output);
    });

    test('resolves the newest versions in range; the READMEs and docs it ships have no broken link', (t) => {
      assertNewestInRange(t, dir, 'vae-onnx');
      assertNewestInRange(t, join(dir, 'node_modules', 'vae-onnx'), 'vae-onnx-runtime');
      const pkg = join(dir, 'node_modules', 'vae-onnx');
      const markdown = listFiles(pkg).filter((f) => f.endsWith('.md') && !f.includes('node_modules/'));
      assert.ok(
        markdown.includes('README.md') && markdown.includes(join('docs', 'serving.md')),
        markdown.join(),
      );
      for (const file of markdown) assert.deepEqual(brokenLinks(join(pkg, file)), [], file);
      const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
      assert.doesNotMatch(
        readme,
        /\n## (Set up this repository|Development|Layout|Architecture|Packages)\n|checkout-only/,
      );
    });

    test('ESM and CommonJS consumers run VaeModel on a shipped model, and require every subpath', () => {
      writeFileSync(
        join(dir, 'esm.mjs'),
        `import { VaeModel } from 'vae-onnx/runtime';
const vae = await VaeModel.load('node_modules/vae-onnx/models/mnist-mini');
const { x } = await vae.sample(2, { seed: 1 });
console.log(JSON.stringify({ backend: vae.backend, shape: x.shape }));
await vae.dispose();
`,
      );
      writeFileSync(
        join(dir, 'cjs.cjs'),
        `const { VaeModel } = require('vae-onnx/runtime');
const kinds = ['vae-onnx/export', 'vae-onnx/train', 'vae-onnx/server'].map((m) => typeof require(m));
VaeModel.load('node_modules/vae-onnx/models/fashion-mnist').then(async (vae) => {
  const { x } = await vae.sample(2, { seed: 1 });
  console.log(JSON.stringify({ backend: vae.backend, shape: x.shape, kinds }));
  await vae.dispose();
});
`,
      );
      for (const script of ['esm.mjs', 'cjs.cjs']) {
        const r = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { backend: string; shape: number[]; kinds?: string[] };
        assert.equal(out.backend, 'onnxruntime-web-wasm-node', 'without onnxruntime-node: WebAssembly');
        assert.deepEqual(out.shape, [2, 28, 28, 1]);
        if (out.kinds) assert.deepEqual(out.kinds, ['object', 'object', 'object']);
      }
    });

    test('vae --help lists the commands without loading an ML library; vae sample draws a PNG', (t) => {
      const started = performance.now();
      const help = vae(['--help']);
      t.diagnostic(`vae --help: ${(performance.now() - started).toFixed(0)} ms`);
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /train .*\n.*eval/);
      // A resolve hook that refuses the ML and server libraries: --help must not need them.
      writeFileSync(
        join(dir, 'refuse-heavy.mjs'),
        `export async function resolve(specifier, context, next) {
  if (/^(@tensorflow|onnxruntime|fastify|onnx-proto)/.test(specifier)) throw new Error('vae --help imported ' + specifier);
  return next(specifier, context);
}
`,
      );
      writeFileSync(
        join(dir, 'register.mjs'),
        "import { register } from 'node:module';\nregister('./refuse-heavy.mjs', import.meta.url);\n",
      );
      const main = join(dir, 'node_modules', 'vae-onnx', 'dist', 'cli', 'main.js');
      const light = spawnSync(process.execPath, ['--import', './register.mjs', main, '--help'], {
        cwd: dir,
        encoding: 'utf8',
      });
      assert.equal(light.status, 0, light.stderr);
      const heavy = spawnSync(process.execPath, ['--import', './register.mjs', main, 'train', '--help'], {
        cwd: dir,
        encoding: 'utf8',
      });
      assert.match(heavy.stderr, /imported (onnxruntime|@tensorflow)/, 'the hook does refuse them');
      const png = join(dir, 'samples.png');
      const sample = vae(['sample', join(models(), 'mnist-mini'), '--n', '4', '--png', png]);
      assert.equal(sample.status, 0, sample.stderr);
      assert.ok(statSync(png).size > 1000);
    });

    test('npx vae web: the shipped app draws on wasm and WebGPU with no console error, trains, exports and scores; SIGTERM to npx stops it', {
      skip: !existsSync(CHROMIUM),
    }, async (t) => {
      const cache = tempDir('vae-onnx-web-cache-');
      // fashion-mnist has no half-float decoder: the page must not ask for one (a 404 is a console error).
      const model = join(models(), 'fashion-mnist');
      const child = npx(['web', model, '--port', '0'], { XDG_CACHE_HOME: cache });
      try {
        const url = (await waitForLine(child, 'stdout', /at (http:\/\/\S+)/))[1] as string;
        const wasm = await fetch(new URL('ort/ort-wasm-simd-threaded.wasm', url), {
          headers: { 'accept-encoding': 'br' },
        });
        assert.equal(wasm.headers.get('content-encoding'), 'br');
        await wasm.arrayBuffer();
        for (const backend of ['wasm', 'webgpu']) {
          const page = await openApp(browser as Browser, `${url}?backend=${backend}`);
          try {
            const state = (await page.page.evaluate(
              '({ ready: window.vaeApp.ready, error: window.vaeApp.error, backend: window.vaeApp.backend })',
            )) as { ready: boolean; error?: string; backend: string };
            assert.equal(state.error, undefined);
            assert.equal(state.ready, true);
            assert.equal(state.backend, `onnxruntime-web-${backend}`);
            if (backend === 'wasm') {
              const trained = (await page.page.evaluate(`(async () => {
                await window.vaeApp.showPanel('train');
                const r = await window.vaeApp.train({ epochs: 1, limit: 256, batchSize: 64, backend: 'wasm' });
                return { negElbo: r.negElbo, encoder: r.encoderOnnx.length, decoder: r.decoderOnnx.length, zip: r.zip.length };
              })()`)) as { negElbo: number; encoder: number; decoder: number; zip: number };
              t.diagnostic(`trained in the page: ${JSON.stringify(trained)}`);
              assert.ok(trained.negElbo > 50 && trained.negElbo < 700, `${trained.negElbo}`);
              assert.ok(trained.encoder > 1000 && trained.decoder > 1000 && trained.zip > 1000);
              const drawn = (await page.page.evaluate('window.vaeApp.scribble(3)')) as
                | { score: number }
                | undefined;
              assert.ok(drawn && Number.isFinite(drawn.score), JSON.stringify(drawn));
            }
            assert.deepEqual(page.consoleErrors, []);
          } finally {
            await page.close();
          }
        }
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      // npx is gone at once; the server it started must follow (it watches its parent).
      const deadline = Date.now() + 10_000;
      while (processesWith(model).length > 0 && Date.now() < deadline) await delay(100);
      assert.deepEqual(processesWith(model), [], 'no vae web process is left');
    });

    test('vae parity runs its Chromium rows from the package with the shipped app once playwright-core is installed', {
      skip: !existsSync(CHROMIUM),
    }, () => {
      const model = join(models(), 'mnist-mini');
      const args = ['parity', model, '--runtimes', 'onnxruntime-web-wasm-chromium'];
      const without = vae([...args, '--require', 'onnxruntime-web-wasm-chromium']);
      assert.equal(without.status, 1, without.stdout + without.stderr);
      assert.match(without.stdout, /playwright-core is not installed.*npm install playwright-core/);
      npm(dir, [
        'install',
        '--no-audit',
        '--no-fund',
        `playwright-core@${rootPackage.devDependencies['playwright-core']}`,
      ]);
      const withIt = vae([...args, '--require', 'onnxruntime-web-wasm-chromium']);
      assert.equal(withIt.status, 0, withIt.stdout + withIt.stderr);
      assert.match(withIt.stdout, /onnxruntime-web-wasm-chromium\s+x_hat .* yes\n/);
      assert.match(withIt.stdout, /parity: ok/);
    });

    test('SIGTERM to npx vae serve: the server drains and exits, no process is left', async () => {
      const model = join(models(), 'mnist-mini');
      const child = npx(['serve', model, '--port', '0', '--drain-grace', '300']);
      const exited = new Promise((r) => child.once('exit', r));
      const url = JSON.parse((await waitForLine(child, 'stdout', /\{[^\n]*"msg":"ready"[^\n]*\}/))[0])
        .url as string;
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      const servers = processesWith(model);
      assert.ok(servers.length >= 1, 'the server runs');
      child.kill('SIGTERM');
      await exited;
      const deadline = Date.now() + 10_000;
      while (processesWith(model).length > 0 && Date.now() < deadline) await delay(100);
      assert.deepEqual(processesWith(model), [], 'no vae serve process is left');
      await assert.rejects(fetch(`${url}/healthz`), 'nothing listens any more');
    });

    test('onnxruntime-node installed as the README says: the CLI and the library run on it', () => {
      npm(
        dir,
        [
          'install',
          '--no-audit',
          '--no-fund',
          `onnxruntime-node@${rootPackage.devDependencies['onnxruntime-node']}`,
        ],
        {
          ONNXRUNTIME_NODE_INSTALL: 'skip',
        },
      );
      const r = spawnSync(process.execPath, ['esm.mjs'], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { backend: string }).backend, 'onnxruntime-node-cpu');
      const cuda = vae(['sample', join(models(), 'mnist-mini'), '--backend', 'cuda']);
      assert.equal(cuda.status, 1);
      assert.match(cuda.stderr, /cannot use backend "cuda": .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    });
  });
});
