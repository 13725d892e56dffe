// The page's defaults for each kind of task, and the client-side check of the form. The field table itself (paths,
// query parameters, labels, ranges) is src/spec/fields.ts, shared with the lab's validators; the lab's own
// `check(spec)` remains the authority (memory against the adapter's limits, data built from the spec).
import { DEFAULT_EXPERIMENT } from '../lab/experiments';
import { fieldIssues } from '../spec/check';
import type { ExperimentSpec, SpecIssue, TaskSpec } from '../spec/types';

export {
  activeFields,
  defaultObjective,
  DIFFUSION_VARIANTS,
  fieldLabel,
  getNumber,
  MODEL_FIELDS,
  numberProblem,
  OBJECTIVE_FIELDS,
  OBJECTIVE_KINDS,
  setNumber,
  TASK_FIELDS,
  TRAIN_FIELDS,
  type NumberField,
} from '../spec/fields';

/** Sample pasted data for the custom task: reverse a three-letter word. */
function sampleCustomText(): string {
  const letters = 'abcdefgh';
  const lines: string[] = [];
  for (let i = 0; i < 96; i++) {
    const w = [letters[i % 8], letters[(i * 3 + 1) % 8], letters[(i * 5 + 2) % 8]].join('');
    lines.push(`${w}\t${[...w].reverse().join('')}`);
  }
  return [...new Set(lines)].join('\n');
}

/** Default task of each kind; path-star is the headline experiment's graph (src/lab/experiments.ts). */
export const DEFAULT_TASKS: { [K in TaskSpec['kind']]: Extract<TaskSpec, { kind: K }> } = {
  'path-star': DEFAULT_EXPERIMENT.task as Extract<TaskSpec, { kind: 'path-star' }>,
  addition: { kind: 'addition', digits: 3, reversed: true, trainSize: 0, testSize: 1000 },
  custom: { kind: 'custom', text: sampleCustomText(), testFraction: 0.2 },
};

/** The page's default: the headline experiment, the Clever Hans contrast. */
export const DEFAULT_SPEC: ExperimentSpec = DEFAULT_EXPERIMENT;

/** Problems the page can tell before asking the lab: the spec's fields (src/spec/check.ts, stages 1–2). */
export function clientIssues(spec: ExperimentSpec): SpecIssue[] {
  return fieldIssues(spec);
}
