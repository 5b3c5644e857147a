/** Images the user gives the page (files, a dropped folder), as examples of one shape. */
import type { Images } from './context.js';

/** Image file names (PNG, JPEG). */
export const IMAGE_FILES = /\.(png|jpe?g)$/i;

/**
 * The files in a drop whose names match `accept` (images unless told): files as they are, folders
 * walked (entries of the File System API).
 */
export async function droppedFiles(
  items: DataTransferItemList,
  accept: RegExp = IMAGE_FILES,
): Promise<File[]> {
  const entries = [...items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      files.push(
        await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)),
      );
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
          reader.readEntries(resolve, reject),
        );
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return files.filter((f) => accept.test(f.name));
}

/**
 * Makes the element `zone` take drops: it is marked `over` while files hover, and the dropped files
 * whose names match `accept` (folders walked) go to `take`.
 */
export function acceptDrops(zone: HTMLElement, accept: RegExp, take: (files: File[]) => unknown): void {
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer) void droppedFiles(event.dataTransfer.items, accept).then(take);
  });
}

/**
 * Reads image files into examples of `shape` ([H, W, C], C 1 or 3): each image resized to H×W in the
 * page (smoothed), grey for C = 1, values in [0, 1]; with `invert`, an image whose mean is above 0.5
 * (dark strokes on a light background) is inverted, so that strokes are bright as in MNIST.
 * @returns the examples, and the names of files that could not be read.
 */
export async function readImages(
  files: readonly File[],
  shape: readonly [number, number, number],
  invert: boolean,
): Promise<Images & { skipped: string[] }> {
  const [H, W, C] = shape;
  const canvas = new OffscreenCanvas(W, H);
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D;
  const images = new Float32Array(files.length * H * W * C);
  const skipped: string[] = [];
  let count = 0;
  for (const file of files) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      skipped.push(file.name);
      continue;
    }
    ctx.clearRect(0, 0, W, H);
    ctx.drawImage(bitmap, 0, 0, W, H);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, W, H).data;
    const out = images.subarray(count * H * W * C, (count + 1) * H * W * C);
    for (let p = 0; p < H * W; p++) {
      const alpha = (rgba[4 * p + 3] as number) / 255;
      const rgb = [0, 1, 2].map((k) => ((rgba[4 * p + k] as number) / 255) * alpha);
      if (C === 1)
        out[p] = 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
      else for (let k = 0; k < C; k++) out[p * C + k] = rgb[k] as number;
    }
    if (invert && out.reduce((a, b) => a + b, 0) / out.length > 0.5) {
      for (let i = 0; i < out.length; i++) out[i] = 1 - (out[i] as number);
    }
    count++;
  }
  return { images: images.subarray(0, count * H * W * C), shape: [H, W, C], count, skipped };
}
