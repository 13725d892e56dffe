import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExampleView } from '../../lab/api';
import { labContext, type LabRemote } from '../run/context';
import './path-star-graph';
import type { RunData } from '../run/run-data';
import './token-compare';
import './unmask-replay';
import { buttonStyles } from '../app/lab-app-styles';

const COUNT = 8;

/**
 * Test examples with every lane's current prediction (decoded on request through `lab.examples`): the path-star
 * graph with each predicted path, a replay of diffusion's unmasking order, and the tokens with wrong ones marked.
 */
@customElement('example-view')
export class ExampleViewer extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-bottom: 0.5rem;
      }
      .body {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        align-items: flex-start;
      }
      .detail {
        flex: 1 1 24rem;
        min-width: 0;
        display: grid;
        gap: 0.75rem;
      }
      .muted {
        color: var(--muted);
        font-size: 0.9rem;
      }
      .problem {
        color: var(--bad);
      }
    `,
  ];

  @consume({ context: labContext, subscribe: true })
  @state()
  private lab?: LabRemote;

  @property({ attribute: false }) run: RunData | null = null;
  @state() private index = 0;
  /** The run the shown examples were decoded from (its identity: snapshots change every step); a new run hides them. */
  private decodedFor: object | null = null;

  private examples = new Task(this, {
    task: async (_args, { signal }): Promise<ExampleView[]> => {
      if (!this.lab) throw new Error('The training worker is not running.');
      const run = this.run;
      const views = await this.lab.examples(COUNT);
      signal.throwIfAborted();
      this.index = 0;
      this.decodedFor = run?.identity ?? null;
      return views;
    },
    args: () => [],
    autoRun: false,
  });

  override render() {
    const canFetch =
      this.run !== null && this.run.state !== 'starting' && this.run.modelsHeld && this.lab !== undefined;
    const fetched = this.examples.value !== undefined && this.decodedFor === (this.run?.identity ?? null);
    return html`<div class="bar">
        <button ?disabled=${!canFetch} @click=${() => this.examples.run()}>
          ${fetched ? 'Decode again with current weights' : 'Show test examples'}
        </button>
        ${this.examples.render({
          pending: () => html`<span class="muted" role="status">Decoding…</span>`,
          complete: (views) => (fetched ? this.renderNav(views.length) : nothing),
          error: (e) => html`<span class="problem" role="alert">${e instanceof Error ? e.message : String(e)}</span>`,
        })}
      </div>
      ${!canFetch && !fetched ? html`<p class="muted">${this.idleText()}</p>` : nothing}
      ${fetched ? this.examples.render({ complete: (views) => this.renderExample(views[this.index]) }) : nothing}`;
  }

  private idleText(): string {
    if (this.run && !this.run.modelsHeld) {
      return "This run was opened from its results alone; open it with its lanes' checkpoints to see its predictions.";
    }
    return 'Start a run to see what each objective predicts.';
  }

  private renderNav(n: number) {
    if (n === 0) return html`<span class="muted">No test examples.</span>`;
    return html`<button ?disabled=${this.index === 0} @click=${() => this.index--} aria-label="Previous example">
        ←
      </button>
      <span role="status">Example ${this.index + 1} of ${n}</span>
      <button ?disabled=${this.index >= n - 1} @click=${() => this.index++} aria-label="Next example">→</button>`;
  }

  private renderExample(ex: ExampleView | undefined) {
    if (!ex) return nothing;
    const lanes = this.run?.lanes ?? [];
    const isGraph = this.run?.spec.task.kind === 'path-star';
    const replays = ex.predictions.filter((p) => p.commitStep);
    return html`<div class="body">
      ${isGraph ? html`<path-star-graph .example=${ex}></path-star-graph>` : nothing}
      <div class="detail">
        <token-compare .example=${ex} .lanes=${lanes} ?graph=${isGraph}></token-compare>
        ${replays.map(
          (p) =>
            html`<unmask-replay
              .example=${ex}
              .lane=${p.lane}
              .label=${lanes.find((l) => l.lane === p.lane)?.label ?? p.objective}
            ></unmask-replay>`,
        )}
      </div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'example-view': ExampleViewer;
  }
}
