// The run history, as data: every finished run and every results file opened, kept with its spec, adapter, date
// and each seed's lane results (their curves); what differs between entries' configs; which oldest entries must go
// to keep the history within its bounds; and its files (JSON in and out, the curves as CSV). No DOM and no storage
// here (history-store.ts keeps the entries), so all of it is unit-tested.
import type { ExperimentSpec, LaneResult } from '../../lab/api';
import { summarise } from '../../lab/seeds';
import { fieldLabel } from '../../spec/fields';
import { objectiveLabel } from '../app/objective-style';
import { checkResults, parseResults, type ResultsRun } from '../results/results-file';
import { taskText } from '../app/format';

export const HISTORY_FORMAT = 'webgpu-lab-history/1';

export interface HistoryEntry {
  id: string;
  /** What the user calls it (renamable); at first the task, objectives and seeds. */
  name: string;
  /** Milliseconds since the epoch, when it was added. */
  addedAt: number;
  /** A run trained on this page, or a results file opened here (command line, PyTorch, another browser). */
  source: 'run' | 'file';
  spec: ExperimentSpec;
  /** The adapter it ran on, as its file or this page says; null when unknown. */
  adapter: string | null;
  /** Each seed's lane results, histories included. */
  runs: ResultsRun[];
}

/** The history's bounds: entries, and bytes of their JSON (curves dominate: about 150 bytes a step a lane). */
export const HISTORY_LIMITS = { entries: 40, bytes: 64 * 2 ** 20 };

/** Bytes an entry takes, as JSON. */
export const entryBytes = (e: HistoryEntry): number => JSON.stringify(e).length;

