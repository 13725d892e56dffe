// Chart data and export: a run's per-lane histories as uPlot's aligned columns, and a chart as a PNG.
import uPlot from 'uplot';
import type { EvalMetrics, StepMetrics } from '../../lab/api';
import { objectiveColor, OBJECTIVE_DASH } from '../app/objective-style';
import type { LaneHistory, RunData } from './run-data';

export type XAxis = 'step' | 'flops' | 'seconds';
/**
 * What a chart plots: each objective's own training loss (not comparable across objectives: a sum over
 * multi-token heads, diffusion's ELBO weights), held-out cross-entropy per target token (one scale for all), or
 * held-out exact match.
 */
export type Metric = 'loss' | 'heldOutLoss' | 'exactMatch';

/** Axis labels of each metric. */
export const METRIC_LABELS: Record<Metric, string> = {
  loss: 'Training loss',
  heldOutLoss: 'Cross-entropy, nats/token',
  exactMatch: 'Test exact match',
};

/** Whether a metric comes from the evaluations (else from the training steps). */
export const fromEvals = (metric: Metric): boolean => metric !== 'loss';

export const X_LABELS: Record<XAxis, string> = { step: 'Step', flops: 'Training FLOPs', seconds: 'Wall time (s)' };

function xOf(m: StepMetrics | EvalMetrics, axis: XAxis): number {
  return axis === 'step' ? m.step : m[axis];
}

/**
 * [x, y_lane0, y_lane1, …] for uPlot: one shared x column (steps, FLOPs or seconds) and one y column per lane, null
 * where a lane has no point at that x (lanes differ in FLOPs per step). Each lane's x must increase strictly.
 */
export function alignedSeries(run: RunData, metric: Metric, axis: XAxis): uPlot.AlignedData {
  const tables: uPlot.AlignedData[] = run.lanes.map((lane) => {
    const points: readonly (StepMetrics | EvalMetrics)[] = fromEvals(metric) ? lane.evals : lane.steps;
    const xs: number[] = [];
    const ys: number[] = [];
    for (const p of points) {
      const x = xOf(p, axis);
      const y = metric === 'loss' ? (p as StepMetrics).loss : (p as EvalMetrics)[metric];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (xs.length > 0 && x <= xs[xs.length - 1]!) continue;
      xs.push(x);
      ys.push(y);
    }
    return [xs, ys];
  });
  if (tables.length === 0) return [[]];
  return uPlot.join(tables);
}

/** The plot canvas under a title, with a legend drawn below it (uPlot's legend is HTML, not on the canvas). */
export function chartPng(
  plot: HTMLCanvasElement,
  title: string,
  lanes: readonly LaneHistory[],
  colors: { bg: string; fg: string },
) {
  const r = uPlot.pxRatio;
  const top = 30 * r;
  const rowH = 20 * r;
  const out = document.createElement('canvas');
  out.width = plot.width;
  out.height = plot.height + top + rowH * Math.max(1, lanes.length) + 8 * r;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = colors.fg;
  ctx.font = `600 ${15 * r}px system-ui, sans-serif`;
  ctx.fillText(title, 10 * r, 20 * r);
  ctx.drawImage(plot, 0, top);
  ctx.font = `${13 * r}px system-ui, sans-serif`;
  lanes.forEach((lane, i) => {
    const y = plot.height + top + rowH * (i + 0.6);
    ctx.strokeStyle = objectiveColor(lane.objective.kind);
    ctx.lineWidth = 2 * r;
    ctx.setLineDash(OBJECTIVE_DASH[lane.objective.kind].map((d) => d * r));
    ctx.beginPath();
    ctx.moveTo(12 * r, y - 4 * r);
    ctx.lineTo(40 * r, y - 4 * r);
    ctx.stroke();
    ctx.fillText(lane.label, 48 * r, y);
  });
  return out.toDataURL('image/png');
}
