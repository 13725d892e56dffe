import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/eval/evaluate';
import {
  decisionTokenAccuracy,
  exactMatch,
  meanCrossEntropy,
  perPositionAccuracy,
  validWrongFraction,
  wilsonInterval,
} from '../src/eval/metrics';
import type { ForwardFn } from '../src/model/batch';
import { makeObjective, parseObjectives } from '../src/objectives/index';
import { makeTask } from '../src/tasks/index';
import type { Example, Task } from '../src/tasks/types';

const PAD = 9;
const examples: Example[] = [
  { prompt: [0], target: [1, 2, 3] },
  { prompt: [1], target: [1, 4, 5] },
  { prompt: [2], target: [2, 6, PAD] },
  { prompt: [3], target: [3, 7, PAD] },
];

describe('metrics', () => {
  const preds = [
    [1, 2, 3], // right
    [1, 2, 5], // decision wrong
    [2, 6, 8], // right: the pad position does not count
    [0, 7, 0], // first wrong
  ];

  it('exact match ignores pad targets', () => {
    expect(exactMatch(preds, examples, PAD)).toBe(0.5);
    expect(exactMatch(preds, examples)).toBe(0.25); // without a pad, the pad positions must match too
    expect(() => exactMatch(preds.slice(1), examples)).toThrow(/3 predictions for 4 examples/);
  });

  it('per-position accuracy counts only non-pad targets', () => {
    expect(perPositionAccuracy(preds, examples, PAD)).toEqual([3 / 4, 3 / 4, 2 / 2]);
    expect(decisionTokenAccuracy(preds, examples, 1, PAD)).toBe(3 / 4);
    expect(decisionTokenAccuracy(preds, examples, undefined, PAD)).toBeNull();
    const allPad = [{ prompt: [0], target: [1, PAD] }];
    expect(perPositionAccuracy([[1, 1]], allPad, PAD)).toEqual([1, NaN]);
    expect(decisionTokenAccuracy([[1, 1]], allPad, 1, PAD)).toBeNull();
  });

  it('valid-wrong fraction asks the task about wrong predictions only', () => {
    const asked: number[][] = [];
    const isValid = (_e: Example, p: number[]) => {
      asked.push(p);
      return p[0] === 1;
    };
    expect(validWrongFraction(preds, examples, isValid, PAD)).toBe(0.5);
    expect(asked).toEqual([preds[1], preds[3]]);
    expect(validWrongFraction(preds, examples, undefined, PAD)).toBeNull();
    expect(validWrongFraction([[1, 2, 3]], examples.slice(0, 1), isValid, PAD)).toBeNull();
  });
});

/** A model that answers every path-star test graph by going down arm `arm` (0: the goal's arm) from the source. */
function pathStarModel(task: Task, goalArm: boolean, H = 1, calls: number[] = []): ForwardFn {
  const byPrompt = new Map(task.test.map((e) => [e.prompt.join(','), e]));
  const V = task.vocab.length;
  const P = task.promptLength;
  const L = task.targetLength;
  return (tokens, n, T) => {
    calls.push(n);
    const logits = new Float32Array(H * n * T * V);
    for (let b = 0; b < n; b++) {
      const row = Array.from(tokens.slice(b * T, (b + 1) * T));
      const e = byPrompt.get(row.slice(0, P).join(','))!;
      let path = e.target;
      if (!goalArm) {
        // Another arm: the source's other child, then follow its chain.
        const edges = new Map<number, number[]>();
        for (let j = 0; 3 * j + 1 < P - 4; j++)
          edges.set(e.prompt[3 * j]!, [...(edges.get(e.prompt[3 * j]!) ?? []), e.prompt[3 * j + 1]!]);
        path = [e.target[0]!, edges.get(e.target[0]!)!.find((c) => c !== e.target[1])!];
        while (path.length < L) path.push(edges.get(path[path.length - 1]!)![0]!);
      }
      for (let i = 0; i < L; i++) logits[(b * T + P - 1 + i) * V + path[i]!] = 10;
    }
    return Promise.resolve(logits);
  };
}

describe('Wilson interval', () => {
  it('matches hand-computed values (z = 1.96)', () => {
    // 0 of 10: [0, z²/(n+z²)]; 5 of 10: 0.5 ± (z/(1+z²/n))·√(p(1−p)/n + z²/4n²).
    const [lo0, hi0] = wilsonInterval(0, 10);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(3.8416 / 13.8416, 10);
    const [lo5, hi5] = wilsonInterval(5, 10);
    expect(lo5).toBeCloseTo(0.236593, 5);
    expect(hi5).toBeCloseTo(0.763407, 5);
    const [lo10, hi10] = wilsonInterval(10, 10);
    expect(hi10).toBe(1);
    expect(lo10).toBeCloseTo(10 / 13.8416, 10);
  });

  it('holds the estimate, narrows with n, and at n = 500 near 1/2 is about ±4.4 points', () => {
    for (const [k, n] of [
      [1, 3],
      [37, 100],
      [249, 500],
      [999, 1000],
    ] as const) {
      const [lo, hi] = wilsonInterval(k, n);
      expect(lo).toBeLessThanOrEqual(k / n);
      expect(hi).toBeGreaterThanOrEqual(k / n);
    }
    const [lo, hi] = wilsonInterval(250, 500);
    expect(hi - lo).toBeCloseTo(2 * 1.96 * Math.sqrt(0.25 / 500), 2);
    const w = (n: number) => wilsonInterval(Math.round(n / 3), n);
    expect(w(1000)[1] - w(1000)[0]).toBeLessThan(w(100)[1] - w(100)[0]);
  });

  it('covers the true proportion about 95% of the time (simulated)', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const p = 0.3;
    const n = 200;
    let covered = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      let k = 0;
      for (let i = 0; i < n; i++) if (rand() < p) k++;
      const [lo, hi] = wilsonInterval(k, n);
      if (lo <= p && p <= hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.97);
  });

  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(3, 2)).toThrow(/3 successes of 2/);
    expect(() => wilsonInterval(0, 0)).toThrow();
  });

  it('mean cross-entropy counts only non-pad targets', () => {
    const lp = [
      [-1, -2, -3],
      [0, 0, 0],
      [-4, -4, -100],
      [-1, -1, -100],
    ];
    expect(meanCrossEntropy(lp, examples, PAD)).toBeCloseTo((1 + 2 + 3 + 0 + 4 + 4 + 1 + 1) / 10, 12);
  });
});

