// The run history as data: entries checked as they are read (a corrupt one refused with its reason), the bounds
// (which oldest entries must go), the config diff, the history file in and out, and the curves as CSV.
import { describe, expect, test } from 'vitest';
import type { EvalMetrics, ExperimentSpec, LaneResult, StepMetrics } from '../src/lab/api';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import {
  checkEntry,
  configDiff,
  defaultName,
  entryBytes,
  entrySummary,
  HISTORY_FORMAT,
  historyCsv,
  historyJson,
  overflow,
  parseHistoryFile,
  sortEntries,
  type HistoryEntry,
} from '../src/ui/history/history';

function lane(kind: 'ntp' | 'reverse', exact: number, steps = 3): LaneResult {
  const s: StepMetrics[] = Array.from({ length: steps }, (_, i) => ({
    lane: 0,
    objective: kind,
    step: i + 1,
    loss: 2 - i / 10,
    lr: 1e-3,
    tokensPerSecond: 1000,
    flops: (i + 1) * 1e9,
    tokens: (i + 1) * 64,
    seconds: i + 1,
  }));
  const e = {
    step: steps,
    flops: steps * 1e9,
    seconds: steps,
    exactMatch: exact,
    heldOutLoss: 1 - exact,
  } as EvalMetrics;
  return {
    lane: kind === 'ntp' ? 0 : 1,
    objective: kind,
    objectiveSpec: { kind },
    steps,
    flops: steps * 1e9,
    seconds: steps,
    finalLoss: 1.8,
    exactMatch: exact,
    exactMatchInterval: [0, 1],
    examples: 100,
    decisionTokenAccuracy: 0.5,
    perPosition: { teacherForced: [1, 0.5], freeRunning: [1, 0.5] },
    validWrongFraction: null,
    heldOutLoss: 1 - exact,
    timeTo90: null,
    history: { steps: s, evals: [e] },
  };
}

const spec = (steps = 3000): ExperimentSpec => ({
  ...DEFAULT_EXPERIMENT,
  train: { ...DEFAULT_EXPERIMENT.train, steps },
});

function entry(id: string, addedAt: number, over: Partial<HistoryEntry> = {}): HistoryEntry {
  const sp = over.spec ?? spec();
  const runs = over.runs ?? [{ seed: 1, results: [lane('ntp', 0.5), lane('reverse', 1)] }];
  return { id, name: defaultName(sp, runs), addedAt, source: 'run', spec: sp, adapter: 'lavapipe', runs, ...over };
}

describe('checkEntry', () => {
  test('a good entry reads back as it was', () => {
    const e = entry('a', 1);
    expect(checkEntry(JSON.parse(JSON.stringify(e)))).toEqual(e);
  });

  test.each([
    ['no id', { id: '' }, /no id/],
    ['a bad source', { source: 'disk' }, /neither run nor file/],
    ['no date', { addedAt: 'yesterday' }, /no date/],
    ['an adapter that is not text', { adapter: 3 }, /adapter is not text/],
    ['a spec the page cannot run', { spec: { ...spec(), train: { ...spec().train, steps: -1 } } }, /train\.steps/],
    ['a lane missing', { runs: [{ seed: 1, results: [lane('ntp', 0.5)] }] }, /1 lanes; the spec names 2/],
    [
      'a lane without its history',
      { runs: [{ seed: 1, results: [lane('ntp', 0.5), { objective: 'reverse' }] }] },
      /no history/,
    ],
  ])('%s is refused with its reason', (_, change, message) => {
    expect(() => checkEntry({ ...entry('a', 1), ...change })).toThrow(message);
  });
});

describe('overflow', () => {
  const e = (i: number) => entry(`e${i}`, i);
  test('within the bounds, nothing goes', () => {
    expect(overflow([e(1), e(2)], e(3), { entries: 3, bytes: 1e9 })).toEqual([]);
  });
  test('past the count, the oldest go, oldest first', () => {
    expect(overflow([e(5), e(2), e(9)], e(10), { entries: 2, bytes: 1e9 })!.map((x) => x.id)).toEqual(['e2', 'e5']);
  });
  test('past the bytes, as many of the oldest as it takes', () => {
    const size = entryBytes(e(1));
    expect(overflow([e(1), e(2), e(3)], e(4), { entries: 99, bytes: 2.5 * size })!.map((x) => x.id)).toEqual([
      'e1',
      'e2',
    ]);
  });
  test('an entry larger than the whole bound does not fit at all', () => {
    expect(overflow([e(1)], e(2), { entries: 99, bytes: 10 })).toBeNull();
  });
});

