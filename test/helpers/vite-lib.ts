import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

/**
 * Bundles `entry` with Vite in library mode (one ES module named `fileName`.js, resolved with the
 * browser conditions, as a page's bundler would) into `outDir`, and returns the names of the .js files
 * written.
 */
export async function buildLibrary(
  entry: string,
  outDir: string,
  options: { fileName: string; minify?: boolean; external?: (id: string) => boolean },
): Promise<string[]> {
  await build({
    logLevel: 'silent',
    configFile: false,
    root: join(import.meta.dirname, '..', '..'),
    resolve: { conditions: ['browser', 'import', 'module', 'default'] },
    build: {
      outDir,
      emptyOutDir: true,
      minify: options.minify ?? true,
      lib: { entry, formats: ['es'], fileName: options.fileName },
      rollupOptions: { external: options.external ?? (() => false) },
    },
  });
  return readdirSync(outDir).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
}
