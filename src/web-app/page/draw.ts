/**
 * Draws images with values in [0, 1] (x_hat of a VAE, [N, H, W, C] with C = 1 or 3) into a canvas as
 * a grid, each pixel scaled up. Browser-only; no dependency.
 */
export function drawGrid(
  canvas: HTMLCanvasElement,
  images: Float32Array,
  shape: readonly number[],
  columns: number,
  scale = 3,
): void {
  const [n = 0, h = 1, w = 1, c = 1] = shape;
  const rows = Math.ceil(n / columns);
  const pad = 2;
  canvas.width = columns * (w * scale + pad) + pad;
  canvas.height = rows * (h * scale + pad) + pad;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = '#222';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const tile = ctx.createImageData(w, h);
  const scratch = document.createElement('canvas');
  scratch.width = w;
  scratch.height = h;
  const sctx = scratch.getContext('2d');
  if (!sctx) return;
  ctx.imageSmoothingEnabled = false;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < 3; k++) {
        const v = images[(i * h * w + p) * c + (c === 1 ? 0 : k)] as number;
        tile.data[4 * p + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
      tile.data[4 * p + 3] = 255;
    }
    sctx.putImageData(tile, 0, 0);
    ctx.drawImage(
      scratch,
      pad + (i % columns) * (w * scale + pad),
      pad + Math.floor(i / columns) * (h * scale + pad),
      w * scale,
      h * scale,
    );
  }
}
