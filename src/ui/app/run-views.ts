import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AdapterReport, TaskSpec } from '../../lab/api';
import '../run/chart-panel';
import '../checkpoints/checkpoint-export';
import '../results/clever-hans-view';
import '../results/example-view';
import { sectionStyles } from './lab-app-styles';
import '../results/results-table';
import type { SeedRun } from '../results/results-table';
import type { RunData } from '../run/run-data';

/**
 * What a run produced, panel by panel: the learning curves, teacher forcing vs free running per position, test
 * examples, the results table and the checkpoints to download. Each run snapshot is a new object, so a panel
 * redraws whenever the run changes.
 */
@customElement('run-views')
export class RunViews extends LitElement {
  // The panels stack in the page's column grid, as if they were its own children.
  static override styles = [
    sectionStyles,
    css`
      :host {
        display: contents;
      }
    `,
  ];

  @property({ attribute: false }) run: RunData | null = null;
  @property({ attribute: false }) task!: TaskSpec;
  @property({ attribute: false }) adapter: AdapterReport | null = null;
  @property({ attribute: false }) seedRuns: SeedRun[] = [];

  override render() {
    const run = this.run;
    return html`<section aria-labelledby="curves-h">
        <h2 id="curves-h">Learning curves</h2>
        <chart-panel .run=${run} .seedRuns=${this.seedRuns}></chart-panel>
      </section>
      <section aria-labelledby="hans-h">
        <h2 id="hans-h">Teacher forcing vs free running, per target position</h2>
        <clever-hans-view .run=${run} .task=${this.task} .seedRuns=${this.seedRuns}></clever-hans-view>
      </section>
      <section aria-labelledby="examples-h">
        <h2 id="examples-h">Examples</h2>
        <example-view .run=${run}></example-view>
      </section>
      <section aria-labelledby="results-h">
        <h2 id="results-h">Results</h2>
        <results-table .run=${run} .adapter=${this.adapter} .seedRuns=${this.seedRuns}></results-table>
      </section>
      <section aria-labelledby="export-h">
        <h2 id="export-h">Checkpoints</h2>
        <checkpoint-export .run=${run}></checkpoint-export>
      </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'run-views': RunViews;
  }
}
