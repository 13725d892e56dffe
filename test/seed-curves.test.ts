// The chart's lines over seeds: a mean and its min–max band per objective, or every seed's own line; one run's
// lanes as they are; and the Clever Hans view's spread per position. Values checked by hand.
import { describe, expect, test } from 'vitest';
import type { EvalMetrics, LaneResult, ObjectiveSpec, StepMetrics } from '../src/lab/api';
import { positionSpread } from '../src/lab/seeds';
import { chartModel, lanePoints, type CurveLane, type SeedCurves } from '../src/ui/run/seed-curves';

const ntp: ObjectiveSpec = { kind: 'ntp' };
const rev: ObjectiveSpec = { kind: 'reverse' };

/** Evaluations at these steps with these exact matches; seconds = step·secondsPerStep; tokens = 64·step. */
function evals(steps: number[], exact: number[], secondsPerStep = 1): EvalMetrics[] {
  return steps.map(
    (step, i) =>
      ({
        lane: 0,
        objective: 'ntp',
        step,
        flops: step * 1e9,
        tokens: step * 64,
        seconds: step * secondsPerStep,
        exactMatch: exact[i]!,
        heldOutLoss: 1 - exact[i]!,
      }) as EvalMetrics,
  );
}

function lane(objective: ObjectiveSpec, label: string, ev: EvalMetrics[], steps: StepMetrics[] = []): CurveLane {
  return { label, objective, steps, evals: ev };
}

const seed = (s: number, a: number[], b: number[], secondsPerStep = 1): SeedCurves => ({
  seed: s,
  lanes: [
    lane(ntp, 'Next-token', evals([100, 200, 300], a, secondsPerStep)),
    lane(rev, 'Reverse', evals([100, 200, 300], b, secondsPerStep)),
  ],
});

