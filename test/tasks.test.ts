import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../src/lab/api';
import { Rng } from '../src/model/rng';
import { parseCustomPairs } from '../src/tasks/custom';
import { makeTask, pathStarPreset, pathStarPromptLength, TaskSpecError, taskSpecIssues } from '../src/tasks/index';
import { pathStarKey } from '../src/tasks/path-star';
import type { Example, Task } from '../src/tasks/types';

const star = (degree: number, pathLength: number, nodes: number, trainSize = 0, testSize = 20): TaskSpec => ({
  kind: 'path-star',
  degree,
  pathLength,
  nodes,
  trainSize,
  testSize,
});

/** The TaskSpecError a call throws (fails the test if it throws anything else or nothing). */
function specError(f: () => unknown): TaskSpecError {
  try {
    f();
  } catch (e) {
    if (e instanceof TaskSpecError) return e;
    throw e;
  }
  throw new Error('expected a TaskSpecError');
}

const key = (e: Example) => e.prompt.join(',');

describe('path-star', () => {
  it('has B&N lengths: G(2,5,50) is 27 prompt + 5 target = 32 tokens, vocab N+6', () => {
    const task = makeTask(pathStarPreset('G(2,5,50)', { testSize: 5 }), 1);
    expect(task.promptLength).toBe(27);
    expect(task.targetLength).toBe(5);
    expect(task.promptLength + task.targetLength).toBe(32);
    expect(task.vocab.length).toBe(56);
    expect(task.vocab.slice(50)).toEqual(['|', '=', '/', '$', '_', '·']);
    expect(task.special).toEqual({ dummy: 53, mask: 54, pad: 55 });
    expect(task.decisionPosition).toBe(1);
    expect(task.name).toBe('path-star G(2,5,50)');
    for (const e of task.test) expect(e.prompt.length + e.target.length).toBe(32);
    expect(pathStarPromptLength(3, 3)).toBe(21);
    expect(pathStarPromptLength(5, 5)).toBe(63);
  });

  it('lays out u v | … u v / s g = with every edge of the star, no label repeated', () => {
    const [degree, pathLength, N] = [3, 4, 12];
    const task = makeTask(star(degree, pathLength, N, 0, 30), 7);
    const P = 3 * degree * (pathLength - 1) + 3;
    expect(task.promptLength).toBe(P);
    for (const e of [...task.test, ...task.sampleTrain(new Rng(3), 30)]) {
      const p = e.prompt;
      expect(p.length).toBe(P);
      expect(p.slice(P - 4)).toEqual([N + 2, e.target[0], e.target[pathLength - 1], N + 1]);
      const edges: [number, number][] = [];
      for (let j = 0; j < degree * (pathLength - 1); j++) {
        edges.push([p[3 * j]!, p[3 * j + 1]!]);
        if (j > 0) expect(p[3 * j - 1]).toBe(N); // `|` between edges, none after the last
      }
      const labels = new Set(edges.flat());
      expect(labels.size).toBe(degree * (pathLength - 1) + 1); // no repeats: E+1 distinct nodes for E edges
      for (const x of labels) expect(x >= 0 && x < N).toBe(true);
      // A star: the source has `degree` children, every other node one parent and at most one child.
      const source = e.target[0]!;
      const children = new Map<number, number[]>();
      for (const [u, v] of edges) children.set(u, [...(children.get(u) ?? []), v]);
      expect(children.get(source)!.length).toBe(degree);
      for (const [u, vs] of children) if (u !== source) expect(vs.length).toBe(1);
      expect(new Set(edges.map(([, v]) => v)).size).toBe(edges.length);
      // The target follows edges from source to goal.
      for (let i = 0; i + 1 < pathLength; i++) expect(children.get(e.target[i]!)).toContain(e.target[i + 1]);
      expect(children.has(e.target[pathLength - 1]!)).toBe(false);
    }
  });

  it('formats, validates and keys a hand-made graph', () => {
    const task = makeTask(star(2, 3, 10), 1);
    // Arms 0→1→2 (goal) and 0→3→4; tokens: | = 10, = = 11, / = 12.
    const e: Example = { prompt: [3, 4, 10, 0, 1, 10, 1, 2, 10, 0, 3, 12, 0, 2, 11], target: [0, 1, 2] };
    expect(e.prompt.length).toBe(task.promptLength);
    expect(task.format([...e.prompt, ...e.target])).toBe('3,4|0,1|1,2|0,3/0,2=0,1,2');
    expect(task.isValid!(e, [0, 1, 2])).toBe(true);
    expect(task.isValid!(e, [0, 3, 4])).toBe(true); // the wrong arm is still a path
    expect(task.isValid!(e, [0, 3, 2])).toBe(false); // 3→2 is not an edge
    expect(task.isValid!(e, [1, 2, 4])).toBe(false); // not from the source
    expect(task.isValid!(e, [0, 1])).toBe(false); // wrong length
    const shuffled: Example = { prompt: [0, 3, 10, 1, 2, 10, 0, 1, 10, 3, 4, 12, 0, 2, 11], target: [0, 1, 2] };
    expect(pathStarKey(shuffled)).toBe(pathStarKey(e));
    const otherGoal: Example = { prompt: [...e.prompt.slice(0, 13), 4, 11], target: [0, 3, 4] };
    expect(pathStarKey(otherGoal)).not.toBe(pathStarKey(e));
  });

  it('shuffles the edges, so their order does not reveal the goal arm', () => {
    // G(2,3,10): 4 edges, 2 on the goal's arm. Unshuffled, the goal arm would always come first.
    const task = makeTask(star(2, 3, 10, 0, 400), 2);
    const goalArmFirst = task.test.filter((e) => e.target.includes(e.prompt[1]!)).length / task.test.length;
    expect(goalArmFirst).toBeGreaterThan(0.4); // binomial(400, 1/2): 0.4..0.6 is 4 standard deviations
    expect(goalArmFirst).toBeLessThan(0.6);
  });

  it('is deterministic by seed', () => {
    const a = makeTask(star(3, 3, 30, 100, 20), 5);
    const b = makeTask(star(3, 3, 30, 100, 20), 5);
    const c = makeTask(star(3, 3, 30, 100, 20), 6);
    expect(b.test).toEqual(a.test);
    expect(c.test).not.toEqual(a.test);
    expect(b.sampleTrain(new Rng(9), 16)).toEqual(a.sampleTrain(new Rng(9), 16));
    const fresh = (seed: number) => makeTask(star(3, 3, 30, 0, 20), seed);
    expect(fresh(5).sampleTrain(new Rng(9), 16)).toEqual(fresh(5).sampleTrain(new Rng(9), 16));
  });

  it('never trains on a test graph, fixed or fresh, even in a tiny graph space', () => {
    // G(2,2,6): 6·5·4 = 120 distinct problems; 60 held out, so overlap would be certain without rejection.
    for (const trainSize of [0, 2000]) {
      const task = makeTask(star(2, 2, 6, trainSize, 60), 3);
      const testKeys = new Set(task.test.map(pathStarKey));
      expect(testKeys.size).toBe(60); // test graphs are distinct too
      const train = task.sampleTrain(new Rng(1), 3000);
      expect(train.filter((e) => testKeys.has(pathStarKey(e)))).toEqual([]);
      expect(new Set(train.map(pathStarKey)).size).toBe(60); // and training covers the rest
    }
  });

  it('rejects bad specs with the field and what would be right', () => {
    let e = specError(() => makeTask(star(3, 5, 12), 1));
    expect(e.field).toBe('task.nodes');
    expect(e.reason).toMatch(/at least degree·\(pathLength−1\)\+1 = 13/);
    expect(specError(() => makeTask(star(1, 5, 50), 1)).field).toBe('task.degree');
    expect(specError(() => makeTask(star(2, 1, 50), 1)).field).toBe('task.pathLength');
    expect(specError(() => makeTask(star(2.5, 3, 50), 1)).reason).toMatch(/whole number/);
    expect(specError(() => makeTask(star(2, 3, 50, -1), 1)).field).toBe('task.trainSize');
    e = specError(() => makeTask(star(2, 2, 6, 0, 61), 1));
    expect(e.field).toBe('task.testSize');
    expect(e.reason).toMatch(/half the 120 distinct graphs/);
    expect(specError(() => pathStarPreset('G(9,9,9)')).reason).toMatch(/G\(3,3,30\)/);
    expect(taskSpecIssues(star(3, 5, 12))).toEqual([{ field: 'task.nodes', message: expect.stringMatching(/13/) }]);
    expect(taskSpecIssues(star(3, 5, 13))).toEqual([]);
  });

  it('has the three presets', () => {
    expect(pathStarPreset('G(3,3,30)')).toMatchObject({ degree: 3, pathLength: 3, nodes: 30 });
    expect(pathStarPreset('G(5,5,30)', { trainSize: 10, testSize: 4 })).toEqual({
      kind: 'path-star',
      degree: 5,
      pathLength: 5,
      nodes: 30,
      trainSize: 10,
      testSize: 4,
    });
  });
});

