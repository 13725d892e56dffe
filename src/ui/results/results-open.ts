import { consume } from '@lit/context';
import { html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExperimentSpec, LaneResult, LaneState } from '../../lab/api';
import { labContext, type LabRemote } from '../run/context';
import { fieldStyles, filePanelStyles } from '../app/field';
import { buttonStyles } from '../app/lab-app-styles';
import { taskText } from '../recovery/saved-runs';
import { fieldIssues } from '../../spec/check';

/** One seed's run of a results file. */
export interface ResultsRun {
  seed: number;
  results: LaneResult[];
}

/** What a results file holds: the experiment, and each seed's lane results with their histories. */
export interface OpenedResults {
  spec: ExperimentSpec;
  runs: ResultsRun[];
  /** Where it was made, if the file says (e.g. "PyTorch 2.11.0 on NVIDIA H200, 8 ranks"). */
  adapter: string | null;
}

export interface ResultsOpenDetail {
  /** The experiment with the chosen seed. */
  spec: ExperimentSpec;
  run: ResultsRun;
  /** Every seed's run, for the summary over seeds. */
  runs: ResultsRun[];
  /** Each lane's checkpoint, when given: the page then holds the models (examples, ONNX export). */
  states: LaneState[] | null;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Read a results file: `npm run lab -- compare --json`, PyTorch's results.json (python -m labtorch) or this page's
 * Download JSON. Throws an Error saying what is wrong with it.
 */
export function parseResults(text: string): OpenedResults {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc) || !isObject(doc.spec))
    throw new Error('no "spec": this is not a results file of the lab or its PyTorch export');
  const spec = doc.spec as unknown as ExperimentSpec;
  const problems = fieldIssues(spec);
  if (problems.length > 0)
    throw new Error(
      `its spec is not one this page can run: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    );
  let runs: unknown;
  if (Array.isArray(doc.runs))
    runs = doc.runs; // compare --json, PyTorch
  else if (isObject(doc.seeds) && Array.isArray(doc.seeds.runs))
    runs = doc.seeds.runs; // this page, over seeds
  else if (Array.isArray(doc.results))
    runs = [{ seed: spec.train.seed, results: doc.results }]; // this page, one run
  else throw new Error('no "runs" or "results" in it');
  const checked = (runs as unknown[]).map((r, i): ResultsRun => {
    if (!isObject(r) || typeof r.seed !== 'number' || !Array.isArray(r.results))
      throw new Error(`run ${i + 1} has no seed and results`);
    if (r.results.length !== spec.objectives.length) {
      throw new Error(
        `run ${i + 1} has ${r.results.length} lanes; the spec names ${spec.objectives.length} objectives`,
      );
    }
    r.results.forEach((l: unknown, j) => {
      if (!isObject(l) || !isObject(l.history) || !Array.isArray(l.history.steps) || !Array.isArray(l.history.evals)) {
        throw new Error(`run ${i + 1}, lane ${j}: no history of steps and evaluations`);
      }
      if (l.objective !== spec.objectives[j]!.kind)
        throw new Error(`run ${i + 1}, lane ${j} is ${String(l.objective)}; the spec says ${spec.objectives[j]!.kind}`);
    });
    return { seed: r.seed, results: r.results as LaneResult[] };
  });
  if (checked.length === 0) throw new Error('it holds no run');
  return { spec, runs: checked, adapter: typeof doc.adapter === 'string' ? doc.adapter : null };
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
      const detail: ResultsOpenDetail = { spec, run, runs: o.runs, states };
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
