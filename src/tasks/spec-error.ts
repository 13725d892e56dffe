// Errors for task and objective specs, tied to the spec field the page shows them next to.
import { ConfigError } from '../model/config';
import { field, numberProblem } from '../spec/fields';

/**
 * A bad task spec: `field` is the dotted spec path (e.g. `task.degree`); `reason` says what is wrong and what would
 * be right (the Error's message is `field: reason`).
 */
export class TaskSpecError extends ConfigError {
  constructor(
    field: string,
    readonly reason: string,
  ) {
    super(field, reason);
    this.name = 'TaskSpecError';
  }
}

/** Throws TaskSpecError unless v is in the range of the spec field at `path` (src/spec/fields.ts). */
export function checkTaskField(path: string, v: unknown): number {
  const problem = numberProblem(field(path), v);
  if (problem) throw new TaskSpecError(path, problem);
  return v as number;
}