describe('addition', () => {
  const add = (digits: number, reversed: boolean, trainSize = 0, testSize = 50): TaskSpec => ({
    kind: 'addition',
    digits,
    reversed,
    trainSize,
    testSize,
  });
  const num = (ds: number[]) => Number(ds.join(''));

  it('poses a+b= and answers the zero-padded sum, plain or reversed', () => {
    for (const reversed of [false, true]) {
      const task = makeTask(add(3, reversed), 1);
      expect(task.promptLength).toBe(8);
      expect(task.targetLength).toBe(4);
      expect(task.decisionPosition).toBeUndefined();
      expect(task.vocab.slice(0, 12).join('')).toBe('0123456789+=');
      for (const e of [...task.test, ...task.sampleTrain(new Rng(2), 50)]) {
        expect(e.prompt[3]).toBe(10);
        expect(e.prompt[7]).toBe(11);
        const sum = num(e.prompt.slice(0, 3)) + num(e.prompt.slice(4, 7));
        const digits = String(sum).padStart(4, '0').split('').map(Number);
        expect(e.target).toEqual(reversed ? digits.reverse() : digits);
      }
    }
    const task = makeTask(add(3, true), 1);
    expect(task.format([9, 9, 9, 10, 0, 0, 1, 11, 0, 0, 0, 1])).toBe('999+001=0001');
  });

  it('adds long numbers exactly (no float rounding)', () => {
    const task = makeTask(add(20, false, 0, 5), 1);
    for (const e of task.test) {
      const a = BigInt(e.prompt.slice(0, 20).join(''));
      const b = BigInt(e.prompt.slice(21, 41).join(''));
      expect(e.target.join('')).toBe((a + b).toString().padStart(21, '0'));
    }
  });

  it('keeps train and test disjoint and is deterministic', () => {
    for (const trainSize of [0, 500]) {
      const task = makeTask(add(1, false, trainSize, 50), 4); // 100 problems, half held out
      const testKeys = new Set(task.test.map(key));
      expect(testKeys.size).toBe(50);
      expect(task.sampleTrain(new Rng(1), 2000).filter((e) => testKeys.has(key(e)))).toEqual([]);
      expect(makeTask(add(1, false, trainSize, 50), 4).test).toEqual(task.test);
    }
    expect(specError(() => makeTask(add(1, false, 0, 51), 1)).field).toBe('task.testSize');
    expect(specError(() => makeTask(add(0, false), 1)).field).toBe('task.digits');
  });
});

