// The page's defaults: the headline experiment, and a starting task of each kind for the task select. The fields
// themselves (paths, query parameters, labels, ranges) are src/spec/fields.ts and the form's checks
// src/spec/check.ts's fieldIssues, shared with the lab; the lab's `check(spec)` remains the authority.
import { DEFAULT_EXPERIMENT } from '../../lab/experiments';
import type { ExperimentSpec, TaskSpec } from '../../spec/types';

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
