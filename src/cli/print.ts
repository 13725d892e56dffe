// What the command line prints: the adapter's kernels, a run's results table and the summary over seeds.
import type { AdapterReport, LaneResult, Probes } from '../lab/api';
import type { SeedSummary, Spread } from '../lab/seeds';

/**
 * ` — matmul kernels NAME (known|cached|timed now), row reductions NAME (…), MLP activations f32|f16 (…)`: which
 * kernels run, and whether timing them cost this run.
 */
export function kernelsText(a: AdapterReport): string {
  const how = (source: string) => (source === 'timed' ? 'timed now, cached for next time' : source);
  const v = a.matmulVariant;
  const r = a.reductionVariant;
  const rows = r ? `, row reductions ${r.name} (${r.source === 'unavailable' ? 'no subgroups' : how(r.source)})` : '';
  const s = a.activationStorage;
  const acts = s ? `, MLP activations ${s.name} (${s.source === 'unavailable' ? 'no shader-f16' : how(s.source)})` : '';
  return v ? ` — matmul kernels ${v.name} (${how(v.source)})${rows}${acts}` : '';
}

export const fmtPct = (x: number | null): string => (x === null || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);
/** Accuracies per position; a position with none (a head's before its offset) is ` -  `. */
export const fmtPositions = (xs: readonly (number | null)[]): string =>
  `[${xs.map((x) => (x === null ? ' -  ' : x.toFixed(2))).join(' ')}]`;
export const fmtInterval = ([lo, hi]: [number, number]): string => `${(100 * lo).toFixed(0)}–${(100 * hi).toFixed(0)}%`;
/** When the lane first reached 90%; '-' for an evaluation alone, which cannot say. */
const fmtTime90 = (r: LaneResult, evaluationOnly: boolean): string =>
  evaluationOnly ? '-' : r.timeTo90 ? `step ${r.timeTo90.step}, ${r.timeTo90.seconds.toFixed(0)} s` : 'not reached';

function printRows(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

/** The results table; `evaluationOnly`: weights evaluated, not trained here (no time to 90%). */
export function printTable(results: LaneResult[], evaluationOnly = false): void {
  printRows(
    [
      'objective',
      'exact',
      '95% interval',
      'valid-wrong',
      'decision',
      'teacher-forced per position',
      'free-running per position',
      'held-out CE',
      'time to 90%',
      'steps',
      'GFLOP',
      'seconds',
    ],
    results.map((r) => [
      r.objective,
      fmtPct(r.exactMatch),
      fmtInterval(r.exactMatchInterval),
      fmtPct(r.validWrongFraction),
      fmtPct(r.decisionTokenAccuracy),
      fmtPositions(r.perPosition.teacherForced),
      fmtPositions(r.perPosition.freeRunning),
      r.heldOutLoss.toFixed(3),
      fmtTime90(r, evaluationOnly),
      String(r.steps),
      (r.flops / 1e9).toFixed(1),
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The probes, one line per lane and probe, where any lane has one: accuracy per target position with the tokens
 * after i given (goal-side), with only i masked (single-mask), and each multi-token head at its own offset.
 */
export function printProbes(rows: { objective: string; probes?: Probes }[]): void {
  const lines: string[][] = [];
  for (const { objective, probes } of rows) {
    if (!probes) continue;
    if (probes.goalSide) lines.push([objective, 'goal-side teacher forcing', fmtPositions(probes.goalSide)]);
    if (probes.singleMask) lines.push([objective, 'only this position masked', fmtPositions(probes.singleMask)]);
    probes.heads?.forEach((h, k) => lines.push([objective, `head ${k + 1} (token t+${k + 1})`, fmtPositions(h)]));
  }
  if (lines.length === 0) return;
  console.log('');
  printRows(['objective', 'probe', 'accuracy per target position'], lines);
}

export function printSummary(summary: SeedSummary[]): void {
  const ms = (s: Spread | null) =>
    s === null
      ? '-'
      : `${(100 * s.mean).toFixed(1)}% ± ${(100 * s.sd).toFixed(1)} (${(100 * s.min).toFixed(0)}–${(100 * s.max).toFixed(0)})`;
  printRows(
    [
      'objective',
      'exact match: mean ± sd (min–max)',
      'decision',
      'teacher-forced after decision',
      'reached 90%',
      'at steps',
    ],
    summary.map((s) => [
      s.objective,
      ms(s.exactMatch),
      ms(s.decisionTokenAccuracy),
      ms(s.afterDecisionTeacherForced),
      `${s.reached90.count}/${s.seeds.length}`,
      s.reached90.steps.map((x) => x ?? '-').join(', '),
    ]),
  );
}
