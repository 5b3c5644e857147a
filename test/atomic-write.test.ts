import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeFileAtomic } from '../src/node/atomic-write.js';
import { tempDir } from './helpers/fixtures.js';

describe('writeFileAtomic', () => {
  test('writes, creating folders, and replaces an existing file', async () => {
    const dir = tempDir();
    const path = join(dir, 'a', 'b', 'f.txt');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    assert.equal(readFileSync(path, 'utf8'), 'two');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['f.txt']);
  });

  test('a failed write leaves the earlier content and no temporary file', async () => {
    const dir = tempDir();
    const target = join(dir, 'target');
    // A folder in the target's place makes the final rename fail after the data was written.
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'earlier');
    await assert.rejects(writeFileAtomic(target, 'new'));
    assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'earlier');
    assert.deepEqual(readdirSync(dir), ['target']);
  });
});