describe('evaluate', () => {
  const task = makeTask({ kind: 'path-star', degree: 2, pathLength: 4, nodes: 20, trainSize: 0, testSize: 10 }, 1);

  it('a perfect model scores 1 and is called in chunks of at most maxBatch', async () => {
    const calls: number[] = [];
    const r = await evaluate(task, makeObjective({ kind: 'ntp' }), task.test, pathStarModel(task, true, 1, calls), 4);
    expect(r.exactMatch).toBe(1);
    expect(r.decisionTokenAccuracy).toBe(1);
    expect(r.perPosition).toEqual({ teacherForced: [1, 1, 1, 1], freeRunning: [1, 1, 1, 1] });
    expect(r.validWrongFraction).toBeNull();
    expect(r.probes).toEqual({ goalSide: null, singleMask: null, heads: null });
    expect(r.predictions).toEqual(task.test.map((e) => e.target));
    expect(r.commitStep).toBeUndefined();
    expect(r.examples).toBe(10);
    expect(r.exactMatchInterval[1]).toBe(1);
    expect(r.exactMatchInterval[0]).toBeCloseTo(10 / 13.8416, 6);
    expect(r.heldOutLoss).toBeGreaterThanOrEqual(0);
    expect(r.heldOutLoss).toBeLessThan(0.01);
    // 3 chunks (4, 4, 2), each one teacher-forced pass: a model that decodes its whole chunk right needs no greedy
    // pass of its own (greedyDecode takes every argmax from the teacher-forced pass).
    expect(calls).toEqual([4, 4, 2]);
  });

  it('a model on the wrong arm makes valid wrong paths', async () => {
    const calls: number[] = [];
    const mtp = makeObjective({ kind: 'mtp', heads: 3 });
    const r = await evaluate(task, mtp, task.test, pathStarModel(task, false, 3, calls));
    // One chunk: the teacher-forced pass, then greedy passes from the first position whose argmax differs from
    // the target (the decision, position 1) on: positions 2 and 3 of 4.
    expect(calls).toEqual([10, 10, 10]);
    expect(r.exactMatch).toBe(0);
    expect(r.decisionTokenAccuracy).toBe(0);
    expect(r.perPosition.freeRunning).toEqual([1, 0, 0, 0]);
    expect(r.validWrongFraction).toBe(1);
    // The heads' probe comes from the same teacher-forced pass; a head has no position for target[i] with i < k.
    expect(r.probes.heads).toHaveLength(3);
    expect(r.probes.heads![0]).toEqual(r.perPosition.teacherForced);
    expect(r.probes.heads!.map((h) => h.slice(0, 2).map((a) => a === null))).toEqual([
      [false, false],
      [true, false],
      [true, true],
    ]);
  });

  it('diffusion reports its commit steps', async () => {
    const o = makeObjective(parseObjectives('diffusion:2')[0]!);
    const V = task.vocab.length;
    const P = task.promptLength;
    const byPrompt = new Map(task.test.map((e) => [e.prompt.join(','), e]));
    const fwd: ForwardFn = (tokens, n, T) => {
      const logits = new Float32Array(n * T * V);
      for (let b = 0; b < n; b++) {
        const e = byPrompt.get(Array.from(tokens.slice(b * T, b * T + P)).join(','))!;
        e.target.forEach((t, i) => (logits[(b * T + P + i) * V + t] = 5 + i));
      }
      return Promise.resolve(logits);
    };
    const r = await evaluate(task, o, task.test, fwd, 3);
    expect(r.exactMatch).toBe(1);
    expect(r.perPosition.teacherForced).toEqual([1, 1, 1, 1]);
    expect(r.probes).toEqual({ goalSide: [1, 1, 1, 1], singleMask: [1, 1, 1, 1], heads: null });
    expect(r.commitStep).toEqual(task.test.map(() => [1, 1, 0, 0]));
  });

  it('rejects empty input and a bad maxBatch', async () => {
    const o = makeObjective({ kind: 'ntp' });
    await expect(evaluate(task, o, [], pathStarModel(task, true))).rejects.toThrow(/at least one example/);
    await expect(evaluate(task, o, task.test, pathStarModel(task, true), 0)).rejects.toThrow(/maxBatch/);
  });
});
