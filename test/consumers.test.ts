/**
 * The packages as their users get them: `npm run package` packs vae-onnx-runtime and vae-onnx, and
 * fresh projects outside the repository install the tarballs from disk (their dependencies from the
 * npm registry) and use them as the READMEs say.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { buildPackages } from '../scripts/build-packages.js';
import { CHROMIUM_ARGS } from '../src/node/web-server.js';
import { npm, npmProject, staticServer, treeBytes, warnings } from './helpers/consumer.js';
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

describe('the packages as users get them', () => {
  let tarballs: { runtime: string; full: string };
  let browser: Browser | undefined;

  before(async () => {
    tarballs = buildPackages({ out: tempDir('vae-onnx-packages-') });
    if (existsSync(CHROMIUM))
      browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  });
  after(async () => {
    await browser?.close();
  });

  test('the tarballs: the runtime is small; the full package stays under 6.2 MB without checkpoints', (t) => {
    const runtime = statSync(tarballs.runtime).size;
    const full = statSync(tarballs.full).size;
    t.diagnostic(`vae-onnx-runtime ${runtime} bytes, vae-onnx ${full} bytes`);
    assert.ok(runtime < 100_000, `${runtime}`);
    // 5.4 MB of it are the ONNX files (floats, which gzip barely shrinks); the web app's Train panel
    // (TensorFlow.js) is 0.23 MB. The panel's digits are not in it: vae web writes them from mnist.
    assert.ok(full <= 6_200_000, `${full}`);
    const listing = spawnSync('tar', ['tzf', tarballs.full], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(listing, /digits\.bin/);
    assert.match(listing, /package\/models\/mnist-mini\/decoder\.onnx/);
    assert.match(listing, /package\/models\/mnist-mini\/decoder\.fp16\.onnx/);
    assert.match(listing, /package\/dist\/app\/index\.html/);
    assert.doesNotMatch(listing, /package\/models\/.*\/tfjs\/|optimizer\.bin|\.map$|package\/src\//m);
  });

  describe('a Vite web app that installs only vae-onnx-runtime', () => {
    let app: string;
    let install: string;
    let bare: string;
    let bareInstall: string;

    before(() => {
      app = tempDir('vae-onnx-webapp-');
      install = npmProject(app, { 'vae-onnx-runtime': tarballs.runtime, vite: VITE }).output;
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

    test('installs with no warning the bare onnxruntime-web app does not have, in ≤ 1.1× its node_modules', (t) => {
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

  describe('a Node project that installs vae-onnx', () => {
    let dir: string;
    const models = () => join(dir, 'node_modules', 'vae-onnx', 'models');
    const vae = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(join(dir, 'node_modules', '.bin', 'vae'), args, {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });

    before(() => {
      dir = tempDir('vae-onnx-node-');
      const { output } = npmProject(dir, { 'vae-onnx': tarballs.full, 'vae-onnx-runtime': tarballs.runtime });
      assert.doesNotMatch(output, /npm (error|ERR)|EBADENGINE/, output);
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
const kinds = ['vae-onnx/export', 'vae-onnx/train', 'vae-onnx/server', 'vae-onnx-runtime'].map((m) => typeof require(m));
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
        if (out.kinds) assert.deepEqual(out.kinds, ['object', 'object', 'object', 'object']);
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

    test('vae web serves the shipped app, compressed, and it draws', {
      skip: !existsSync(CHROMIUM),
    }, async () => {
      const cache = tempDir('vae-onnx-web-cache-');
      const child = spawn(
        join(dir, 'node_modules', '.bin', 'vae'),
        ['web', join(models(), 'mnist-mini'), '--port', '0'],
        {
          cwd: dir,
          env: { ...process.env, XDG_CACHE_HOME: cache },
        },
      );
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /at (http:\/\/\S+)/.exec(out);
            if (m) resolve(m[1] as string);
          });
          child.once('exit', (code) => reject(new Error(`vae web exited with ${code}: ${out}`)));
        });
        const wasm = await fetch(new URL('ort/ort-wasm-simd-threaded.wasm', url), {
          headers: { 'accept-encoding': 'br' },
        });
        assert.equal(wasm.headers.get('content-encoding'), 'br');
        await wasm.arrayBuffer();
        const page = await openApp(browser as Browser, url);
        try {
          const state = (await page.page.evaluate(
            '({ ready: window.vaeApp.ready, error: window.vaeApp.error })',
          )) as {
            ready: boolean;
            error?: string;
          };
          assert.equal(state.error, undefined);
          assert.equal(state.ready, true);
          assert.deepEqual(page.consoleErrors, []);
        } finally {
          await page.close();
        }
      } finally {
        child.kill('SIGINT');
        await new Promise((r) => child.once('exit', r));
      }
    });

    test('onnxruntime-node installed as the README says: the CLI and the library run on it', () => {
      npm(
        dir,
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
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
