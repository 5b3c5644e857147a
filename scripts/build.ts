/**
 * `npm run build`: compiles src/ to dist/ (JavaScript and declarations, no source maps: the package
 * does not ship src/) and builds the web app into dist/app with Vite.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildWebApp } from '../src/web-app/build.js';

const root = join(import.meta.dirname, '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
await buildWebApp(join(root, 'dist', 'app'));