describe('custom', () => {
  const custom = (text: string, testFraction = 0.25): TaskSpec => ({ kind: 'custom', text, testFraction });

  it('parses TAB and => lines, pads prompts left and targets right', () => {
    const text = 'ab\tcd\r\n\nb => x\nab c=>d\nb a\t \n';
    expect(parseCustomPairs(text).map((p) => [p.prompt.join(''), p.target.join(''), p.line])).toEqual([
      ['ab', 'cd', 1],
      ['b', 'x', 3],
      ['ab c', 'd', 4],
      ['b a', ' ', 5],
    ]);
    const task = makeTask(custom(text), 1);
    expect(task.vocab).toEqual([' ', 'a', 'b', 'c', 'd', 'x', '$', '_', '·']);
    expect(task.special).toEqual({ dummy: 6, mask: 7, pad: 8 });
    expect(task.promptLength).toBe(4);
    expect(task.targetLength).toBe(2);
    const all = [...task.test, ...task.sampleTrain(new Rng(1), 200)];
    const byPrompt = new Map(all.map((e) => [task.format(e.prompt), e]));
    expect(byPrompt.get('b')).toEqual({ prompt: [8, 8, 8, 2], target: [5, 8] });
    expect(byPrompt.get('ab')).toEqual({ prompt: [8, 8, 1, 2], target: [3, 4] });
    expect(task.test.length).toBe(1);
  });

  it('uses long special names when the text has $, _ or ·', () => {
    const task = makeTask(custom('a$\t_\nb\tc'), 1);
    expect(task.vocab.slice(-3)).toEqual(['<$>', '<mask>', '<pad>']);
  });

  it('holds out whole prompts, deterministically', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `p${i % 20}\tt${i}`).join('\n');
    const task = makeTask(custom(lines, 0.25), 2);
    const testKeys = new Set(task.test.map(key));
    expect(testKeys.size).toBe(5);
    expect(task.test.length).toBe(10); // both pairs of each held-out prompt
    expect(task.sampleTrain(new Rng(1), 500).filter((e) => testKeys.has(key(e)))).toEqual([]);
    expect(makeTask(custom(lines, 0.25), 2).test).toEqual(task.test);
  });

  it('names each problem', () => {
    const err = (text: string, testFraction = 0.25) => specError(() => makeTask(custom(text, testFraction), 1));
    expect(err('  \n ').reason).toMatch(/empty/);
    expect(err('a\tb\nno separator here').reason).toMatch(/line 2 has no separator/);
    expect(err('a\tb\n\tb').reason).toMatch(/line 2 has an empty prompt/);
    expect(err('a\tb\nc =>  ').reason).toMatch(/line 2 has an empty target/);
    expect(err('a\tb\nc\td\te').reason).toMatch(/line 2 contains the non-printable character U\+0009/);
    expect(err('a\tb\nc\u0007\td').reason).toMatch(/line 2 .*U\+0007/);
    expect(err(`a\tb\n${'x'.repeat(200)}\t${'y'.repeat(57)}`).reason).toMatch(/line 2 has 257 characters; at most 256/);
    expect(err('a\tb\na\tc').reason).toMatch(/1 distinct prompt/);
    expect(err('a\tb\nc\td', 0).field).toBe('task.testFraction');
    expect(err('a\tb\nc\td', 1).field).toBe('task.testFraction');
    expect(err('a\tb').field).toBe('task.text');
  });
});

describe('makeTask', () => {
  it('rejects an unknown kind', () => {
    expect(specError(() => makeTask({ kind: 'sudoku' } as unknown as TaskSpec, 1)).field).toBe('task.kind');
  });

  it('every task formats its own test prompts', () => {
    const tasks: Task[] = [makeTask(star(2, 3, 10), 1), makeTask(custom2(), 1)];
    for (const t of tasks) for (const e of t.test) expect(t.format(e.prompt).length).toBeGreaterThan(0);
  });
});

function custom2(): TaskSpec {
  return { kind: 'custom', text: 'x => y\ny => z\nz => x', testFraction: 0.3 };
}
