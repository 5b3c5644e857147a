/**
 * Reading zip archives with bounds, for model zips a user is handed: the central directory first,
 * then only the entries asked for, each inflated into a buffer of the size it declares (an entry that
 * inflates to more is refused, so a zip bomb costs at most its declared sizes, which are capped), and
 * its CRC-32 checked. Duplicate names and encrypted or ZIP64 entries are refused. The archive is read
 * through `RandomAccess`, so a large file is never read whole.
 */
import { inflateSync } from 'fflate';
import { crc32 } from './crc32.js';
import { ModelDirError } from './model-dir.js';

/** Reads `length` bytes at `offset` of an archive of `size` bytes (a file, a Blob, bytes in memory). */
export interface RandomAccess {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** An archive in memory as RandomAccess. */
export function bytesAccess(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
  };
}

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** The most bytes each entry, and all entries read together, may inflate to. */
export interface ZipLimits {
  maxEntryBytes: number;
  maxTotalBytes: number;
}

/** Default limits: 256 MiB per entry, 512 MiB in all (a model's files are far smaller). */
export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
});

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function damaged(where: string, reason: string): ModelDirError {
  return new ModelDirError(where, `cannot load ${where}: the zip is damaged (${reason})`);
}

/**
 * The central directory of an archive: its entries in order.
 * @throws ModelDirError naming `where` for an archive that is not a readable zip, a duplicate name,
 *   or an entry this reader does not read (encrypted, ZIP64).
 */
export async function readZipDirectory(src: RandomAccess, where: string): Promise<ZipEntry[]> {
  // The end-of-central-directory record sits in the last 22 + 65535 bytes (its comment is at most 64 KiB).
  const tailLength = Math.min(src.size, 22 + 65_535);
  const tail = await src.read(src.size - tailLength, tailLength);
  const tv = view(tail);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw damaged(where, 'no end-of-central-directory record: it is truncated or not a zip');
  const count = tv.getUint16(at + 10, true);
  const cdSize = tv.getUint32(at + 12, true);
  const cdOffset = tv.getUint32(at + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new ModelDirError(
      where,
      `cannot load ${where}: it is a ZIP64 archive, which is far larger than a model zip needs to be; zip the model directory alone`,
    );
  }
  if (cdOffset + cdSize > src.size)
    throw damaged(where, 'its central directory lies past the end of the file');
  const cd = await src.read(cdOffset, cdSize);
  const cv = view(cd);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  const decoder = new TextDecoder();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL)
      throw damaged(where, `central directory entry ${i} is malformed`);
    const flags = cv.getUint16(p + 8, true);
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength));
    const entry: ZipEntry = {
      name,
      method: cv.getUint16(p + 10, true),
      crc32: cv.getUint32(p + 16, true),
      compressedSize: cv.getUint32(p + 20, true),
      size: cv.getUint32(p + 24, true),
      localHeaderOffset: cv.getUint32(p + 42, true),
    };
    if (flags & 1) throw new ModelDirError(where, `cannot load ${where}: its entry ${name} is encrypted`);
    if (
      entry.size === 0xffffffff ||
      entry.compressedSize === 0xffffffff ||
      entry.localHeaderOffset === 0xffffffff
    ) {
      throw new ModelDirError(
        where,
        `cannot load ${where}: its entry ${name} is a ZIP64 entry (over 4 GiB), far larger than a model file`,
      );
    }
    if (seen.has(name)) {
      throw new ModelDirError(
        where,
        `cannot load ${where}: it holds two entries named ${name}; which one is the model's is unclear: zip the model directory again`,
      );
    }
    seen.add(name);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * The bytes of one entry, inflated into a buffer of its declared size and checked against its CRC-32.
 * `budget` is what the caller may still inflate; the entry's size is taken from it.
 * @throws ModelDirError naming the zip and the entry when it is over a limit, inflates to another
 *   size than it declares, or its CRC-32 differs.
 */
export async function readZipEntry(
  src: RandomAccess,
  entry: ZipEntry,
  where: string,
  limits: ZipLimits,
  budget: { left: number },
): Promise<Uint8Array> {
  const what = `${where}: its entry ${entry.name}`;
  if (entry.size > limits.maxEntryBytes) {
    throw new ModelDirError(
      where,
      `cannot load ${what} declares ${entry.size} bytes, more than the ${limits.maxEntryBytes} one model file may have`,
    );
  }
  if (entry.size > budget.left) {
    throw new ModelDirError(
      where,
      `cannot load ${what} would take the files read from the zip past ${limits.maxTotalBytes} bytes in all`,
    );
  }
  budget.left -= entry.size;
  const header = await src.read(entry.localHeaderOffset, 30);
  const hv = view(header);
  if (header.length < 30 || hv.getUint32(0, true) !== LOCAL)
    throw damaged(where, `the local header of ${entry.name} is missing`);
  const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (start + entry.compressedSize > src.size)
    throw damaged(where, `${entry.name} runs past the end of the file`);
  const data = await src.read(start, entry.compressedSize);
  let bytes: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size)
      throw damaged(where, `${entry.name} is stored with two different sizes`);
    bytes = data;
  } else if (entry.method === 8) {
    // One byte more than declared: an entry that fills it inflates to more than it says.
    try {
      bytes = inflateSync(data, { out: new Uint8Array(entry.size + 1) });
    } catch (error) {
      throw damaged(where, `${entry.name} does not inflate: ${(error as Error).message}`);
    }
    if (bytes.length !== entry.size) {
      throw new ModelDirError(
        where,
        `cannot load ${what} inflates to ${bytes.length > entry.size ? 'more' : 'fewer'} bytes than the ${entry.size} it declares: the zip is damaged or made to mislead`,
      );
    }
  } else {
    throw new ModelDirError(
      where,
      `cannot load ${what} is compressed with method ${entry.method}; only stored and deflated entries are read`,
    );
  }
  if (crc32(bytes) !== entry.crc32) {
    throw damaged(where, `${entry.name} fails its CRC-32 check: its bytes are not those that were zipped`);
  }
  return bytes;
}
