// Keeps the list of problems with the spec being edited: the page's own checks at once, then the lab's
// `check(spec)` (memory against the adapter's limits, objective rules) after the typing pauses. A newer spec
// aborts the older check, so a slow answer never overwrites a newer one.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ExperimentSpec, SpecIssue } from '../../lab/api';
import type { LabRemote } from '../run/context';
import { fieldIssues } from '../../spec/check';

const DEBOUNCE_MS = 300;

export class SpecCheckController implements ReactiveController {
  issues: SpecIssue[] = [];
  /** True while the lab's answer for the current spec is pending. */
  checking = false;
  private abort: AbortController | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly lab: () => LabRemote | undefined,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.abort?.abort();
  }

  /** Check a spec: client issues now, the lab's after a pause. Resolves with the final list (or [] if superseded). */
  async check(spec: ExperimentSpec, debounce = true): Promise<SpecIssue[]> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.issues = fieldIssues(spec);
    const lab = this.lab();
    this.checking = this.issues.length === 0 && lab !== undefined;
    this.host.requestUpdate();
    if (!this.checking || !lab) return this.issues;
    if (debounce) await new Promise((r) => setTimeout(r, DEBOUNCE_MS));
    if (abort.signal.aborted) return [];
    let issues: SpecIssue[];
    try {
      issues = await lab.check(spec);
    } catch (err) {
      issues = [
        { field: '', message: `The lab could not check this setup: ${err instanceof Error ? err.message : err}` },
      ];
    }
    if (abort.signal.aborted) return [];
    this.issues = issues;
    this.checking = false;
    this.host.requestUpdate();
    return issues;
  }
}
