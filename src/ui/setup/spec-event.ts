// The event every setup component fires when the user edits the experiment.
import type { ExperimentSpec } from '../../lab/api';

export const SPEC_CHANGE = 'spec-change';

/** Fire `spec-change` with the whole edited spec (bubbles and leaves shadow roots). */
export function emitSpec(from: HTMLElement, spec: ExperimentSpec): void {
  from.dispatchEvent(new CustomEvent<ExperimentSpec>(SPEC_CHANGE, { detail: spec, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    'spec-change': CustomEvent<ExperimentSpec>;
  }
}
