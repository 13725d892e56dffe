// The page's run snapshots (src/ui/run/run-data.ts): every change makes a new RunData, the old one stays as it was
// (Lit redraws on a new object, and a view holding an old snapshot must not see it change), and lanes a change does
// not touch keep their arrays (a training step must not copy every lane's history).
import { describe, expect, it } from 'vitest';
import type { ExperimentSpec, LabEvent, LaneResult, StepMetrics } from '../src/lab/api';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import { RunData } from '../src/ui/run/run-data';

const spec: ExperimentSpec = { ...DEFAULT_EXPERIMENT, objectives: [{ kind: 'ntp' }, { kind: 'reverse' }] };

const step = (lane: number, n: number): LabEvent => ({
  type: 'step',
  metrics: { lane, objective: 'ntp', step: n, loss: 1 / n, lr: 1e-3, tokensPerSecond: 100, flops: n, seconds: n },
});

describe('RunData', () => {
  it('makes a new snapshot for each batch of events and leaves the old one as it was', () => {
    const a = RunData.begin(spec);
    const b = a.withEvents([step(0, 1), step(0, 2), { type: 'state', state: 'running' }]);
    expect(b).not.toBe(a);
    expect(b.identity).toBe(a.identity);
    expect(a.state).toBe('starting');
    expect(a.lanes[0]!.steps).toHaveLength(0);
    expect(b.state).toBe('running');
    expect(b.lanes[0]!.steps.map((m: StepMetrics) => m.step)).toEqual([1, 2]);
    expect(Object.isFrozen(b)).toBe(true);
    expect(a.withEvents([])).toBe(a);
  });

  it('a run over seeds trained together: its first seed as the run, each other seed in its own lanes, results split', () => {
    const seeded = (lane: number, n: number, seed: number): LabEvent => {
      const e = step(lane, n) as { type: 'step'; metrics: StepMetrics };
      return { type: 'step', metrics: { ...e.metrics, seed } };
    };
    const a = RunData.begin(spec, { seeds: [4, 7, 9] });
    expect(a.spec.train.seed).toBe(4);
    expect([...a.seedLanes.keys()]).toEqual([7, 9]);
    const b = a.withEvents([seeded(0, 1, 4), seeded(1, 1, 7), seeded(1, 2, 7), seeded(0, 1, 9)]);
    expect(b.lanes.map((l) => l.steps.length)).toEqual([1, 0]);
    expect(b.seedLanes.get(7)!.map((l) => l.steps.length)).toEqual([0, 2]);
    expect(b.seedLanes.get(9)!.map((l) => l.steps.length)).toEqual([1, 0]);
    expect(b.seedLanes.get(9)![1]).toBe(a.seedLanes.get(9)![1]); // untouched lanes keep their arrays
    const result = (lane: number, seed: number) =>
      ({ lane, seed, objective: 'ntp', exactMatch: seed / 10 }) as LaneResult;
    const done = b.finished([4, 7, 9].flatMap((s) => [result(0, s), result(1, s)]));
    expect(done.results!.map((r) => r.exactMatch)).toEqual([0.4, 0.4]);
    expect(done.results![0]).not.toHaveProperty('seed');
    expect(done.seedResults!.map((r) => [r.seed, r.results.map((x) => x.exactMatch)])).toEqual([
      [4, [0.4, 0.4]],
      [7, [0.7, 0.7]],
      [9, [0.9, 0.9]],
    ]);
    expect(RunData.begin(spec).finished([result(0, 1)]).seedResults).toBeNull();
  });

  it('shares the lanes and arrays a batch does not touch', () => {
    const a = RunData.begin(spec).withEvents([step(0, 1), step(1, 1)]);
    const b = a.withEvents([step(0, 2)]);
    expect(b.lanes[1]).toBe(a.lanes[1]);
    expect(b.lanes[0]!.evals).toBe(a.lanes[0]!.evals);
    expect(b.lanes[0]!.steps).not.toBe(a.lanes[0]!.steps);
    const c = b.withEvents([{ type: 'log', message: 'hello' }]);
    expect(c.lanes).toBe(b.lanes);
    expect(c.log).toBe('hello');
  });

  it('keeps a stop the user asked for as stopped, and a non-finite lane as a failure', () => {
    const stopping = RunData.begin(spec)
      .withEvents([{ type: 'state', state: 'running' }])
      .withState('stopping');
    expect(stopping.withEvents([{ type: 'state', state: 'done' }]).state).toBe('stopping');
    expect(stopping.finished([] as LaneResult[]).state).toBe('stopped');
    const error = RunData.begin(spec).withEvents([{ type: 'state', state: 'error', message: 'NaN' }]);
    const ended = error.finished([] as LaneResult[]);
    expect(ended.state).toBe('error');
    expect(ended.failure).toBe('non-finite');
    expect(error.failure).toBe(null);
  });

  it('continues from a saved step with the history up to it', () => {
    const history = [0, 1].map((lane) => ({
      lane,
      objective: spec.objectives[lane]!.kind,
      history: { steps: [1, 2, 3].map((n) => (step(lane, n) as { metrics: StepMetrics }).metrics), evals: [] },
    }));
    const run = RunData.begin(spec).continuedFrom(2, history, { runId: 'run-x' });
    expect(run.startStep).toBe(2);
    expect(run.saved).toEqual({ runId: 'run-x', step: 2 });
    expect(run.lanes.map((l) => l.steps.length)).toEqual([2, 2]);
    expect(run.progress().laneStep).toBe(2);
  });
});
