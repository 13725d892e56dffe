// What a chart draws when a run was repeated over seeds: each objective's mean with its min–max band across the
// seeds, or every seed's own line; with one seed, one line per lane. Pure data (no DOM, no uPlot), so that the
// live chart (metric-chart.ts) and its SVG export (chart-svg.ts) draw the same lines, and tests read them.
import type { EvalMetrics, ObjectiveSpec, StepMetrics } from '../../lab/api';
import type { ObjectiveName } from '../../objectives/types';

export type XAxis = 'step' | 'flops' | 'tokens' | 'seconds';
/**
 * What a chart plots: each objective's own training loss (not comparable across objectives: a sum over
 * multi-token heads, diffusion's ELBO weights), held-out cross-entropy per target token (one scale for all), or
 * held-out exact match.
 */
export type Metric = 'loss' | 'heldOutLoss' | 'exactMatch';

/** Whether a metric comes from the evaluations (else from the training steps). */
export const fromEvals = (metric: Metric): boolean => metric !== 'loss';

/**
 * How the runs are drawn: a repetition over seeds as each objective's mean with its band, or every seed's line;
 * or runs of different experiments (the run history) overlaid, every lane of every run its own line.
 */
export type SeedView = 'band' | 'seeds' | 'runs';

/** One lane's history, as a run on the page or a finished seed's results hold it. */
export interface CurveLane {
  readonly label: string;
  readonly objective: ObjectiveSpec;
  readonly steps: readonly StepMetrics[];
  readonly evals: readonly EvalMetrics[];
}

/** One seed's run: its lanes, in the spec's order (lane j is the same objective in every seed). */
export interface SeedCurves {
  readonly seed: number;
  readonly lanes: readonly CurveLane[];
  /** The run's name, for the 'runs' view. */
  readonly name?: string;
}

/**
 * A line of the chart. role: a lane of a single run; an objective's mean over seeds and the low and high edges of
 * its band; one seed's lane. `lane` is the lane index (the objective), the same for a mean and its band's edges.
 */
export interface ChartLine {
  label: string;
  kind: ObjectiveName;
  role: 'lane' | 'mean' | 'low' | 'high' | 'seed' | 'run';
  lane: number;
  seed?: number;
  /** The 'runs' view: which run (its index in the runs given). */
  run?: number;
}

/**
 * The chart's columns as uPlot takes them (x first, then one column per line, null where a line has no point at
 * that x), the lines, and each band as the indexes of its high and low line in `lines`.
 */
export interface ChartModel {
  data: (number | null)[][];
  lines: ChartLine[];
  bands: { high: number; low: number }[];
}

function xOf(m: StepMetrics | EvalMetrics, axis: XAxis): number {
  if (axis === 'step') return m.step;
  if (axis === 'tokens') return m.tokens ?? NaN; // absent in files written before the lab counted tokens
  return m[axis];
}

/** A lane's (x, y) points of a metric: finite, x strictly increasing (a repeated x keeps its first point). */
export function lanePoints(lane: CurveLane, metric: Metric, axis: XAxis): [number[], number[]] {
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
}

/** y at x on the polyline (xs, ys), linear between points; null outside [xs[0], xs[last]]. */
function at(xs: number[], ys: number[], x: number): number | null {
  if (xs.length === 0 || x < xs[0]! || x > xs[xs.length - 1]!) return null;
  const hi = xs.findIndex((v) => v >= x); // ≥ 1 unless x is the first point
  if (xs[hi] === x) return ys[hi]!;
  const lo = hi - 1;
  const t = (x - xs[lo]!) / (xs[hi]! - xs[lo]!);
  return ys[lo]! + t * (ys[hi]! - ys[lo]!);
}

