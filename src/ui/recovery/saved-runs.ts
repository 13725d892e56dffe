import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { SavedRunInfo } from '../../lab/api';
import { labContext, type LabRemote } from '../run/context';
import { bytes, taskText } from '../app/format';
import type { RecoveryAction } from './recovery-offer';
import { buttonStyles } from '../app/lab-app-styles';

/** One saved run in a line: when, what and how far. */
export function savedRunText(r: SavedRunInfo): string {
  const when = new Date(r.savedAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const objectives = r.spec.objectives.map((o) => o.kind).join(', ');
  return `${when} · ${taskText(r.spec.task)} · ${objectives} · step ${r.step} of ${r.spec.train.steps}`;
}

/**
 * The runs autosaved in this browser (IndexedDB), newest first: date, task, objectives, step and size, each
 * resumable while unfinished and deletable, with the site's total storage use. Reloads when `refresh` changes.
 *
 * @fires recovery-action - detail: { kind: 'resume', runId } for Resume
 */
@customElement('saved-runs')
export class SavedRuns extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
        font-size: 0.9rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.4rem;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.5rem;
        align-items: center;
        border-bottom: 1px solid var(--border);
        padding-bottom: 0.4rem;
      }
      .what {
        flex: 1 1 14rem;
        min-width: 0;
      }
      .muted {
        color: var(--muted);
        font-size: 0.85rem;
      }
      .problem {
        color: var(--bad);
      }
    `,
  ];

  @consume({ context: labContext, subscribe: true })
  @state()
  private lab?: LabRemote;

  /** Anything that changes when the store may have: the latest autosave, the run's state. */
  @property() refresh = '';
  /** The run in progress: it cannot be resumed or deleted while it runs. */
  @property() activeRunId = '';
  @state() private problem = '';

  private runs = new Task(this, {
    task: async ([lab], { signal }) => {
      if (!lab) return null;
      const [list, usage] = await Promise.all([lab.savedRuns(), lab.storageEstimate()]);
      signal.throwIfAborted();
      return { list, usage };
    },
    args: () => [this.lab, this.refresh] as const,
  });

  override render() {
    return this.runs.render({
      initial: () => html`<p class="muted">Waiting for the training worker…</p>`,
      pending: () => (this.runs.value ? this.renderList(this.runs.value) : html`<p class="muted">Loading…</p>`),
      complete: (v) => (v ? this.renderList(v) : html`<p class="muted">Waiting for the training worker…</p>`),
      error: (e) => html`<p class="problem">Saved runs could not be read: ${e instanceof Error ? e.message : e}</p>`,
    });
  }

  private renderList({ list, usage }: { list: SavedRunInfo[]; usage: { usage: number; quota: number } | null }) {
    const total = list.reduce((a, r) => a + r.bytes, 0);
    return html`${
        list.length === 0
          ? html`<p class="muted">No saved runs. Runs are autosaved here while they train.</p>`
          : html`<ul aria-label="Saved runs">
              ${list.map((r) => {
                const active = r.id === this.activeRunId;
                const unfinished = r.step < r.spec.train.steps;
                return html`<li>
                  <span class="what"
                    >${savedRunText(r)} · ${bytes(r.bytes)}
                    ${r.note ? html`<br /><span class="muted">${r.note}</span>` : nothing}</span
                  >
                  ${
                    unfinished
                      ? html`<button ?disabled=${active || this.activeRunId !== ''} @click=${() => this.resume(r.id)}>
                          Resume
                        </button>`
                      : nothing
                  }
                  <button
                    ?disabled=${active}
                    aria-label="Delete saved run ${savedRunText(r)}"
                    @click=${() => this.delete(r.id)}
                  >
                    Delete
                  </button>
                </li>`;
              })}
            </ul>`
      }
      <p class="muted" role="status">
        Saved runs: ${bytes(total)}.
        ${usage ? `This site uses ${bytes(usage.usage)} of ${bytes(usage.quota)} the browser allows.` : nothing}
      </p>
      ${this.problem ? html`<p class="problem" role="alert">${this.problem}</p>` : nothing}`;
  }

  private resume(runId: string) {
    this.dispatchEvent(
      new CustomEvent<RecoveryAction>('recovery-action', {
        detail: { kind: 'resume', runId },
        bubbles: true,
        composed: true,
      }),
    );
  }

  private async delete(id: string) {
    this.problem = '';
    try {
      await this.lab?.deleteSavedRun(id);
    } catch (e) {
      this.problem = `Could not delete: ${e instanceof Error ? e.message : e}`;
    }
    void this.runs.run();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'saved-runs': SavedRuns;
  }
}
