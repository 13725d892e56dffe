// A results file as the page reads it: `npm run lab -- compare --json`, PyTorch's results.json (python -m labtorch)
// or this page's Download JSON. No DOM: the run history (src/ui/history/) checks its entries with it too.
import type { ExperimentSpec, LaneResult } from '../../lab/api';
import { fieldIssues } from '../../spec/check';

/** One seed's run of a results file. */
export interface ResultsRun {
  seed: number;
  results: LaneResult[];
}

/** What a results file holds: the experiment, and each seed's lane results with their histories. */
export interface OpenedResults {
  spec: ExperimentSpec;
  runs: ResultsRun[];
  /** Where it was made, if the file says (e.g. "PyTorch 2.11.0 on NVIDIA H200, 8 ranks"). */
  adapter: string | null;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Read a results file: `npm run lab -- compare --json`, PyTorch's results.json (python -m labtorch) or this page's
 * Download JSON. Throws an Error saying what is wrong with it.
 */
export function parseResults(text: string): OpenedResults {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  return checkResults(doc);
}

/** A results file's content, already parsed (a stored history entry, say), checked as parseResults checks it. */
export function checkResults(doc: unknown): OpenedResults {
  if (!isObject(doc) || !isObject(doc.spec))
    throw new Error('no "spec": this is not a results file of the lab or its PyTorch export');
  const spec = doc.spec as unknown as ExperimentSpec;
  const problems = fieldIssues(spec);
  if (problems.length > 0)
    throw new Error(
      `its spec is not one this page can run: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    );
  let runs: unknown;
  if (Array.isArray(doc.runs))
    runs = doc.runs; // compare --json, PyTorch
  else if (isObject(doc.seeds) && Array.isArray(doc.seeds.runs))
    runs = doc.seeds.runs; // this page, over seeds
  else if (Array.isArray(doc.results))
    runs = [{ seed: spec.train.seed, results: doc.results }]; // this page, one run
  else throw new Error('no "runs" or "results" in it');
  const checked = (runs as unknown[]).map((r, i): ResultsRun => {
    if (!isObject(r) || typeof r.seed !== 'number' || !Array.isArray(r.results))
      throw new Error(`run ${i + 1} has no seed and results`);
    if (r.results.length !== spec.objectives.length) {
      throw new Error(
        `run ${i + 1} has ${r.results.length} lanes; the spec names ${spec.objectives.length} objectives`,
      );
    }
    r.results.forEach((l: unknown, j) => {
      if (!isObject(l) || !isObject(l.history) || !Array.isArray(l.history.steps) || !Array.isArray(l.history.evals)) {
        throw new Error(`run ${i + 1}, lane ${j}: no history of steps and evaluations`);
      }
      if (l.objective !== spec.objectives[j]!.kind)
        throw new Error(`run ${i + 1}, lane ${j} is ${String(l.objective)}; the spec says ${spec.objectives[j]!.kind}`);
    });
    return { seed: r.seed, results: r.results as LaneResult[] };
  });
  if (checked.length === 0) throw new Error('it holds no run');
  return { spec, runs: checked, adapter: typeof doc.adapter === 'string' ? doc.adapter : null };
}
