import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { AdapterReport } from '../lab/api';
import { saveText, stamp } from './download';
import { csvCell, duration, percent, si } from './format';
import { objectiveColor } from './objective-style';
import type { RunData, SummaryRow } from './run-data';
import { buttonStyles } from './lab-app-styles';

const COLUMNS: [keyof SummaryRow, string][] = [
  ['objective', 'objective'],
  ['label', 'label'],
  ['exactMatch', 'exact_match'],
  ['decisionTokenAccuracy', 'decision_token_accuracy'],
  ['validWrongFraction', 'valid_wrong_fraction'],
  ['steps', 'steps'],
  ['flops', 'flops'],
  ['seconds', 'seconds'],
  ['finalLoss', 'final_loss'],
];

/** The summary as CSV, one row per lane. */
export function summaryCsv(rows: SummaryRow[]): string {
  const lines = [COLUMNS.map(([, name]) => name).join(',')];
  for (const r of rows) lines.push(COLUMNS.map(([key]) => csvCell(r[key])).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Per objective: test exact match, decision-token accuracy, steps, FLOPs and time, live during a run and final
 * after it, with copy and download as CSV, and download as JSON (the spec, the adapter and every lane's full
 * result including its step and eval history).
 */
@customElement('results-table')
export class ResultsTable extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
      }
      .scroll {
        overflow-x: auto;
      }
      table {
        border-collapse: collapse;
        font-variant-numeric: tabular-nums;
        font-size: 0.9rem;
      }
      th,
      td {
        padding: 0.3rem 0.75rem;
        border-bottom: 1px solid var(--border);
        text-align: right;
        white-space: nowrap;
      }
      th:first-child,
      td:first-child {
        text-align: left;
      }
      thead th {
        font-weight: 600;
        border-bottom-color: var(--border-strong);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.6rem;
      }
      .note {
        font-size: 0.85rem;
        color: var(--muted);
      }
    `,
  ];

  @property({ attribute: false }) run: RunData | null = null;
  @property({ type: Number }) revision = 0;
  @property({ attribute: false }) adapter: AdapterReport | null = null;
  @state() private copied = '';

  override render() {
    const rows = this.run?.summary() ?? [];
    if (rows.length === 0) return html`<p class="note">Results appear here once a run starts.</p>`;
    const final = this.run?.results !== null;
    return html`<div class="scroll">
        <table>
          <caption class="note">
            ${final ? 'Final results' : 'Live: latest evaluation of each lane'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Objective</th>
              <th scope="col">Exact match</th>
              <th scope="col">Decision token</th>
              <th scope="col">Steps</th>
              <th scope="col">FLOPs</th>
              <th scope="col">Time</th>
              <th scope="col">Final loss</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (r) =>
                html`<tr>
                  <th scope="row">
                    <svg width="10" height="10" aria-hidden="true">
                      <rect width="10" height="10" rx="2" fill=${objectiveColor(r.objective)}></rect>
                    </svg>
                    ${r.label}
                  </th>
                  <td>${percent(r.exactMatch)}</td>
                  <td>${percent(r.decisionTokenAccuracy)}</td>
                  <td>${r.steps.toLocaleString()}</td>
                  <td>${si(r.flops)}</td>
                  <td>${duration(r.seconds)}</td>
                  <td>${r.finalLoss === null || r.steps === 0 ? '—' : r.finalLoss.toFixed(4)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="actions">
        <button @click=${this.copyCsv}>Copy CSV</button>
        <button @click=${() => saveText(summaryCsv(rows), `results-${stamp()}.csv`, 'text/csv')}>Download CSV</button>
        <button @click=${this.downloadJson}>Download JSON</button>
        ${this.copied ? html`<span class="note" role="status">${this.copied}</span>` : nothing}
      </div>`;
  }

  private async copyCsv() {
    const csv = summaryCsv(this.run?.summary() ?? []);
    try {
      await navigator.clipboard.writeText(csv);
      this.copied = 'Copied to the clipboard.';
    } catch {
      this.copied = 'The browser refused clipboard access; use Download CSV instead.';
    }
  }

  private downloadJson() {
    const run = this.run;
    if (!run) return;
    const doc = {
      createdAt: new Date().toISOString(),
      page: location.href,
      spec: run.spec,
      adapter: this.adapter,
      state: run.state,
      summary: run.summary(),
      results:
        run.results ??
        run.lanes.map((l) => ({
          lane: l.lane,
          objective: l.objective.kind,
          objectiveSpec: l.objective,
          history: { steps: l.steps, evals: l.evals },
        })),
    };
    saveText(`${JSON.stringify(doc, null, 2)}\n`, `results-${stamp()}.json`, 'application/json');
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'results-table': ResultsTable;
  }
}