describe('configDiff', () => {
  test('one column per setting that differs, labelled as the form labels it; the seed is left out', () => {
    const a = entry('a', 1, { spec: { ...spec(1000), train: { ...spec(1000).train, seed: 7 } } });
    const b = entry('b', 2, { spec: { ...spec(3000), objectives: [{ kind: 'ntp' }, { kind: 'mtp', heads: 4 }] } });
    const c = entry('c', 3);
    expect(configDiff([a, b, c])).toEqual([
      {
        path: 'objectives',
        label: 'Objectives',
        values: ['Next-token, Reverse', 'Next-token, Multi-token (+4 heads)', 'Next-token, Reverse'],
      },
      { path: 'train.steps', label: 'Steps', values: ['1000', '3000', '3000'] },
    ]);
    expect(configDiff([c, entry('d', 4)])).toEqual([]);
  });
});

describe('the history file', () => {
  test('round trip: every entry as it was', () => {
    const entries = [entry('a', 1), entry('b', 2, { name: 'mine, renamed' })];
    const back = parseHistoryFile(historyJson(entries));
    expect(back).toEqual({ entries, refused: [] });
  });

  test('a corrupt entry is refused with its reason and the others are kept', () => {
    const text = JSON.stringify({
      format: HISTORY_FORMAT,
      entries: [entry('a', 1), { name: 'broken', id: 'x' }, entry('c', 3)],
    });
    const r = parseHistoryFile(text);
    expect(r.entries.map((e) => e.id)).toEqual(['a', 'c']);
    expect(r.refused).toEqual(['entry 2 (broken): no date']);
  });

  test('a results file becomes one entry, opened from a file', () => {
    const doc = {
      spec: spec(),
      adapter: 'PyTorch on CPU',
      runs: [{ seed: 4, results: [lane('ntp', 0.4), lane('reverse', 1)] }],
    };
    const r = parseHistoryFile(JSON.stringify(doc), 123, () => 'new-id');
    expect(r.refused).toEqual([]);
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]).toMatchObject({ id: 'new-id', addedAt: 123, source: 'file', adapter: 'PyTorch on CPU' });
    expect(r.entries[0]!.name).toBe('path-star G(2,5,10) · ntp, reverse · 3000 steps · seed 4');
  });

  test('what is not a history or results file says so', () => {
    expect(() => parseHistoryFile('{')).toThrow(/not JSON/);
    expect(() => parseHistoryFile(JSON.stringify({ format: 'webgpu-lab-history/9', entries: [] }))).toThrow(
      /another version \(webgpu-lab-history\/9\)/,
    );
    expect(() => parseHistoryFile(JSON.stringify({ hello: 1 }))).toThrow(/no "spec"/);
  });
});

test('sorting: by name without case, by date, by a setting as a number (1000 before 300 would be text order)', () => {
  const a = entry('a', 3, { name: 'beta', spec: spec(1000) });
  const b = entry('b', 1, { name: 'Alpha', spec: spec(300) });
  const c = entry('c', 2, { name: 'gamma', spec: spec(20000) });
  const ids = (xs: HistoryEntry[]) => xs.map((e) => e.id);
  expect(ids(sortEntries([a, b, c], { by: 'name', descending: false }))).toEqual(['b', 'a', 'c']);
  expect(ids(sortEntries([a, b, c], { by: 'addedAt', descending: true }))).toEqual(['a', 'c', 'b']);
  expect(ids(sortEntries([a, b, c], { by: 'setting', path: 'train.steps', descending: false }))).toEqual([
    'b',
    'a',
    'c',
  ]);
});

test('the summary: per objective, the mean exact match over the seeds and its range', () => {
  const e = entry('a', 1, {
    runs: [
      { seed: 1, results: [lane('ntp', 0.4), lane('reverse', 1)] },
      { seed: 2, results: [lane('ntp', 0.6), lane('reverse', 0.9)] },
    ],
  });
  const s = entrySummary(e);
  expect(s.map((x) => x.label)).toEqual(['Next-token', 'Reverse']);
  expect(s[0]!.exactMatch).toBeCloseTo(0.5, 12);
  expect([s[1]!.min, s[1]!.max]).toEqual([0.9, 1]);
});

test('the curves as CSV: a row per step and per evaluation of every seed and lane, names quoted', () => {
  const e = entry('a', 1, { name: 'run, "quoted"' });
  const rows = historyCsv([e]).trim().split('\n');
  expect(rows[0]).toBe('entry,seed,lane,objective,kind,step,flops,tokens,seconds,loss,exact_match,held_out_ce');
  expect(rows).toHaveLength(1 + 2 * (3 + 1));
  expect(rows[1]).toBe('"run, ""quoted""",1,0,Next-token,step,1,1000000000,64,1,2,,');
  expect(rows[4]).toBe('"run, ""quoted""",1,0,Next-token,eval,3,3000000000,,3,,0.5,0.5');
});
