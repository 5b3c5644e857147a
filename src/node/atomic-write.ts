import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A failpoint for crash tests: with VAE_ONNX_KILL_AT_WRITE=n in the environment, the process kills
 * itself (SIGKILL) when the n-th atomic write of the process has written its temporary file and not
 * yet renamed it: the worst moment, cut exactly. test/crash-consistency.test.ts uses it.
 */
const KILL_AT_WRITE = Number(process.env.VAE_ONNX_KILL_AT_WRITE ?? 0);
let writes = 0;

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
    if (KILL_AT_WRITE > 0 && ++writes === KILL_AT_WRITE) process.kill(process.pid, 'SIGKILL');
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