/** Columns on the union of the curves' x values, each curve null where it has no point. */
function join(curves: [number[], (number | null)[]][]): (number | null)[][] {
  const xs = [...new Set(curves.flatMap(([x]) => x))].sort((a, b) => a - b);
  return [
    xs,
    ...curves.map(([cx, cy]) => {
      const byX = new Map(cx.map((x, i) => [x, cy[i] ?? null]));
      return xs.map((x) => byX.get(x) ?? null);
    }),
  ];
}

/**
 * The chart of `runs` (one per seed; one run: its lanes). 'band': per objective the mean over the seeds and the
 * band from their lowest to their highest value. The seeds are read at the union of their x values, each by linear
 * interpolation between its own points (on steps, tokens and FLOPs the seeds share their evaluation points, so no
 * value is interpolated there; on wall time they do not), and a seed counts only inside its own x range: beyond the
 * end of a seed still running, the band is that of the seeds that got there. 'seeds': every seed's own line.
 */
export function chartModel(runs: readonly SeedCurves[], metric: Metric, axis: XAxis, view: SeedView): ChartModel {
  const first = runs[0];
  if (!first) return { data: [[]], lines: [], bands: [] };
  const kind = (j: number) => first.lanes[j]!.objective.kind;
  if (runs.length === 1 && view !== 'runs') {
    const curves = first.lanes.map((l) => lanePoints(l, metric, axis));
    const lines = first.lanes.map((l, j): ChartLine => ({ label: l.label, kind: kind(j), role: 'lane', lane: j }));
    return { data: join(curves), lines, bands: [] };
  }
  if (view === 'runs') {
    const curves: [number[], number[]][] = [];
    const lines: ChartLine[] = [];
    runs.forEach((r, i) =>
      r.lanes.forEach((l, j) => {
        curves.push(lanePoints(l, metric, axis));
        const label = `${r.name ?? `run ${i + 1}`} · ${l.label}`;
        lines.push({ label, kind: l.objective.kind, role: 'run', lane: j, seed: r.seed, run: i });
      }),
    );
    return { data: join(curves), lines, bands: [] };
  }
  const lanes = Math.min(...runs.map((r) => r.lanes.length));
  if (view === 'seeds') {
    const curves: [number[], number[]][] = [];
    const lines: ChartLine[] = [];
    for (let j = 0; j < lanes; j++) {
      for (const r of runs) {
        curves.push(lanePoints(r.lanes[j]!, metric, axis));
        lines.push({
          label: `${first.lanes[j]!.label} · seed ${r.seed}`,
          kind: kind(j),
          role: 'seed',
          lane: j,
          seed: r.seed,
        });
      }
    }
    return { data: join(curves), lines, bands: [] };
  }
  const curves: [number[], (number | null)[]][] = [];
  const lines: ChartLine[] = [];
  const bands: ChartModel['bands'] = [];
  for (let j = 0; j < lanes; j++) {
    const perSeed = runs.map((r) => lanePoints(r.lanes[j]!, metric, axis));
    const xs = [...new Set(perSeed.flatMap(([x]) => x))].sort((a, b) => a - b);
    const mean: (number | null)[] = [];
    const low: (number | null)[] = [];
    const high: (number | null)[] = [];
    for (const x of xs) {
      const vs = perSeed.map(([sx, sy]) => at(sx, sy, x)).filter((v): v is number => v !== null);
      mean.push(vs.length ? vs.reduce((a, v) => a + v, 0) / vs.length : null);
      low.push(vs.length ? Math.min(...vs) : null);
      high.push(vs.length ? Math.max(...vs) : null);
    }
    const label = first.lanes[j]!.label;
    const n = runs.length;
    curves.push([xs, mean], [xs, low], [xs, high]);
    lines.push(
      { label: `${label}: mean of ${n} seeds`, kind: kind(j), role: 'mean', lane: j },
      { label: `${label}: lowest`, kind: kind(j), role: 'low', lane: j },
      { label: `${label}: highest`, kind: kind(j), role: 'high', lane: j },
    );
    bands.push({ high: lines.length - 1, low: lines.length - 2 });
  }
  return { data: join(curves), lines, bands };
}
