// Tasks by spec: the one entry point the lab, the command line and the tests use.
import type { SpecIssue, TaskSpec } from '../spec/types';
import { additionTask, validateAdditionSpec } from './addition';
import { customTask, validateCustomSpec } from './custom';
import { pathStarTask, validatePathStarSpec } from './path-star';
import { TaskSpecError } from './spec-error';
import type { Task } from './types';

export { TaskSpecError } from './spec-error';
export { PATH_STAR_PRESETS, pathStarPreset, pathStarPromptLength, type PathStarPresetName } from './path-star';
export { CUSTOM_MAX_LINE_TOKENS, parseCustomPairs } from './custom';
export type { Example, SpecialTokens, Task } from './types';

/** Build a task; the seed fixes its test set and fixed training set. Throws TaskSpecError for a bad spec. */
export function makeTask(spec: TaskSpec, seed: number): Task {
  switch (spec.kind) {
    case 'path-star':
      return pathStarTask(spec, seed);
    case 'addition':
      return additionTask(spec, seed);
    case 'custom':
      return customTask(spec, seed);
    default:
      throw new TaskSpecError(
        'task.kind',
        `must be path-star, addition or custom, got ${JSON.stringify(kindOf(spec))}`,
      );
  }
}

/** The spec's problem, if any, without generating data ([] when it is valid). */
export function taskSpecIssues(spec: TaskSpec): SpecIssue[] {
  try {
    switch (spec.kind) {
      case 'path-star':
        validatePathStarSpec(spec);
        break;
      case 'addition':
        validateAdditionSpec(spec);
        break;
      case 'custom':
        validateCustomSpec(spec);
        break;
      default:
        throw new TaskSpecError(
          'task.kind',
          `must be path-star, addition or custom, got ${JSON.stringify(kindOf(spec))}`,
        );
    }
  } catch (e) {
    if (e instanceof TaskSpecError) return [{ field: e.field, message: e.reason }];
    throw e;
  }
  return [];
}

function kindOf(spec: never): unknown {
  return (spec as { kind?: unknown }).kind;
}
