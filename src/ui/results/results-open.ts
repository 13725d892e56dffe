import { consume } from '@lit/context';
import { html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExperimentSpec, LaneState } from '../../lab/api';
import { labContext, type LabRemote } from '../run/context';
import { fieldStyles, filePanelStyles } from '../app/field';
import { buttonStyles } from '../app/lab-app-styles';
import { taskText } from '../app/format';
import { parseResults, type OpenedResults, type ResultsRun } from './results-file';

export { parseResults, type OpenedResults, type ResultsRun } from './results-file';

export interface ResultsOpenDetail {
  /** The experiment with the chosen seed. */
  spec: ExperimentSpec;
  run: ResultsRun;
  /** Every seed's run, for the summary over seeds. */
  runs: ResultsRun[];
  /** Each lane's checkpoint, when given: the page then holds the models (examples, ONNX export). */
  states: LaneState[] | null;
  /** Where the file says it was made, if it does. */
  adapter: string | null;
}

/**
 * Open a run made elsewhere — on the command line, or at scale with PyTorch — from its results file: the page shows
 * its curves, Clever Hans view and tables (and the summary over its seeds). With the lanes' checkpoints (model and
 * optimizer files) the page also loads the models, so examples and ONNX export work, and evaluates them once more
 * with this page's own engine.
 *
 * @fires results-open - detail: ResultsOpenDetail
 */
@customElement('results-open')
export class ResultsOpen extends LitElement {
  static override styles = [buttonStyles, fieldStyles, filePanelStyles];

  @consume({ context: labContext, subscribe: true })
  @state()
  private lab?: LabRemote;

  @property({ type: Boolean }) busy = false;
  @state() private opened: OpenedResults | null = null;
  @state() private problem = '';
  @state() private seed: number | null = null;
  @state() private checkpoints: File[] = [];
  @state() private working = false;

  override render() {
    const o = this.opened;
    return html`<div class="field">
        <label for="results-file">Results (.json from compare --json, PyTorch, or this page)</label>
        <input id="results-file" type="file" accept=".json,application/json" @change=${this.onResults} />
      </div>
      <div class="field">
        <label for="results-checkpoints">Lane checkpoints of that seed (optional: models and optimizer files)</label>
        <input id="results-checkpoints" type="file" accept=".safetensors" multiple @change=${this.onCheckpoints} />
      </div>
      ${this.problem ? html`<p class="problem" role="alert">${this.problem}</p>` : nothing}
      ${
        o
          ? html`<p class="info">
                ${taskText(o.spec.task)}: ${o.spec.objectives.map((x) => x.kind).join(', ')}; ${o.runs.length}
                seed${o.runs.length > 1 ? 's' : ''}, ${o.runs[0]!.results[0]!.steps.toLocaleString()}
                steps${o.adapter ? ` · ${o.adapter}` : ''}
              </p>
              ${
                o.runs.length > 1
                  ? html`<div class="field">
                      <label for="results-seed">Seed to show</label>
                      <select
                        id="results-seed"
                        @change=${(e: Event) => (this.seed = Number((e.target as HTMLSelectElement).value))}
                      >
                        ${o.runs.map((r) => html`<option value=${r.seed} ?selected=${r.seed === this.seed}>${r.seed}</option>`)}
                      </select>
                    </div>`
                  : nothing
              }
              <button ?disabled=${this.busy || this.working} @click=${this.open}>Open</button>`
          : nothing
      }`;
  }

  private async onResults(e: Event) {
    const file = (e.target as HTMLInputElement).files?.[0];
    this.opened = null;
    this.problem = '';
    if (!file) return;
    try {
      this.opened = parseResults(await file.text());
      this.seed = this.opened.runs[0]!.seed;
    } catch (err) {
      this.problem = `${file.name} cannot be opened: ${(err as Error).message}.`;
    }
  }

  private onCheckpoints(e: Event) {
    this.checkpoints = [...((e.target as HTMLInputElement).files ?? [])];
    this.problem = '';
  }

  /** Pair each lane's model file with its optimizer file and read them in the worker. */
  private async lanes(o: OpenedResults, run: ResultsRun): Promise<LaneState[] | null> {
    if (this.checkpoints.length === 0) return null;
    const lab = this.lab;
    if (!lab) throw new Error('the training worker is not running');
    const byName = new Map(this.checkpoints.map((f) => [f.name, f]));
    return Promise.all(
      o.spec.objectives.map(async (objective, lane) => {
        const stem = `lane${lane}-${objective.kind}`;
        const model = byName.get(`${stem}.safetensors`);
        const optimizer = byName.get(`${stem}.optimizer.safetensors`);
        if (!model || !optimizer)
          throw new Error(`choose ${stem}.safetensors and ${stem}.optimizer.safetensors (of seed ${run.seed}) too`);
        const read = async (f: File) => new Uint8Array(await f.arrayBuffer());
        const c = await lab.inspectCheckpoint(await read(model), await read(optimizer));
        const steps = run.results[lane]!.steps;
        if (!c.resume) throw new Error(`${optimizer.name} is not an optimizer file of this lab`);
        if (c.resume.state.step !== steps)
          throw new Error(`${model.name} is at step ${c.resume.state.step}; the results end at step ${steps}`);
        if (c.resume.spec.train.seed !== run.seed)
          throw new Error(`${model.name} was trained with seed ${c.resume.spec.train.seed}, not ${run.seed}`);
        return { ...c.resume.state, lane };
      }),
    );
  }

  private async open() {
    const o = this.opened;
    const run = o?.runs.find((r) => r.seed === this.seed);
    if (!o || !run) return;
    this.working = true;
    try {
      const states = await this.lanes(o, run);
      const spec = { ...o.spec, train: { ...o.spec.train, seed: run.seed } };
      const detail: ResultsOpenDetail = { spec, run, runs: o.runs, states, adapter: o.adapter };
      this.dispatchEvent(new CustomEvent('results-open', { detail, bubbles: true, composed: true }));
    } catch (err) {
      this.problem = `The checkpoints cannot be used: ${(err as Error).message}.`;
    } finally {
      this.working = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'results-open': ResultsOpen;
  }
  interface HTMLElementEventMap {
    'results-open': CustomEvent<ResultsOpenDetail>;
  }
}
