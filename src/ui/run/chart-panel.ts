import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { X_LABELS, type XAxis } from './chart-data';
import './metric-chart';
import type { RunData } from './run-data';

/**
 * The live charts side by side, with one x-axis switch for all: steps, training FLOPs (compares objectives at equal
 * compute; multi-token heads cost more per step) or wall time. Held-out exact match and held-out cross-entropy per
 * target token put every objective on one scale; each objective's own training loss does not (a sum over
 * multi-token heads, diffusion's weighted ELBO), so it is shown last, for watching a lane train.
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
    .charts {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
      gap: 1rem;
    }
  `;

  @property({ attribute: false }) run: RunData | null = null;
  @state() private xAxis: XAxis = 'step';

  override render() {
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
      <div class="charts">
        <metric-chart
          heading="Test exact match"
          metric="exactMatch"
          .xAxis=${this.xAxis}
          .run=${this.run}
        ></metric-chart>
        <metric-chart
          heading="Held-out cross-entropy per token"
          metric="heldOutLoss"
          .xAxis=${this.xAxis}
          .run=${this.run}
        ></metric-chart>
        <metric-chart
          heading="Training loss (each objective's own)"
          metric="loss"
          .xAxis=${this.xAxis}
          .run=${this.run}
        ></metric-chart>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chart-panel': ChartPanel;
  }
}
