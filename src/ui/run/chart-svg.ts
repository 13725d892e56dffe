// A chart as a standalone SVG file, for papers and slides: the same columns the live uPlot chart draws
// (seed-curves.ts chartModel), one path per line in its objective's colour and dash, evaluation points as dots,
// bands (the spread over seeds) shaded between their edges, linear axes with their ticks and labels, the title above
// and the legend below. No DOM: a string, so it is
// unit-tested and written the same way in a Worker or a page.
import type uPlot from 'uplot';

export interface SvgSeries {
  label: string;
  color: string;
  /** uPlot's dash pattern: [] solid. */
  dash: number[];
  /** Stroke width (2 when absent). */
  width?: number;
  /** Whether the legend has a row for it (a band's edges have none: the shading shows them); true when absent. */
  legend?: boolean;
}

export interface SvgChart {
  title: string;
  xLabel: string;
  yLabel: string;
  data: uPlot.AlignedData;
  series: SvgSeries[];
  /** Shaded areas between two series (indexes into `series`), drawn under the lines. */
  bands?: { high: number; low: number; fill: string }[];
  /** Dots at each point (evaluations), or a line alone (training steps). */
  points: boolean;
  /** The y range, or null to fit the data (from 0 when nothing is below it). */
  yRange: [number, number] | null;
  xFormat: (v: number) => string;
  yFormat: (v: number) => string;
}

const W = 720;
const H = 360;
const M = { left: 64, right: 16, top: 36, bottom: 44 };
const ROW = 18;

/** Escape text for XML content and attributes. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** About five round ticks covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const finite = (xs: readonly (number | null | undefined)[]) =>
  xs.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

/** The chart as an SVG document. */
export function chartSvg(c: SvgChart): string {
  const xs = (c.data[0] ?? []) as readonly number[];
  const ys = c.data.slice(1) as readonly (readonly (number | null | undefined)[])[];
  const allX = finite(xs);
  const allY = ys.flatMap((col) => finite(col));
  const [x0, x1] = allX.length ? [Math.min(...allX), Math.max(...allX)] : [0, 1];
  const [y0, yTop] = c.yRange ?? (allY.length ? [Math.min(0, ...allY), Math.max(...allY)] : [0, 1]);
  const y1 = yTop > y0 ? yTop : y0 + 1;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (x: number) => M.left + (x1 > x0 ? ((x - x0) / (x1 - x0)) * plotW : plotW / 2);
  const py = (y: number) => M.top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(2);
  const legendRows = c.series.filter((s) => s.legend !== false);
  const height = H + ROW * legendRows.length + 8;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${esc(c.title)}</title>`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="600">${esc(c.title)}</text>`,
  ];
  for (const t of niceTicks(y0, y1)) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${esc(c.yFormat(t))}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1)) {
    parts.push(
      `<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`,
      `<text x="${f(px(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(c.xFormat(t))}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + plotW / 2}" y="${H - 8}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  const finiteAt = (col: readonly (number | null | undefined)[], j: number): number | null => {
    const y = col[j];
    return typeof y === 'number' && Number.isFinite(y) && Number.isFinite(xs[j]) ? y : null;
  };
  // Each band: the high edge left to right, then the low edge back, over the x where both have a value.
  for (const b of c.bands ?? []) {
    const hi = ys[b.high] ?? [];
    const lo = ys[b.low] ?? [];
    const js = xs.map((_, j) => j).filter((j) => finiteAt(hi, j) !== null && finiteAt(lo, j) !== null);
    if (js.length < 2) continue;
    const ring = [...js.map((j) => [px(xs[j]!), py(hi[j]!)]), ...js.reverse().map((j) => [px(xs[j]!), py(lo[j]!)])];
    const d = ring.map(([x, y], k) => `${k ? 'L' : 'M'}${f(x!)} ${f(y!)}`).join(' ');
    parts.push(
      `<path data-band="${esc(c.series[b.high]?.label ?? '')}" d="${d} Z" fill="${esc(b.fill)}" stroke="none"/>`,
    );
  }
  let row = 0;
  c.series.forEach((s, i) => {
    const col = ys[i] ?? [];
    const pts: [number, number][] = [];
    xs.forEach((x, j) => {
      const y = finiteAt(col, j);
      if (y !== null) pts.push([px(x), py(y)]);
    });
    const dash = s.dash.length ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    const width = s.width ?? 2;
    const dots = c.points && s.legend !== false;
    const d = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${f(x)} ${f(y)}`).join(' ');
    parts.push(
      `<g data-series="${esc(s.label)}" data-points="${pts.length}">`,
      `<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="${width}"${dash}/>`,
      ...(dots ? pts.map(([x, y]) => `<circle cx="${f(x)}" cy="${f(y)}" r="2.5" fill="${esc(s.color)}"/>`) : []),
      `</g>`,
    );
    if (s.legend === false) return;
    const ly = H + ROW * (row++ + 0.7);
    parts.push(
      `<line x1="12" x2="40" y1="${ly - 4}" y2="${ly - 4}" stroke="${esc(s.color)}" stroke-width="${width}"${dash}/>`,
      `<text x="48" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
