import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { buttonStyles } from '../app/lab-app-styles';
import { fieldStyles } from '../app/field';
import { percent } from '../app/format';
import { saveText, stamp } from '../app/download';
import { objectiveLabel } from '../app/objective-style';
import '../run/metric-chart';
import type { SeedCurves } from '../run/seed-curves';
import {
  configDiff,
  entrySummary,
  HISTORY_LIMITS,
  historyCsv,
  historyJson,
  overflow,
  parseHistoryFile,
  sortEntries,
  type HistoryEntry,
  type SortKey,
} from './history';
import { HistoryStore } from './history-store';
import { historyStyles } from './history-styles';

/**
 * The run history: every finished run and every results file opened, kept across reloads (history-store.ts) within
 * HISTORY_LIMITS (adding past them asks before the oldest go). A sortable table with a column for each setting that
 * differs between the entries; selected entries' curves overlaid on two charts; rename, delete, export (JSON, and
 * the curves as CSV) and import. `add` is how the page puts a run in.
 */
@customElement('run-history')
export class RunHistory extends LitElement {
  static override styles = [buttonStyles, fieldStyles, historyStyles];

  private store = new HistoryStore();
  @state() private entries: HistoryEntry[] = [];
  @state() private refused: string[] = [];
  @state() private selected = new Set<string>();
  @state() private sort: SortKey & { descending: boolean } = { by: 'addedAt', descending: true };
  @state() private renaming: { id: string; text: string; problem: string } | null = null;
  /** The entry asked about: adding it drops `drop`, the oldest. */
  @state() private pending: { entry: HistoryEntry; drop: HistoryEntry[] } | null = null;
  /** Entries that arrived while one was asked about (an import of several, runs finishing): asked about in turn. */
  @state() private waiting: HistoryEntry[] = [];
  @state() private message = '';
  @state() private loaded = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
  }

  private async reload(): Promise<void> {
    try {
      const read = await this.store.list();
      this.entries = read.entries;
      this.refused = read.refused.map((r) => `${r.key}: ${r.message}`);
    } catch (e) {
      this.message = `The run history could not be read: ${(e as Error).message}`;
    }
    this.loaded = true;
  }

  /** Keep a run in the history; past the limits, ask before dropping the oldest. */
  async add(entry: HistoryEntry): Promise<void> {
    if (!this.loaded) await this.reload();
    if (this.pending) {
      this.waiting = [...this.waiting, entry];
      return;
    }
    const drop = overflow(this.entries, entry);
    if (drop === null) {
      this.message = `“${entry.name}” is too large for the run history (its limit is ${HISTORY_LIMITS.bytes / 2 ** 20} MiB); download its results to keep it.`;
      return;
    }
    if (drop.length > 0) {
      this.pending = { entry, drop };
      return;
    }
    await this.put(entry);
  }

  /** The user's word on the pending entry; then the waiting ones, each measured against the history as it is now. */
  private async answer(keep: boolean): Promise<void> {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (keep) await this.put(p.entry, p.drop);
    while (!this.pending && this.waiting.length > 0) {
      const [next, ...rest] = this.waiting;
      this.waiting = rest;
      await this.add(next!);
    }
  }

  private async put(entry: HistoryEntry, drop: HistoryEntry[] = []): Promise<void> {
    try {
      for (const d of drop) await this.store.delete(d.id);
      await this.store.put(entry);
    } catch (e) {
      this.message = `“${entry.name}” could not be kept: ${(e as Error).message}`;
    }
    await this.reload();
  }

  private sorted(): HistoryEntry[] {
    return sortEntries(this.entries, this.sort);
  }

  private sortBy(k: SortKey): void {
    this.sort = { ...k, descending: this.sortState(k) === 'ascending' };
  }

  private sortState(k: SortKey): 'ascending' | 'descending' | 'none' {
    const s = this.sort;
    const same = k.by === s.by && (k.by !== 'setting' || (s.by === 'setting' && s.path === k.path));
    return same ? (s.descending ? 'descending' : 'ascending') : 'none';
  }

  override render() {
    const entries = this.sorted();
    const diff = configDiff(entries);
    return html`${this.renderProblems()} ${this.renderAsk()}
      ${
        entries.length === 0
          ? html`<p class="muted">
              No runs yet. Every finished run, and every results file you open, is kept here across reloads.
            </p>`
          : html`<div class="scroll">
              <table aria-label="Run history">
                <thead>
                  <tr>
                    <th><span class="muted">Overlay</span></th>
                    ${this.sortHeader('Name', { by: 'name' })} ${this.sortHeader('Added', { by: 'addedAt' })}
                    <th>Seeds</th>
                    <th>Exact match</th>
                    ${diff.map((c) => this.sortHeader(c.label, { by: 'setting', path: c.path }, 'diff'))}
                    <th>Adapter</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${entries.map((e, i) =>
                    this.renderRow(
                      e,
                      diff.map((c) => c.values[i]!),
                    ),
                  )}
                </tbody>
              </table>
            </div>`
      }
      <div class="bar">
        <button ?disabled=${entries.length === 0} @click=${this.exportJson}>Export JSON</button>
        <button ?disabled=${entries.length === 0} @click=${this.exportCsv}>Curves as CSV</button>
        <label
          >Import (.json history or results)
          <input
            type="file"
            accept=".json,application/json"
            @change=${this.import}
            aria-label="Import into the run history"
        /></label>
        <span class="muted"
          >${this.selected.size > 0 ? `Exports hold the ${this.selected.size} selected.` : 'Exports hold every entry.'}</span
        >
      </div>
      ${this.renderOverlay()}`;
  }

  private sortHeader(label: string, k: SortKey, cls = '') {
    return html`<th class=${cls} aria-sort=${this.sortState(k)}>
      <button @click=${() => this.sortBy(k)} title="Sort by ${label}">${label}</button>
    </th>`;
  }

  private renderProblems() {
    return html`${
      this.refused.length > 0
        ? html`<div class="problem" role="alert">
            <p>
              ${this.refused.length === 1 ? 'One entry' : `${this.refused.length} entries`} of the run history could not
              be read and ${this.refused.length === 1 ? 'is' : 'are'} left out; the rest is kept:
            </p>
            <ul>
              ${this.refused.map((r) => html`<li>${r}</li>`)}
            </ul>
          </div>`
        : nothing
    }
    ${this.message ? html`<p class="problem" role="alert">${this.message}</p>` : nothing}`;
  }

  private renderAsk() {
    const p = this.pending;
    if (!p) return nothing;
    return html`<div class="ask" role="alertdialog" aria-label="The run history is full">
      <p>
        The run history keeps at most ${HISTORY_LIMITS.entries} runs and ${HISTORY_LIMITS.bytes / 2 ** 20} MiB. Keeping
        “${p.entry.name}” drops the oldest: ${p.drop.map((d) => `“${d.name}”`).join(', ')}.
        ${this.waiting.length > 0 ? `${this.waiting.length} more waiting after this one.` : ''}
      </p>
      <button @click=${() => this.answer(true)}>
        Drop ${p.drop.length === 1 ? 'it' : 'them'} and keep the new run
      </button>
      <button @click=${() => this.answer(false)}>Don't keep the new run</button>
    </div>`;
  }

  private renderRow(e: HistoryEntry, diffValues: string[]) {
    const when = new Date(e.addedAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    const renaming = this.renaming?.id === e.id ? this.renaming : null;
    const summary = entrySummary(e);
    return html`<tr data-id=${e.id}>
      <td>
        <input
          type="checkbox"
          aria-label="Overlay ${e.name}"
          .checked=${this.selected.has(e.id)}
          @change=${(ev: Event) => this.select(e.id, (ev.target as HTMLInputElement).checked)}
        />
      </td>
      <td>
        ${
          renaming
            ? html`<input
                  type="text"
                  aria-label="New name"
                  .value=${renaming.text}
                  aria-invalid=${renaming.problem ? 'true' : 'false'}
                  @input=${(ev: Event) =>
                    (this.renaming = { ...renaming, text: (ev.target as HTMLInputElement).value, problem: '' })}
                  @keydown=${(ev: KeyboardEvent) => ev.key === 'Enter' && this.rename(e)}
                />
                <button @click=${() => this.rename(e)}>Save</button>
                <button @click=${() => (this.renaming = null)}>Cancel</button>
                ${renaming.problem ? html`<span class="problem" role="alert">${renaming.problem}</span>` : nothing}`
            : html`<span class="name">${e.name}</span>`
        }
      </td>
      <td>${when}<br /><span class="muted">${e.source === 'run' ? 'trained here' : 'opened from a file'}</span></td>
      <td>${e.runs.map((r) => r.seed).join(', ')}</td>
      <td>
        ${summary.map(
          (s) =>
            html`<div>
              ${s.label}:
              ${percent(s.exactMatch)}${
                e.runs.length > 1
                  ? html` <span class="muted">(${percent(s.min, 0)}–${percent(s.max, 0)})</span>`
                  : nothing
              }
            </div>`,
        )}
      </td>
      ${diffValues.map((v) => html`<td class="diff">${v}</td>`)}
      <td class="muted">${e.adapter ?? '—'}</td>
      <td>
        <button aria-label="Rename ${e.name}" @click=${() => (this.renaming = { id: e.id, text: e.name, problem: '' })}>
          Rename
        </button>
        <button aria-label="Delete ${e.name}" @click=${() => this.delete(e)}>Delete</button>
      </td>
    </tr>`;
  }

  private renderOverlay() {
    const chosen = this.sorted().filter((e) => this.selected.has(e.id));
    if (chosen.length === 0)
      return html`<p class="muted">Tick runs to overlay their curves (each run's lines in its own dash).</p>`;
    const runs: SeedCurves[] = chosen.flatMap((e) =>
      e.runs.map((r) => ({
        seed: r.seed,
        name: e.runs.length > 1 ? `${e.name} · seed ${r.seed}` : e.name,
        lanes: r.results.map((l, j) => ({
          label: objectiveLabel(e.spec.objectives[j]!),
          objective: e.spec.objectives[j]!,
          steps: l.history.steps,
          evals: l.history.evals,
        })),
      })),
    );
    return html`<div class="charts" aria-label="The selected runs' curves">
      <metric-chart
        heading="Test exact match"
        metric="exactMatch"
        xAxis="step"
        view="runs"
        .runs=${runs}
      ></metric-chart>
      <metric-chart
        heading="Held-out cross-entropy per token"
        metric="heldOutLoss"
        xAxis="step"
        view="runs"
        .runs=${runs}
      ></metric-chart>
    </div>`;
  }

  private select(id: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  private async rename(e: HistoryEntry): Promise<void> {
    const r = this.renaming;
    if (!r) return;
    const name = r.text.trim();
    if (name === '') {
      this.renaming = { ...r, problem: 'A name cannot be empty.' };
      return;
    }
    this.renaming = null;
    await this.put({ ...e, name });
  }

  private async delete(e: HistoryEntry): Promise<void> {
    try {
      await this.store.delete(e.id);
    } catch (err) {
      this.message = `Could not delete “${e.name}”: ${(err as Error).message}`;
    }
    this.select(e.id, false);
    await this.reload();
  }

  private exported(): HistoryEntry[] {
    const chosen = this.entries.filter((e) => this.selected.has(e.id));
    return chosen.length > 0 ? chosen : this.entries;
  }

  private exportJson = () => saveText(historyJson(this.exported()), `run-history-${stamp()}.json`, 'application/json');
  private exportCsv = () => saveText(historyCsv(this.exported()), `run-history-curves-${stamp()}.csv`, 'text/csv');

  private import = async (ev: Event): Promise<void> => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    this.message = '';
    let parsed: ReturnType<typeof parseHistoryFile>;
    try {
      parsed = parseHistoryFile(await file.text());
    } catch (e) {
      this.message = `${file.name} was not imported: ${(e as Error).message}`;
      return;
    }
    const known = new Set(this.entries.map((e) => e.id));
    const fresh = parsed.entries.filter((e) => !known.has(e.id));
    const notes = [
      ...parsed.refused.map((r) => `left out ${r}`),
      ...(fresh.length < parsed.entries.length
        ? [`${parsed.entries.length - fresh.length} already in the history`]
        : []),
    ];
    for (const e of fresh) await this.add(e);
    // Past the history's limits the rest wait for the user's word (renderAsk), one at a time.
    const kept = fresh.filter((e) => this.entries.some((x) => x.id === e.id)).length;
    if (kept < fresh.length) notes.push(`${fresh.length - kept} to keep or not (the history is full)`);
    if (notes.length > 0) this.message = `${file.name}: imported ${kept}; ${notes.join('; ')}.`;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'run-history': RunHistory;
  }
}
