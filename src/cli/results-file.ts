// compare's --json file over seeds, which a long run over many seeds fills over several sittings: the file is written
// again after each seed that finishes, and a later `compare` with the same file and the same experiment keeps the
// seeds it holds and runs only the others. Nothing in an existing file is overwritten by another experiment's runs.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ExperimentSpec, LaneResult } from '../lab/api';
import { UsageError } from './options';

export interface SeedRun {
  seed: number;
  results: LaneResult[];
  /** Seconds of wall time, where the seed trained on its own (not stacked with other seeds). */
  wallSeconds?: number;
}

export interface ResultsFile {
  spec: ExperimentSpec;
  adapter: string;
  seeds: number[];
  /** Wall time of every run over seeds that wrote the file, summed (a single seed's is in its run). */
  wallSeconds?: number;
  runs: SeedRun[];
  summary: unknown;
}

/** JSON with every object's keys sorted: two specs built in different orders compare equal. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/** The experiment a results file is of: the spec without its seed (the file's runs say their seeds). */
const experimentKey = (spec: ExperimentSpec): string => canonical({ ...spec, train: { ...spec.train, seed: 0 } });

/** The settings two specs differ in, as `train.steps (3000 there, 1000 here)`, for the message; at most three. */
function differences(there: ExperimentSpec, here: ExperimentSpec): string {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (canonical(a) === canonical(b) || out.length >= 3) return;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of [...keys].sort())
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    const show = (x: unknown) => (x === undefined ? 'unset' : JSON.stringify(x));
    out.push(`${path} (${show(a)} there, ${show(b)} here)`);
  };
  walk({ ...there, train: { ...there.train, seed: 0 } }, { ...here, train: { ...here.train, seed: 0 } }, '');
  return out.join(', ');
}

/**
 * What `file` already holds for this experiment, to keep; null where there is no file. A file that is not a results
 * file, or holds another experiment's runs, is refused (UsageError), as is one whose runs ran on another adapter
 * than `adapter` (once the adapter is known): a new run would overwrite it.
 */
export function readKeptRuns(file: string, spec: ExperimentSpec): ResultsFile | null {
  if (!existsSync(file)) return null;
  let data: ResultsFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  } catch (e) {
    throw new UsageError(
      `--json: '${file}' exists and is not JSON (${(e as Error).message}); name another file, or move it away`,
    );
  }
  if (
    typeof data !== 'object' ||
    data === null ||
    typeof data.spec !== 'object' ||
    data.spec === null ||
    !Array.isArray(data.runs) ||
    !data.runs.every((r) => Number.isInteger(r?.seed) && Array.isArray(r.results))
  )
    throw new UsageError(
      `--json: '${file}' exists and is not a results file of compare; name another file, or move it away`,
    );
  if (experimentKey(data.spec) !== experimentKey(spec))
    throw new UsageError(
      `--json: '${file}' holds another experiment's runs (${differences(data.spec, spec)}); ` +
        `name another file to keep both, or move it away`,
    );
  return data;
}

/** Refuses to add runs on `adapter` to a file whose runs ran on another: their rounding differs. */
export function checkKeptAdapter(file: string, data: ResultsFile, adapter: string): void {
  if (data.adapter !== adapter)
    throw new UsageError(
      `--json: '${file}' holds runs on another adapter (${data.adapter}; this is ${adapter}); name another file`,
    );
}

/** Writes the file whole, through a temporary file beside it: an interrupted write leaves the previous version. */
export function writeResultsFile(file: string, data: ResultsFile): void {
  const tmp = `${file}.partial`;
  writeFileSync(tmp, JSON.stringify(data, null, 2));
  renameSync(tmp, file);
}
