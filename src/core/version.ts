import { createRequire } from 'node:module';

/** This package's version, read from its package.json (two levels up from both src/ and dist/). */
export const PACKAGE_VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;
