/**
 * Several files of a model directory written as one unit: the new files are prepared beside the old
 * ones in a staging folder (`.commit-<id>/`), a COMMIT.json there marks the moment they are complete,
 * then each is renamed into place and the folder removed. A kill before the mark leaves the old files
 * (the staging folder is discarded at the next write); a kill after it leaves a commit that the next
 * writer finishes, and that readers already see whole (`committedPath` reads from the staging folder
 * what it still holds). So a model directory holds the old files or the new ones, never a mix.
 * Entries may be folders (the tfjs/ checkpoint): the old folder is moved aside, then the new one in.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { failpointWrite } from './failpoints.js';

const PREFIX = '.commit-';
const MARK = 'COMMIT.json';
/** Where a replaced folder goes inside the staging folder before it is removed. */
const REPLACED = '.replaced';

/** A commit's entries by name: the bytes of a file, or a file or folder prepared elsewhere on the same disk to move in. */
export type CommitEntries = Record<string, string | Uint8Array | { path: string }>;

/** The pending commits of `dir` (staging folders), oldest first by name. */
function stagingFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(PREFIX))
    .sort()
    .map((n) => join(dir, n));
}

/** The entries a complete commit lists, or undefined when its mark is not written (not committed). */
function markedEntries(staging: string): string[] | undefined {
  try {
    return (JSON.parse(readFileSync(join(staging, MARK), 'utf8')) as { entries: string[] }).entries;
  } catch {
    return undefined;
  }
}

/** Moves one entry of a marked commit into place (idempotent: a second call after a kill finishes it). */
async function moveIn(dir: string, staging: string, name: string): Promise<void> {
  const from = join(staging, name);
  if (!existsSync(from)) return; // moved already
  const to = join(dir, name);
  // A folder cannot be renamed over a folder: the old one goes aside first.
  if (existsSync(to) && statSync(to).isDirectory()) {
    const aside = join(staging, REPLACED, name);
    await mkdir(join(staging, REPLACED), { recursive: true });
    await rm(aside, { recursive: true, force: true });
    await rename(to, aside);
  }
  await rename(from, to);
}

/**
 * Finishes what an interrupted commit left in `dir`: a marked commit is completed (its entries moved
 * in), an unmarked one discarded. Called by every writer before it writes.
 * @returns the staging folders it dealt with.
 */
export async function recoverCommits(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (const staging of stagingFolders(dir)) {
    const entries = markedEntries(staging);
    if (entries) for (const name of entries) await moveIn(dir, staging, name);
    await rm(staging, { recursive: true, force: true });
    done.push(staging);
  }
  return done;
}

/**
 * Writes `entries` into `dir` as one unit (see the module's description).
 * @returns the entries' names.
 */
export async function commitEntries(dir: string, entries: CommitEntries): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await recoverCommits(dir);
  const staging = join(dir, `${PREFIX}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  const names = Object.keys(entries);
  for (const name of names) {
    const value = entries[name] as CommitEntries[string];
    if (typeof value === 'object' && 'path' in value) {
      await rename(value.path, join(staging, name));
    } else {
      await writeFile(join(staging, name), value);
      failpointWrite();
    }
  }
  // The commit point.
  await writeFileAtomic(join(staging, MARK), `${JSON.stringify({ entries: names })}\n`);
  for (const name of names) {
    await moveIn(dir, staging, name);
    failpointWrite();
  }
  await rm(staging, { recursive: true, force: true });
  return names;
}

/**
 * Where a reader finds `name` of `dir`: in a marked commit that is still being moved in (the newer
 * file), else in `dir` itself. Readers never write; they see the old files or the new ones.
 */
export function committedPath(dir: string, name: string): string {
  for (const staging of stagingFolders(dir).reverse()) {
    const entries = markedEntries(staging);
    if (entries?.includes(name) && existsSync(join(staging, name))) return join(staging, name);
  }
  return join(dir, name);
}
