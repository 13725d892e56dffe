// Turns a run's per-lane histories into uPlot's aligned columns: one shared x column (steps, FLOPs or seconds)
// and one y column per lane, with nulls where a lane has no point at that x (lanes differ in FLOPs per step).
import uPlot from 'uplot';
import type { EvalMetrics, StepMetrics } from '../lab/api';
import type { RunData } from './run-data';

export type XAxis = 'step' | 'flops' | 'seconds';
export type Metric = 'loss' | 'exactMatch';

export const X_LABELS: Record<XAxis, string> = { step: 'Step', flops: 'Training FLOPs', seconds: 'Wall time (s)' };

function xOf(m: StepMetrics | EvalMetrics, axis: XAxis): number {
  return axis === 'step' ? m.step : m[axis];
}

/** [x, y_lane0, y_lane1, …] for uPlot; each lane's x values are strictly increasing before joining. */
export function alignedSeries(run: RunData, metric: Metric, axis: XAxis): uPlot.AlignedData {
  const tables: uPlot.AlignedData[] = run.lanes.map((lane) => {
    const points: (StepMetrics | EvalMetrics)[] = metric === 'loss' ? lane.steps : lane.evals;
    const xs: number[] = [];
    const ys: number[] = [];
    for (const p of points) {
      const x = xOf(p, axis);
      const y = metric === 'loss' ? (p as StepMetrics).loss : (p as EvalMetrics).exactMatch;
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
