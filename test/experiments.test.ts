// The named experiments: every preset is a valid spec, and the default one can show the Clever Hans contrast at
// all — a copy position follows the decision — where G(3,3,30) cannot.
import { describe, expect, it } from 'vitest';
import { checkSpec } from '../src/spec/check';
import { DEFAULT_EXPERIMENT, EXPERIMENT_PRESETS, experimentPreset } from '../src/lab/experiments';
import { Rng } from '../src/model/rng';
import { makeTask } from '../src/tasks';
import type { Example } from '../src/tasks/types';

const LIMITS = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBuffersPerShaderStage: 8,
};

/** Children of each node in a path-star prompt (edges sit at 3j, 3j+1; the last four tokens are `/ s g =`). */
function children(e: Example): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let j = 0; 3 * j + 1 < e.prompt.length - 4; j++) {
    const [u, v] = [e.prompt[3 * j]!, e.prompt[3 * j + 1]!];
    out.set(u, [...(out.get(u) ?? []), v]);
  }
  return out;
}

/**
 * Target positions after the decision whose token a teacher-forced model can read off the previous one (the only
 * child of the previous node) and that the prompt does not already hold (the goal): the Clever Hans positions.
 */
function cleverHansPositions(e: Example, decision: number): number[] {
  const kids = children(e);
  const goal = e.prompt[e.prompt.length - 2]!;
  const out: number[] = [];
  for (let i = decision + 1; i < e.target.length; i++) {
    const only = kids.get(e.target[i - 1]!);
    if (only?.length === 1 && only[0] === e.target[i] && e.target[i] !== goal) out.push(i);
  }
  return out;
}

describe('experiments', () => {
  it('every preset is a valid spec with a title, what it shows and its budget', () => {
    expect(new Set(EXPERIMENT_PRESETS.map((p) => p.id)).size).toBe(EXPERIMENT_PRESETS.length);
    for (const p of EXPERIMENT_PRESETS) {
      expect(checkSpec(p.spec, LIMITS), p.id).toEqual([]);
      for (const text of [p.title, p.shows, p.budget]) expect(text.length).toBeGreaterThan(10);
    }
    expect(experimentPreset('clever-hans')!.spec).toBe(DEFAULT_EXPERIMENT);
    expect(experimentPreset('nope')).toBeUndefined();
  });

  it('the default task puts a Clever Hans copy right after the decision, on every graph', () => {
    const task = makeTask(DEFAULT_EXPERIMENT.task, 1);
    expect(task.decisionPosition).toBe(1);
    const rng = new Rng(5);
    for (const e of [...task.test.slice(0, 200), ...task.sampleTrain(rng, 200)]) {
      // The decision is between the source's children, so 1/degree by chance ...
      const source = e.target[0]!;
      expect(children(e).get(source)).toHaveLength(2);
      // ... and at least the next position is a copy of the previous node's only child.
      const copies = cleverHansPositions(e, task.decisionPosition!);
      expect(copies[0]).toBe(task.decisionPosition! + 1);
      expect(copies.length).toBe(e.target.length - 3); // all between the decision and the goal
    }
  });

  it('G(3,3,30) has no such position: after the decision comes the goal, which the prompt holds', () => {
    const spec = experimentPreset('g3-3-30')!.spec;
    const task = makeTask(spec.task, 1);
    for (const e of task.test.slice(0, 100)) expect(cleverHansPositions(e, task.decisionPosition!)).toEqual([]);
  });

  it('the default compares next-token prediction with the reversed target, and evaluates ≥ 500 examples', () => {
    expect(DEFAULT_EXPERIMENT.objectives.map((o) => o.kind)).toEqual(['ntp', 'reverse']);
    expect(DEFAULT_EXPERIMENT.evalExamples).toBeGreaterThanOrEqual(500);
    expect(DEFAULT_EXPERIMENT.task.kind === 'path-star' && DEFAULT_EXPERIMENT.task.testSize).toBeGreaterThanOrEqual(
      DEFAULT_EXPERIMENT.evalExamples,
    );
  });
});
