import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { AdapterReport, LaneResult } from '../../lab/api';
import { copyPositionOf, summarise, type SeedSummary, type Spread } from '../../lab/seeds';
import type { ObjectiveName } from '../../objectives/types';
import { saveText, stamp } from '../app/download';
import { csvCell, duration, percent, si } from '../app/format';
import { objectiveColor } from '../app/objective-style';
import type { RunData, SummaryRow } from '../run/run-data';
import { buttonStyles } from '../app/lab-app-styles';

const COLUMNS: [keyof SummaryRow, string][] = [
  ['objective', 'objective'],
  ['label', 'label'],
  ['exactMatch', 'exact_match'],
  ['exactMatchLow', 'exact_match_ci95_low'],
  ['exactMatchHigh', 'exact_match_ci95_high'],
  ['validWrongFraction', 'valid_wrong_fraction'],
  ['decisionTokenAccuracy', 'decision_token_accuracy'],
  ['afterDecisionTeacherForced', 'teacher_forced_after_decision'],
  ['heldOutLoss', 'held_out_cross_entropy'],
  ['stepTo90', 'step_to_90'],
  ['flopsTo90', 'flops_to_90'],
  ['secondsTo90', 'seconds_to_90'],
  ['steps', 'steps'],
  ['flops', 'flops'],
  ['seconds', 'seconds'],
  ['finalLoss', 'final_training_loss'],
];

/** One finished run of a repetition over seeds. */
export interface SeedRun {
  seed: number;
  results: LaneResult[];
}

const SEED_COLUMNS = [
  'objective',
  'seeds',
  'exact_match_mean',
  'exact_match_sd',
  'exact_match_min',
  'exact_match_max',
  'decision_mean',
  'teacher_forced_after_decision_mean',
  'reached_90',
  'steps_to_90',
];

