// Chart labels, and a chart as a PNG (the lines themselves: seed-curves.ts).
import uPlot from 'uplot';
import { objectiveColor, OBJECTIVE_DASH } from '../app/objective-style';
import type { ChartLine, Metric, XAxis } from './seed-curves';

export { fromEvals, type Metric, type XAxis } from './seed-curves';

/** Axis labels of each metric. */
export const METRIC_LABELS: Record<Metric, string> = {
  loss: 'Training loss',
  heldOutLoss: 'Cross-entropy, nats/token',
  exactMatch: 'Test exact match',
};

export const X_LABELS: Record<XAxis, string> = {
  step: 'Step',
  flops: 'Training FLOPs',
  tokens: 'Training tokens',
  seconds: 'Wall time (s)',
};

/** Overlaid runs' dash patterns, one a run in turn (the colour stays its objective's). */
const RUN_DASH = [[], [8, 4], [2, 3], [12, 3, 2, 3], [5, 5], [1, 2]];

/**
 * How a chart line is drawn: a lane or a mean in full, a seed's own line thin, a band's edges faint; an overlaid
 * run's lines in their objective's colour with the run's dash.
 */
export function lineStyle(line: ChartLine, dark: boolean): { color: string; dash: number[]; width: number } {
  const color = objectiveColor(line.kind, dark);
  if (line.role === 'low' || line.role === 'high') return { color: `${color}66`, dash: [], width: 0.5 };
  if (line.role === 'run') return { color, dash: RUN_DASH[(line.run ?? 0) % RUN_DASH.length]!, width: 1.5 };
  return { color, dash: OBJECTIVE_DASH[line.kind], width: line.role === 'seed' ? 1 : 2 };
}

/** A band's fill: its objective's colour, faint. */
export const bandFill = (line: ChartLine, dark: boolean): string => `${objectiveColor(line.kind, dark)}26`;

/** Whether a line has a row in a legend drawn for print (a band's edges are shown by its shading). */
export const inPrintLegend = (line: ChartLine): boolean => line.role !== 'low' && line.role !== 'high';

/** The plot canvas under a title, with a legend drawn below it (uPlot's legend is HTML, not on the canvas). */
export function chartPng(
  plot: HTMLCanvasElement,
  title: string,
  lines: readonly ChartLine[],
  colors: { bg: string; fg: string },
) {
  const rows = lines.filter(inPrintLegend);
  const r = uPlot.pxRatio;
  const top = 30 * r;
  const rowH = 20 * r;
  const out = document.createElement('canvas');
  out.width = plot.width;
  out.height = plot.height + top + rowH * Math.max(1, rows.length) + 8 * r;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = colors.fg;
  ctx.font = `600 ${15 * r}px system-ui, sans-serif`;
  ctx.fillText(title, 10 * r, 20 * r);
  ctx.drawImage(plot, 0, top);
  ctx.font = `${13 * r}px system-ui, sans-serif`;
  rows.forEach((line, i) => {
    const y = plot.height + top + rowH * (i + 0.6);
    const style = lineStyle(line, false);
    if (line.role === 'mean') {
      ctx.fillStyle = bandFill(line, false);
      ctx.fillRect(12 * r, y - 10 * r, 28 * r, 12 * r);
      ctx.fillStyle = colors.fg;
    }
    ctx.strokeStyle = style.color;
    ctx.lineWidth = style.width * r;
    ctx.setLineDash(style.dash.map((d) => d * r));
    ctx.beginPath();
    ctx.moveTo(12 * r, y - 4 * r);
    ctx.lineTo(40 * r, y - 4 * r);
    ctx.stroke();
    ctx.fillText(line.role === 'mean' ? `${line.label} (shaded: lowest to highest seed)` : line.label, 48 * r, y);
  });
  return out.toDataURL('image/png');
}
