import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { X_LABELS, type XAxis } from './chart-data';
import './metric-chart';
import type { RunData } from './run-data';
import type { SeedRun } from '../results/results-table';
import { objectiveLabel } from '../app/objective-style';
import type { SeedCurves, SeedView } from './seed-curves';

/**
 * The live charts side by side, with one x-axis switch for all: steps, training FLOPs (compares objectives at equal
 * compute; multi-token heads cost more per step), training tokens or wall time. Held-out exact match and held-out
 * cross-entropy per target token put every objective on one scale; each objective's own training loss does not (a
 * sum over multi-token heads, diffusion's weighted ELBO), so it is shown last, for watching a lane train. Over
 * seeds (the finished runs of a repetition, and the one running), a second switch: each objective's mean with its
 * band from the lowest seed to the highest, or every seed's own line.
 */
@customElement('chart-panel')
export class ChartPanel extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    fieldset {
      border: none;
      margin: 0 0 0.5rem;
      padding: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 1rem;
      align-items: center;
      font-size: 0.9rem;
    }
    legend {
      float: left;
      margin-right: 0.5rem;
      font-weight: 600;
    }
    label {
      display: inline-flex;
      gap: 0.3rem;
      align-items: center;
    }
    input {
      accent-color: var(--accent);
    }
    input:focus-visible {
      outline: 2px solid var(--focus);
    }
    .note {
      color: var(--muted);
      font-size: 0.85rem;
    }
    .charts {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
      gap: 1rem;
    }
  `;

  @property({ attribute: false }) run: RunData | null = null;
  /** The finished runs of the current repetition over seeds (the running one is `run`). */
  @property({ attribute: false }) seedRuns: readonly SeedRun[] = [];
  @state() private xAxis: XAxis = 'step';
  @state() private view: SeedView = 'band';

  /** Every seed's lanes: the finished runs, then the running one unless it is among them. */
  private curves(): SeedCurves[] {
    const done = this.seedRuns.map((r): SeedCurves => ({
      seed: r.seed,
      lanes: r.results.map((l) => ({
        label: objectiveLabel(l.objectiveSpec),
        objective: l.objectiveSpec,
        steps: l.history.steps,
        evals: l.history.evals,
      })),
    }));
    const run = this.run;
    if (!run) return done;
    // The run on screen: its seed, and in a run over seeds trained together every other seed's lanes too.
    const live: SeedCurves[] = [
      { seed: run.spec.train.seed, lanes: run.lanes },
      ...[...run.seedLanes].map(([seed, lanes]) => ({ seed, lanes })),
    ];
    return [...done, ...live.filter((l) => !done.some((r) => r.seed === l.seed))];
  }

  override render() {
    const runs = this.curves();
    return html`<fieldset>
        <legend>X axis</legend>
        ${(Object.keys(X_LABELS) as XAxis[]).map(
          (axis) =>
            html`<label
              ><input
                type="radio"
                name="x-axis"
                value=${axis}
                .checked=${this.xAxis === axis}
                @change=${() => (this.xAxis = axis)}
              />${X_LABELS[axis]}</label
            >`,
        )}
      </fieldset>
      ${
        runs.length > 1
          ? html`<fieldset>
              <legend>${runs.length} seeds</legend>
              ${(
                [
                  ['band', 'Mean and spread'],
                  ['seeds', 'Every seed'],
                ] as const
              ).map(
                ([view, label]) =>
                  html`<label
                    ><input
                      type="radio"
                      name="seed-view"
                      value=${view}
                      .checked=${this.view === view}
                      @change=${() => (this.view = view)}
                    />${label}</label
                  >`,
              )}
              <span class="note">Click a legend entry to hide or show its line.</span>
            </fieldset>`
          : nothing
      }
      <div class="charts">
        <metric-chart
          heading="Test exact match"
          metric="exactMatch"
          .xAxis=${this.xAxis}
          .view=${this.view}
          .runs=${runs}
        ></metric-chart>
        <metric-chart
          heading="Held-out cross-entropy per token"
          metric="heldOutLoss"
          .xAxis=${this.xAxis}
          .view=${this.view}
          .runs=${runs}
        ></metric-chart>
        <metric-chart
          heading="Training loss (each objective's own)"
          metric="loss"
          .xAxis=${this.xAxis}
          .view=${this.view}
          .runs=${runs}
        ></metric-chart>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chart-panel': ChartPanel;
  }
}
