import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { DataError } from '../errors.js';

/** One file of a downloadable dataset and its published MD5. */
export interface RemoteFile {
  name: string;
  md5: string;
}

/** Where a dataset can be downloaded from: mirrors tried in order, and the files with their checksums. */
export interface RemoteDataset {
  mirrors: readonly string[];
  files: readonly RemoteFile[];
}

/** The canonical addresses and published MD5s of the IDX datasets the trainer knows by name. */
export const REMOTE_DATASETS: Readonly<Record<string, RemoteDataset>> = Object.freeze({
  'fashion-mnist': {
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    ],
  },
  mnist: {
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    ],
  },
});

/** Options of `downloadDataset`. */
export interface DownloadOptions {
  /** The fetch to use (tests pass one bound to a local server). Default: global fetch. */
  fetch?: typeof fetch;
  /** Called after each file arrives and is verified. */
  onFile?: (file: string, bytes: number) => void;
}

/**
 * Downloads every file of `remote` that `dir` lacks, verifying each file's MD5 before it is
 * written (atomically). A file whose checksum does not match is never written.
 * @throws DataError listing every mirror tried and why it failed.
 */
export async function downloadDataset(
  name: string,
  remote: RemoteDataset,
  dir: string,
  options: DownloadOptions = {},
): Promise<void> {
  const get = options.fetch ?? fetch;
  for (const file of remote.files) {
    const target = join(dir, file.name);
    if (existsSync(target)) continue;
    const failures: string[] = [];
    let done = false;
    for (const mirror of remote.mirrors) {
      const url = new URL(file.name, mirror).href;
      try {
        const response = await get(url, { signal: AbortSignal.timeout(120_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const bytes = new Uint8Array(await response.arrayBuffer());
        const md5 = createHash('md5').update(bytes).digest('hex');
        if (md5 !== file.md5) throw new Error(`checksum mismatch: MD5 ${md5}, expected ${file.md5}`);
        await writeFileAtomic(target, bytes);
        options.onFile?.(file.name, bytes.length);
        done = true;
        break;
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause?.message;
        failures.push(`${url}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
      }
    }
    if (!done)
      throw new DataError(
        `cannot download dataset "${name}": ${file.name} failed from every mirror: ${failures.join('; ')}`,
      );
  }
}
