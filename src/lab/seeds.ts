// Results over several seeds: per lane (objective), the mean and spread of each headline number, and how many seeds
// reached 90% exact match and when. The command line's `compare --seeds` and the page's repeated runs share it.
import type { LaneResult, Probes, TaskSpec } from './api';

export interface Spread {
  mean: number;
  /** Sample standard deviation (0 for one value). */
  sd: number;
  min: number;
  max: number;
  values: number[];
}

/** Mean, sample standard deviation, min and max of values (sd 0 for one value). */
export function spread(values: number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), values };
}

/**
 * Per target position, the spread across runs (one per seed) of each run's final accuracy under teacher forcing
 * and free running, for lane `lane`; null at a position some run has no value for.
 */
export function positionSpread(
  runs: readonly { results: readonly LaneResult[] }[],
  lane: number,
): { teacherForced: (Spread | null)[]; freeRunning: (Spread | null)[] } {
  const results = runs.map((r) => r.results[lane]).filter((r): r is LaneResult => r !== undefined);
  const of = (pick: (r: LaneResult) => number[]) => {
    const n = Math.max(0, ...results.map((r) => pick(r).length));
    return Array.from({ length: n }, (_, p) => {
      const vs = results.map((r) => pick(r)[p]);
      return vs.every((v): v is number => typeof v === 'number' && Number.isFinite(v)) && vs.length > 0
        ? spread(vs)
        : null;
    });
  };
  return { teacherForced: of((r) => r.perPosition.teacherForced), freeRunning: of((r) => r.perPosition.freeRunning) };
}

/**
 * A run over seeds' results (RunOptions.seeds: every lane tagged with its seed) as one run per seed, in the order
 * given, each lane without its tag, as that seed alone would give it; a seed with no lane (not reached) is left out.
 */
export function resultsBySeed(
  all: readonly LaneResult[],
  seeds: readonly number[],
): { seed: number; results: LaneResult[] }[] {
  return seeds
    .map((seed) => ({
      seed,
      results: all.filter((r) => r.seed === seed).map(({ seed: _s, ...r }) => r as LaneResult),
    }))
    .filter((r) => r.results.length > 0);
}

export interface SeedSummary {
  lane: number;
  objective: string;
  seeds: number[];
  exactMatch: Spread;
  decisionTokenAccuracy: Spread | null;
  /** Teacher-forced accuracy at the first Clever Hans position, right after the decision (see copyPositionOf). */
  afterDecisionTeacherForced: Spread | null;
  heldOutLoss: Spread;
  /** The probes' accuracy per position, mean over the seeds (null where the objective has no such probe). */
  probes: Probes;
  /** Seeds whose exact match reached 90%, and the steps at which they did. */
  reached90: { count: number; steps: (number | null)[] };
}

/** Per lane (objective), mean and spread over the seeds' results; `copyPosition` as copyPositionOf gives it. */
export function summarise(
  runs: { seed: number; results: LaneResult[] }[],
  copyPosition: number | undefined,
): SeedSummary[] {
  return runs[0]!.results.map((first, lane) => {
    const rs = runs.map((r) => r.results[lane]!);
    const of = (f: (r: LaneResult) => number | null | undefined) => {
      const xs = rs.map(f);
      return xs.every((x): x is number => typeof x === 'number' && !Number.isNaN(x)) ? spread(xs) : null;
    };
    return {
      lane,
      objective: first.objective,
      seeds: runs.map((r) => r.seed),
      exactMatch: spread(rs.map((r) => r.exactMatch)),
      decisionTokenAccuracy: of((r) => r.decisionTokenAccuracy),
      afterDecisionTeacherForced:
        copyPosition === undefined ? null : of((r) => r.perPosition.teacherForced[copyPosition]),
      heldOutLoss: spread(rs.map((r) => r.heldOutLoss)),
      probes: meanProbes(rs.map((r) => r.probes)),
      reached90: { count: rs.filter((r) => r.timeTo90).length, steps: rs.map((r) => r.timeTo90?.step ?? null) },
    };
  });
}

/** Mean per position of rows of equal length (null entries stay null); null if any row is missing. */
function meanRows<T extends number | null>(rows: (T[] | null | undefined)[]): T[] | null {
  if (rows.length === 0 || rows.some((r) => !r)) return null;
  const first = rows[0]!;
  return first.map((x, i) =>
    x === null ? null : rows.reduce((a, r) => a + ((r![i] as number | null) ?? NaN), 0) / rows.length,
  ) as T[];
}

/** The probes' mean per position over seeds; a probe missing from any seed's result is null. */
export function meanProbes(probes: (Probes | undefined)[]): Probes {
  const heads = probes.map((p) => p?.heads);
  const H = heads[0]?.length ?? 0;
  return {
    goalSide: meanRows(probes.map((p) => p?.goalSide)),
    singleMask: meanRows(probes.map((p) => p?.singleMask)),
    heads:
      H === 0 || heads.some((h) => h?.length !== H)
        ? null
        : Array.from({ length: H }, (_, k) => meanRows(heads.map((h) => h![k]))!),
  };
}

/**
 * A list of seeds as people write it: `1,2,3`, `1-5` (or `1..5`, as PyTorch's side takes it), or a mix (`1-3, 7`);
 * distinct seeds in the order given.
 * Throws an Error that says what is wrong with the text.
 */
export function parseSeedList(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:\s*(?:-|\.\.)\s*(\d+))?$/.exec(part);
    if (!m) throw new Error(`'${part}' is not a seed or a range such as 1-5`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`the range '${part}' runs backwards`);
    if (hi > 2 ** 32 - 1) throw new Error(`${hi} is larger than the largest seed, ${2 ** 32 - 1}`);
    if (hi - lo >= 1000) throw new Error(`'${part}' names more than 1000 seeds`);
    for (let s = lo; s <= hi; s++) if (!seeds.includes(s)) seeds.push(s);
  }
  return seeds;
}

/**
 * The first Clever Hans position of a task by its spec: on path-star the target position right after the decision
 * (position 1, src/tasks/path-star.ts), when the path goes on past it to more than the goal; else none.
 */
export function copyPositionOf(task: TaskSpec): number | undefined {
  return task.kind === 'path-star' && task.pathLength >= 4 ? 2 : undefined;
}
