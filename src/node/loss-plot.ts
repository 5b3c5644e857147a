/** One line of a plot: its name, colour and y value per x (null where there is none). */
export interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

function niceRange(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Draws series over x = 1..n as an SVG line chart with axes, ticks and a legend (the loss curves of
 * a training run: x is the epoch).
 */
export function lineChartSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
): string {
  const width = 640;
  const height = 400;
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const n = Math.max(...series.map((s) => s.values.length), 1);
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const [y0, y1] = all.length > 0 ? niceRange(all) : [0, 1];
  const px = (i: number) => m.left + (n === 1 ? 0.5 : i / (n - 1)) * (width - m.left - m.right);
  const py = (v: number) => m.top + (1 - (v - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  ];
  for (let t = 0; t <= 5; t++) {
    const v = y0 + ((y1 - y0) * t) / 5;
    parts.push(
      `<line x1="${m.left - 4}" y1="${py(v).toFixed(1)}" x2="${width - m.right}" y2="${py(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${m.left - 8}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`,
    );
  }
  const xStep = Math.max(1, Math.ceil(n / 10));
  for (let i = 0; i < n; i += xStep) {
    parts.push(
      `<text x="${px(i).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${i + 1}</text>`,
    );
  }
  series.forEach((s, k) => {
    const points = s.values
      .map((v, i) => (v === null || !Number.isFinite(v) ? null : `${px(i).toFixed(1)},${py(v).toFixed(1)}`))
      .filter((p): p is string => p !== null);
    if (points.length > 1)
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const p of points) {
      const [x, y] = p.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${s.color}"/>`);
    }
    const ly = m.top + 8 + 18 * k;
    parts.push(
      `<line x1="${width - m.right - 150}" y1="${ly}" x2="${width - m.right - 130}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${width - m.right - 124}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
