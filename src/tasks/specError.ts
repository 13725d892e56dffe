// Errors for task and objective specs, tied to the spec field the page shows them next to.
import { ConfigError } from '../model/config';

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

/** Throws TaskSpecError unless v is a whole number in [min, max]. */
export function checkTaskInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new TaskSpecError(field, `must be a whole number, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) throw new TaskSpecError(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}