describe('chartModel', () => {
  test('one run: its lanes, one line each, no band', () => {
    const m = chartModel([seed(1, [0, 0.5, 0.5], [0.2, 0.9, 1])], 'exactMatch', 'step', 'band');
    expect(m.lines.map((l) => [l.label, l.role])).toEqual([
      ['Next-token', 'lane'],
      ['Reverse', 'lane'],
    ]);
    expect(m.data).toEqual([
      [100, 200, 300],
      [0, 0.5, 0.5],
      [0.2, 0.9, 1],
    ]);
    expect(m.bands).toEqual([]);
  });

  test('over seeds: per objective the mean, the lowest and the highest seed, and a band between them', () => {
    const runs = [
      seed(1, [0, 0.5, 0.5], [0.2, 0.9, 1]),
      seed(2, [0, 0.4, 0.6], [0.4, 1, 1]),
      seed(3, [0.3, 0.6, 0.4], [0, 0.8, 1]),
    ];
    const m = chartModel(runs, 'exactMatch', 'step', 'band');
    expect(m.lines.map((l) => [l.label, l.role, l.lane])).toEqual([
      ['Next-token: mean of 3 seeds', 'mean', 0],
      ['Next-token: lowest', 'low', 0],
      ['Next-token: highest', 'high', 0],
      ['Reverse: mean of 3 seeds', 'mean', 1],
      ['Reverse: lowest', 'low', 1],
      ['Reverse: highest', 'high', 1],
    ]);
    expect(m.bands).toEqual([
      { high: 2, low: 1 },
      { high: 5, low: 4 },
    ]);
    expect(m.data[0]).toEqual([100, 200, 300]);
    const near = (xs: (number | null)[], want: number[]) => want.forEach((w, i) => expect(xs[i]).toBeCloseTo(w, 12));
    near(m.data[1]!, [0.1, 0.5, 0.5]);
    near(m.data[2]!, [0, 0.4, 0.4]);
    near(m.data[3]!, [0.3, 0.6, 0.6]);
    near(m.data[4]!, [0.2, 0.9, 1]);
    near(m.data[5]!, [0, 0.8, 1]);
    near(m.data[6]!, [0.4, 1, 1]);
  });

  test('every seed: one line per objective and seed, labelled with its seed', () => {
    const runs = [seed(4, [0, 1, 1], [1, 1, 1]), seed(9, [0, 0, 1], [0, 1, 1])];
    const m = chartModel(runs, 'exactMatch', 'step', 'seeds');
    expect(m.lines.map((l) => [l.label, l.seed])).toEqual([
      ['Next-token · seed 4', 4],
      ['Next-token · seed 9', 9],
      ['Reverse · seed 4', 4],
      ['Reverse · seed 9', 9],
    ]);
    expect(m.data.slice(1)).toEqual([
      [0, 1, 1],
      [0, 0, 1],
      [1, 1, 1],
      [0, 1, 1],
    ]);
  });

  test('on wall time the seeds are read between their own points; a seed counts only inside its own range', () => {
    // Seed 1 evaluates at 100, 200, 300 s; seed 2 twice as slowly, at 200, 400, 600 s.
    const runs = [seed(1, [0, 0.5, 1], [0, 0, 0]), seed(2, [0, 1, 1], [0, 0, 0], 2)];
    const m = chartModel(runs, 'exactMatch', 'seconds', 'band');
    expect(m.data[0]).toEqual([100, 200, 300, 400, 600]);
    // At 100 s only seed 1 has begun; at 200 s seed 1 is at 0.5 and seed 2 at 0; at 300 s seed 2 is half-way to 1.
    expect(m.data[1]).toEqual([0, 0.25, 0.75, 1, 1]);
    expect(m.data[2]).toEqual([0, 0, 0.5, 1, 1]);
    expect(m.data[3]).toEqual([0, 0.5, 1, 1, 1]);
  });

  test('tokens: the x the lanes report; points without it (older files) are left out', () => {
    const old = seed(1, [0, 0.5, 1], [0, 0, 0]);
    const stripped: SeedCurves = {
      seed: 1,
      lanes: old.lanes.map((l) => ({ ...l, evals: l.evals.map(({ tokens: _t, ...e }) => e as EvalMetrics) })),
    };
    expect(lanePoints(old.lanes[0]!, 'exactMatch', 'tokens')[0]).toEqual([6400, 12800, 19200]);
    expect(lanePoints(stripped.lanes[0]!, 'exactMatch', 'tokens')).toEqual([[], []]);
  });

  test('the training loss comes from the steps; a non-finite value or a repeated x is skipped', () => {
    const steps = [1, 2, 2, 3, 4].map(
      (step, i) => ({ step, loss: [2, 1.8, 1.5, 1, NaN][i]!, flops: step, seconds: step }) as StepMetrics,
    );
    const l = lane(ntp, 'Next-token', [], steps);
    expect(lanePoints(l, 'loss', 'step')).toEqual([
      [1, 2, 3],
      [2, 1.8, 1],
    ]);
  });

  test('no runs: an empty chart', () => {
    expect(chartModel([], 'loss', 'step', 'band')).toEqual({ data: [[]], lines: [], bands: [] });
  });
});

describe('positionSpread', () => {
  const result = (tf: number[], fr: number[]) =>
    ({ perPosition: { teacherForced: tf, freeRunning: fr } }) as LaneResult;
  test("per position, the mean, lowest and highest of the seeds' final accuracies, lane by lane", () => {
    const runs = [
      { results: [result([1, 0.5, 1], [1, 0.4, 0.4]), result([1, 1, 1], [1, 1, 1])] },
      { results: [result([1, 0.3, 0.9], [1, 0.5, 0.5]), result([1, 1, 1], [1, 0.9, 0.9])] },
    ];
    const s = positionSpread(runs, 0);
    expect(s.teacherForced.map((x) => [x!.mean, x!.min, x!.max])).toEqual([
      [1, 1, 1],
      [0.4, 0.3, 0.5],
      [0.95, 0.9, 1],
    ]);
    expect(s.freeRunning[1]!.values).toEqual([0.4, 0.5]);
    expect(positionSpread(runs, 1).freeRunning.map((x) => x!.min)).toEqual([1, 0.9, 0.9]);
  });

  test('a position some seed lacks has no spread', () => {
    const runs = [{ results: [result([1, 0.5], [1])] }, { results: [result([1, 0.7], [1, 0.2])] }];
    const s = positionSpread(runs, 0);
    expect(s.teacherForced.map((x) => x?.mean ?? null)).toEqual([1, 0.6]);
    expect(s.freeRunning.map((x) => x?.mean ?? null)).toEqual([1, null]);
  });
});