/** A new entry's name: task, objectives, seeds. */
export function defaultName(spec: ExperimentSpec, runs: readonly ResultsRun[]): string {
  const seeds = runs.map((r) => r.seed);
  const seedText = seeds.length > 1 ? `seeds ${seeds.join(',')}` : `seed ${seeds[0] ?? spec.train.seed}`;
  return `${taskText(spec.task)} · ${spec.objectives.map((o) => o.kind).join(', ')} · ${spec.train.steps} steps · ${seedText}`;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * An entry as stored or imported, checked: its own fields, then its spec and runs as a results file is checked
 * (results-file.ts, checkResults). Throws an Error that says what is wrong.
 */
export function checkEntry(x: unknown): HistoryEntry {
  if (!isObject(x)) throw new Error('not an object');
  if (typeof x.id !== 'string' || x.id === '') throw new Error('no id');
  if (typeof x.name !== 'string') throw new Error('no name');
  if (typeof x.addedAt !== 'number' || !Number.isFinite(x.addedAt)) throw new Error('no date');
  if (x.source !== 'run' && x.source !== 'file') throw new Error(`source ${String(x.source)} is neither run nor file`);
  if (x.adapter !== null && typeof x.adapter !== 'string') throw new Error('adapter is not text');
  const opened = checkResults({ spec: x.spec, runs: x.runs, adapter: x.adapter });
  return { id: x.id, name: x.name, addedAt: x.addedAt, source: x.source, ...opened };
}

/**
 * The entries to drop, oldest first, so that `incoming` fits within the limits beside the rest; null if it
 * cannot fit even alone.
 */
export function overflow(
  entries: readonly HistoryEntry[],
  incoming: HistoryEntry,
  limits = HISTORY_LIMITS,
): HistoryEntry[] | null {
  const size = entryBytes(incoming);
  if (size > limits.bytes) return null;
  const oldestFirst = [...entries].sort((a, b) => a.addedAt - b.addedAt);
  let bytes = entries.reduce((a, e) => a + entryBytes(e), 0) + size;
  let count = entries.length + 1;
  const drop: HistoryEntry[] = [];
  for (const e of oldestFirst) {
    if (count <= limits.entries && bytes <= limits.bytes) break;
    drop.push(e);
    count--;
    bytes -= entryBytes(e);
  }
  return drop;
}

/** A spec's settings as (path, text) pairs: every task, model and training value, the objectives, the evaluation. */
export function specSettings(spec: ExperimentSpec): Map<string, string> {
  const out = new Map<string, string>();
  const put = (prefix: string, o: object) => {
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      out.set(`${prefix}.${k}`, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
    }
  };
  put('task', spec.task);
  out.set('objectives', spec.objectives.map(objectiveLabel).join(', '));
  put('model', spec.model);
  put('train', spec.train);
  out.set('evalEvery', String(spec.evalEvery));
  out.set('evalExamples', String(spec.evalExamples));
  return out;
}

/** A setting's column heading: the form's label where it has one. */
export function settingLabel(path: string): string {
  if (path === 'objectives') return 'Objectives';
  if (path === 'train.seed') return 'Seed';
  return fieldLabel(path) || path;
}

/**
 * The settings that differ between the entries (a config diff): one column each, in the spec's order, with every
 * entry's value ('—' where it has none). The seed is left out: an entry over seeds lists its seeds apart.
 */
export function configDiff(entries: readonly HistoryEntry[]): { path: string; label: string; values: string[] }[] {
  const settings = entries.map((e) => specSettings(e.spec));
  const paths = [...new Set(settings.flatMap((s) => [...s.keys()]))].filter((p) => p !== 'train.seed');
  return paths
    .map((path) => ({ path, label: settingLabel(path), values: settings.map((s) => s.get(path) ?? '—') }))
    .filter((c) => new Set(c.values).size > 1);
}

/** A column the history's table can be sorted by: name, date, or a setting that differs between the entries. */
export type SortKey = { by: 'name' | 'addedAt' } | { by: 'setting'; path: string };

/** The entries sorted by a column (names without case; a setting as a number where it is one), ascending or not. */
export function sortEntries(entries: readonly HistoryEntry[], sort: SortKey & { descending: boolean }): HistoryEntry[] {
  const path = sort.by === 'setting' ? sort.path : '';
  const key = (e: HistoryEntry): string | number => {
    if (sort.by === 'name') return e.name.toLowerCase();
    if (sort.by === 'addedAt') return e.addedAt;
    const v = specSettings(e.spec).get(path) ?? '';
    const n = Number(v);
    return v !== '' && Number.isFinite(n) ? n : v;
  };
  const out = [...entries].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return sort.descending ? out.reverse() : out;
}

/** Per objective of an entry, its exact match over the entry's seeds: "Next-token 50% (2 seeds: 40–60%)". */
export function entrySummary(e: HistoryEntry): { label: string; exactMatch: number; min: number; max: number }[] {
  return summarise(e.runs, undefined).map((s, j) => ({
    label: objectiveLabel(e.spec.objectives[j]!),
    exactMatch: s.exactMatch.mean,
    min: s.exactMatch.min,
    max: s.exactMatch.max,
  }));
}

/** The history as a file: its format and its entries. */
export function historyJson(entries: readonly HistoryEntry[]): string {
  return `${JSON.stringify({ format: HISTORY_FORMAT, entries }, null, 1)}\n`;
}

/**
 * A history file, or a results file (one entry, named `fallbackName`'s way): the entries that read, and for each
 * that did not, why.
 */
export function parseHistoryFile(
  text: string,
  now = Date.now(),
  newId: () => string = () => crypto.randomUUID(),
): { entries: HistoryEntry[]; refused: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  if (isObject(doc) && doc.format === HISTORY_FORMAT) {
    if (!Array.isArray(doc.entries)) throw new Error('a history file without its "entries"');
    const entries: HistoryEntry[] = [];
    const refused: string[] = [];
    doc.entries.forEach((x: unknown, i) => {
      try {
        entries.push(checkEntry(x));
      } catch (e) {
        refused.push(
          `entry ${i + 1}${isObject(x) && typeof x.name === 'string' ? ` (${x.name})` : ''}: ${(e as Error).message}`,
        );
      }
    });
    return { entries, refused };
  }
  if (isObject(doc) && typeof doc.format === 'string' && doc.format.startsWith('webgpu-lab-history/'))
    throw new Error(`a history file of another version (${doc.format}); this page reads ${HISTORY_FORMAT}`);
  const opened = parseResults(text);
  const entry: HistoryEntry = {
    id: newId(),
    name: defaultName(opened.spec, opened.runs),
    addedAt: now,
    source: 'file',
    ...opened,
  };
  return { entries: [entry], refused: [] };
}

const CSV_COLUMNS = [
  'entry',
  'seed',
  'lane',
  'objective',
  'kind',
  'step',
  'flops',
  'tokens',
  'seconds',
  'loss',
  'exact_match',
  'held_out_ce',
] as const;

const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Every curve of the entries as CSV: one row per training step and per evaluation, of every seed and lane. */
export function historyCsv(entries: readonly HistoryEntry[]): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const e of entries) {
    for (const r of e.runs) {
      r.results.forEach((l: LaneResult, j) => {
        const objective = objectiveLabel(e.spec.objectives[j]!);
        const common = [e.name, r.seed, j, objective];
        for (const m of l.history.steps)
          rows.push(
            [...common, 'step', m.step, m.flops, m.tokens, m.seconds, m.loss, null, null].map(csvCell).join(','),
          );
        for (const m of l.history.evals)
          rows.push(
            [...common, 'eval', m.step, m.flops, m.tokens, m.seconds, null, m.exactMatch, m.heldOutLoss]
              .map(csvCell)
              .join(','),
          );
      });
    }
  }
  return `${rows.join('\n')}\n`;
}
