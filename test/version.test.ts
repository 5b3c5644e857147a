import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_VERSION } from '../src/core/version.js';

test('PACKAGE_VERSION is the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(PACKAGE_VERSION, pkg.version);
});
