/** Small canvas plots for the panels: a loss curve, a bar chart of a latent code, a histogram. */

const INK = '#222';
const GRID = '#ddd';

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D | undefined {
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = '11px system-ui, sans-serif';
  return ctx;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

/**
 * A loss curve: one point per step (light) and its running mean over `smooth` steps (dark), with
 * the y range and a faint line at each epoch's end.
 */
export function drawLossCurve(
  canvas: HTMLCanvasElement,
  losses: readonly number[],
  epochEnds: readonly number[],
  smooth = 10,
): void {
  const ctx = context(canvas);
  if (!ctx || losses.length === 0) return;
  const left = 44;
  const bottom = canvas.height - 18;
  const width = canvas.width - left - 8;
  const height = bottom - 8;
  // The first steps' losses (hundreds of nats above the rest) would flatten the curve: clip at the 2nd percentile's 4x range.
  const sorted = [...losses].sort((a, b) => a - b);
  const low = sorted[Math.floor(sorted.length * 0.02)] as number;
  const high = Math.min(
    sorted[sorted.length - 1] as number,
    low + 4 * Math.max(1, (sorted[Math.floor(sorted.length / 2)] as number) - low) + 1,
  );
  const x = (i: number) => left + (losses.length === 1 ? 0 : (i / (losses.length - 1)) * width);
  const y = (v: number) => bottom - ((Math.min(v, high) - low) / Math.max(1e-9, high - low)) * height;
  ctx.strokeStyle = GRID;
  for (const end of epochEnds) {
    ctx.beginPath();
    ctx.moveTo(x(end - 1), 8);
    ctx.lineTo(x(end - 1), bottom);
    ctx.stroke();
  }
  ctx.fillStyle = INK;
  ctx.fillText(fmt(high), 4, 14);
  ctx.fillText(fmt(low), 4, bottom);
  ctx.fillText(`${losses.length} steps`, left, canvas.height - 4);
  const line = (values: readonly number[], color: string) => {
    ctx.strokeStyle = color;
    ctx.beginPath();
    values.forEach((v, i) => {
      if (i === 0) ctx.moveTo(x(i), y(v));
      else ctx.lineTo(x(i), y(v));
    });
    ctx.stroke();
  };
  line(losses, '#bbb');
  const mean = losses.map((_, i) => {
    const from = Math.max(0, i - smooth + 1);
    return losses.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
  });
  line(mean, '#1565c0');
  ctx.fillStyle = '#1565c0';
  ctx.fillText(`now ${fmt(mean[mean.length - 1] as number)}`, canvas.width - 70, 14);
}

/** A latent code as bars: μ per dimension with ±σ whiskers, on a −3…3 scale. */
export function drawCode(canvas: HTMLCanvasElement, mu: ArrayLike<number>, logvar: ArrayLike<number>): void {
  const ctx = context(canvas);
  if (!ctx) return;
  const L = mu.length;
  const mid = canvas.height / 2;
  const scale = (canvas.height / 2 - 12) / 3;
  const step = (canvas.width - 16) / L;
  ctx.strokeStyle = GRID;
  ctx.beginPath();
  ctx.moveTo(8, mid);
  ctx.lineTo(canvas.width - 8, mid);
  ctx.stroke();
  for (let d = 0; d < L; d++) {
    const m = Math.max(-3, Math.min(3, mu[d] as number));
    const s = Math.exp(0.5 * (logvar[d] as number));
    const cx = 8 + d * step + step / 2;
    ctx.fillStyle = '#1565c0';
    ctx.fillRect(cx - step * 0.3, Math.min(mid, mid - m * scale), step * 0.6, Math.abs(m * scale));
    ctx.strokeStyle = INK;
    ctx.beginPath();
    ctx.moveTo(cx, mid - Math.min(3, m + s) * scale);
    ctx.lineTo(cx, mid - Math.max(-3, m - s) * scale);
    ctx.stroke();
  }
  ctx.fillStyle = INK;
  ctx.fillText('+3', 2, 12);
  ctx.fillText('−3', 2, canvas.height - 3);
}

/**
 * A histogram of a score's distribution on the model's own held-out data, from its calibration
 * table (values at the probabilities `probabilities`), with a line at `value` ("yours") and a dashed
 * one at `threshold` (past it: unusual). `label` names the data.
 */
export function drawScores(
  canvas: HTMLCanvasElement,
  table: readonly number[],
  probabilities: readonly number[],
  value: number | undefined,
  threshold: number | undefined,
  label: string,
): void {
  const ctx = context(canvas);
  if (!ctx || table.length < 2) return;
  // The 0.5th to 99.5th percentile spans the bins; the histogram is drawn from the table's mass.
  const lo = table[1] as number;
  const hi = Math.max(table[table.length - 2] as number, value ?? -Infinity, threshold ?? -Infinity);
  const bins = 30;
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i + 1 < table.length; i++) {
    const mass = (probabilities[i + 1] as number) - (probabilities[i] as number);
    const mid = ((table[i] as number) + (table[i + 1] as number)) / 2;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((mid - lo) / width)));
    counts[bin] = (counts[bin] as number) + mass;
  }
  const top = Math.max(...counts) || 1;
  const left = 8;
  const bottom = canvas.height - 18;
  const binWidth = (canvas.width - 16) / bins;
  ctx.fillStyle = '#90a4ae';
  counts.forEach((c, i) => {
    const h = (c / top) * (bottom - 20);
    ctx.fillRect(left + i * binWidth, bottom - h, binWidth - 1, h);
  });
  ctx.fillStyle = INK;
  ctx.fillText(fmt(lo), left, canvas.height - 4);
  ctx.fillText(fmt(hi), canvas.width - 40, canvas.height - 4);
  ctx.fillText(label, left, 12);
  const xOf = (v: number) => left + ((Math.min(v, hi) - lo) / (hi - lo || 1)) * (canvas.width - 16);
  if (threshold !== undefined) {
    ctx.strokeStyle = INK;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(xOf(threshold), 16);
    ctx.lineTo(xOf(threshold), bottom);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (value === undefined) return;
  const xv = xOf(value);
  ctx.strokeStyle = '#b00020';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(xv, 16);
  ctx.lineTo(xv, bottom);
  ctx.stroke();
  ctx.lineWidth = 1;
  ctx.fillStyle = '#b00020';
  ctx.fillText('yours', Math.min(xv + 3, canvas.width - 34), 28);
}
