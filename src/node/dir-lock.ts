/**
 * One writer at a time per model directory: a `.lock` file made with O_EXCL names the process that
 * writes (its pid, host, command and start), and a second writer is refused naming it. A lock whose
 * process is gone (killed) is taken over; the file goes when the writer is done or exits.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ModelDirError } from '../core/model-dir.js';

/** The lock file's name in a model directory. */
export const LOCK_FILE = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/** A held lock; `release` removes it. */
export interface DirLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks held by this process, removed on exit whatever ends it short of SIGKILL. */
const held = new Set<string>();
process.once('exit', () => {
  for (const path of held) {
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as LockInfo).pid === process.pid) unlinkSync(path);
    } catch {
      // already gone
    }
  }
});

/**
 * Takes the lock of `dir` for `command` (e.g. "vae train").
 * @throws ModelDirError naming the lock file and the process that holds it.
 */
export async function lockModelDir(dir: string, command: string): Promise<DirLock> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${JSON.stringify(info)}\n`);
      await handle.close();
      held.add(path);
      return {
        release: async () => {
          held.delete(path);
          try {
            const now = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
            if (now.pid === process.pid) await unlink(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let other: LockInfo | undefined;
    try {
      other = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    } catch {
      other = undefined;
    }
    // A lock whose writer died (on this machine) is stale: take it over.
    if (other === undefined || (other.host === info.host && !alive(other.pid))) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    throw new ModelDirError(
      path,
      `cannot write ${dir}: another process is writing it (${other.command}, pid ${other.pid} on ${other.host === info.host ? 'this machine' : other.host}, since ${other.started}); wait for it to finish or stop it; if it is gone, delete ${path}`,
    );
  }
  throw new ModelDirError(path, `cannot write ${dir}: its lock ${path} could not be taken`);
}