/** The summary over seeds as CSV, one row per objective. */
export function seedSummaryCsv(summary: SeedSummary[]): string {
  const lines = [SEED_COLUMNS.join(',')];
  for (const s of summary) {
    lines.push(
      [
        s.objective,
        s.seeds.join(' '),
        s.exactMatch.mean,
        s.exactMatch.sd,
        s.exactMatch.min,
        s.exactMatch.max,
        s.decisionTokenAccuracy?.mean ?? null,
        s.afterDecisionTeacherForced?.mean ?? null,
        `${s.reached90.count}/${s.seeds.length}`,
        s.reached90.steps.map((x) => x ?? '-').join(' '),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The summary as CSV, one row per lane; with results over seeds, their summary follows after a blank line. */
export function summaryCsv(rows: SummaryRow[], seeds: SeedSummary[] = []): string {
  const lines = [COLUMNS.map(([, name]) => name).join(',')];
  for (const r of rows) lines.push(COLUMNS.map(([key]) => csvCell(r[key])).join(','));
  const runs = `${lines.join('\n')}\n`;
  return seeds.length > 0 ? `${runs}\n${seedSummaryCsv(seeds)}` : runs;
}

/** A row's header: the objective's colour and its label. */
const laneHeader = (objective: ObjectiveName, label: string) =>
  html`<th scope="row">
    <svg width="10" height="10" aria-hidden="true">
      <rect width="10" height="10" rx="2" fill=${objectiveColor(objective)}></rect>
    </svg>
    ${label}
  </th>`;

const meanSd = (s: Spread | null): string => (s === null ? '—' : `${percent(s.mean)} ± ${(100 * s.sd).toFixed(1)}`);

/**
 * Per objective: test exact match with its 95% interval, the share of wrong answers that are still valid (on
 * path-star a real path down the wrong arm; below chance without them means paths that are not paths), the
 * decision token and the copy after it under teacher forcing, held-out cross-entropy, when 90% was first reached,
 * steps, FLOPs and time; live during a run and final after it. After a repetition over seeds, a second table gives
 * each objective's mean and spread. Copy and download as CSV, download as JSON (the spec, the adapter, every lane's
 * full result with its step and eval history, and the runs of every seed).
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
      table.seeds {
        margin-top: 0.75rem;
      }
      table {
        border-collapse: collapse;
        font-variant-numeric: tabular-nums;
        font-size: 0.9rem;
      }
      th,
      td {
        padding: 0.3rem 0.5rem;
        border-bottom: 1px solid var(--border);
        text-align: right;
        white-space: nowrap;
      }
      /* Eleven columns: headers wrap so that the table fits the panel on a laptop screen. */
      thead th {
        white-space: normal;
        vertical-align: bottom;
        max-width: 6.5rem;
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
  @property({ attribute: false }) adapter: AdapterReport | null = null;
  /** The finished runs of a repetition over seeds (the summary table shows from two on). */
  @property({ attribute: false }) seedRuns: SeedRun[] = [];
  @state() private copied = '';

  private seedSummary(): SeedSummary[] {
    if (this.seedRuns.length < 2 || !this.run) return [];
    return summarise(this.seedRuns, copyPositionOf(this.run.spec.task));
  }

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
              <th scope="col" title="95% Wilson interval over the test examples evaluated">95% interval</th>
              <th
                scope="col"
                title="Of the wrong answers, the share that are still valid (path-star: a real path down another arm)"
              >
                Valid but wrong
              </th>
              <th scope="col">Decision token</th>
              <th scope="col" title="Teacher-forced accuracy at the position after the decision: the Clever Hans copy">
                Copy after it (TF)
              </th>
              <th scope="col" title="Held-out cross-entropy per target token, the same quantity for every objective">
                Held-out CE
              </th>
              <th scope="col">90% reached</th>
              <th scope="col">Steps</th>
              <th scope="col">FLOPs</th>
              <th scope="col">Time</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (r) =>
                html`<tr>
                  ${laneHeader(r.objective, r.label)}
                  <td>${percent(r.exactMatch)}</td>
                  <td>
                    ${r.exactMatchLow === null ? '—' : `${percent(r.exactMatchLow, 0)}–${percent(r.exactMatchHigh, 0)}`}
                  </td>
                  <td>${percent(r.validWrongFraction, 0)}</td>
                  <td>${percent(r.decisionTokenAccuracy)}</td>
                  <td>${percent(r.afterDecisionTeacherForced)}</td>
                  <td>${r.heldOutLoss === null ? '—' : r.heldOutLoss.toFixed(3)}</td>
                  <td>
                    ${r.stepTo90 === null ? (final ? 'not reached' : 'not yet') : `step ${r.stepTo90.toLocaleString()}, ${duration(r.secondsTo90 ?? NaN)}`}
                  </td>
                  <td class="steps">${r.steps.toLocaleString()}</td>
                  <td>${si(r.flops)}</td>
                  <td>${duration(r.seconds)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${this.renderSeeds()}
      <div class="actions">
        <button @click=${this.copyCsv}>Copy CSV</button>
        <button @click=${() => saveText(summaryCsv(rows, this.seedSummary()), `results-${stamp()}.csv`, 'text/csv')}>
          Download CSV
        </button>
        <button @click=${this.downloadJson}>Download JSON</button>
        ${this.copied ? html`<span class="note" role="status">${this.copied}</span>` : nothing}
      </div>`;
  }

  private renderSeeds() {
    const summary = this.seedSummary();
    if (summary.length === 0) return nothing;
    return html`<div class="scroll">
      <table class="seeds">
        <caption class="note">
          Over seeds ${summary[0]!.seeds.join(', ')}: mean ± standard deviation (lowest–highest)
        </caption>
        <thead>
          <tr>
            <th scope="col">Objective</th>
            <th scope="col">Exact match</th>
            <th scope="col">Decision token</th>
            <th scope="col">Copy after it (TF)</th>
            <th scope="col">90% reached</th>
            <th scope="col">at steps</th>
          </tr>
        </thead>
        <tbody>
          ${summary.map(
            (s) =>
              html`<tr>
                ${laneHeader(s.objective as ObjectiveName, this.run?.lanes[s.lane]?.label ?? s.objective)}
                <td>${meanSd(s.exactMatch)} (${percent(s.exactMatch.min, 0)}–${percent(s.exactMatch.max, 0)})</td>
                <td>${meanSd(s.decisionTokenAccuracy)}</td>
                <td>${meanSd(s.afterDecisionTeacherForced)}</td>
                <td>${s.reached90.count} of ${s.seeds.length}</td>
                <td>${s.reached90.steps.map((x) => (x === null ? '—' : x.toLocaleString())).join(', ')}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  private async copyCsv() {
    const csv = summaryCsv(this.run?.summary() ?? [], this.seedSummary());
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
      ...(this.seedRuns.length > 1 ? { seeds: { runs: this.seedRuns, summary: this.seedSummary() } } : {}),
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
