import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { failpointWrite } from './failpoints.js';

/**
 * Writes a file atomically: the bytes go to a temporary file in the same folder, which is then
 * renamed over the target. A crash leaves either the old file or the new one, never half of one
 * (and a `.tmp-*` file, which the trainer removes when it next runs in the directory).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, data);
    failpointWrite();
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
