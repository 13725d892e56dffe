import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { ExperimentSpec } from '../../lab/api';
import '../checkpoints/checkpoint-import';
import type { LabRemote } from '../run/context';
import { formPath, type ExperimentSetup } from '../setup/experiment-setup';
import './gpu-notice';
import { appStyles } from './lab-app-styles';
import { RecoveryController } from '../recovery/recovery-controller';
import '../recovery/recovery-offer';
import { RunController } from '../run/run-controller';
import '../run/run-controls';
import './run-views';
import type { RunCommand } from '../run/run-controls';
import { autosaveProblem, loadPrefs, savePrefs, type RunPrefs } from '../run/run-options';
import '../results/results-open';
import type { ResultsOpenDetail } from '../results/results-open';
import '../recovery/saved-runs';
import { SpecCheckController } from '../setup/spec-check-controller';
import { fieldLabel } from '../../spec/fields';
import { pageQuery, specFromQuery, type UrlProblem } from '../setup/url-state';
import { parseSeedList } from '../../lab/seeds';
import type { SeedRun } from '../results/results-table';
import { WorkerController } from '../run/worker-controller';
import '../history/run-history';
import type { RunHistory } from '../history/run-history';
import { defaultName } from '../history/history';
import type { ResultsRun } from '../results/results-file';

/**
 * The page: the experiment setup (kept in the URL), checkpoint import and the saved runs; the run controls, the
 * live views of the run and checkpoint export; and the way back after a fault (RecoveryController). Its
 * WorkerController owns the training worker and provides the lab to the components below (@lit/context).
 */
@customElement('lab-app')
export class LabApp extends LitElement {
  static override styles = appStyles;

  @state() private spec: ExperimentSpec;
  @state() private urlProblems: UrlProblem[];
  @state() private prefs: RunPrefs = loadPrefs();
  /** The seeds to repeat the run over, as typed ('' = just the spec's seed); kept in the link as `seeds`. */
  @state() private seedsText = new URLSearchParams(location.search).get('seeds') ?? '';
  /** Finished runs of the current repetition over seeds, in order. */
  @state() private seedRuns: SeedRun[] = [];

  /** Between a click on Start and the run's start (the spec is checked once more first). */
  private starting = false;
  private worker = new WorkerController(this, {
    onReady: () => {
      void this.check.check(this.spec);
      void this.recovery.findUnfinished();
    },
    onDeath: (message) => this.runs.workerDied(`The training worker stopped: ${message}`),
  });
  private check = new SpecCheckController(this, () => this.worker.ready);
  private runs = new RunController(this, () => this.worker.lab);
  private recovery = new RecoveryController(this, {
    worker: this.worker,
    runs: this.runs,
    prefs: () => this.prefs,
    setSpec: (spec) => this.setSpec(spec),
    focus: async (path) => {
      await this.updateComplete;
      await this.renderRoot.querySelector<ExperimentSetup>('experiment-setup')?.focusField(path);
    },
  });

  /** The worker's lab, for the test hooks (src/main.ts); undefined while no worker lives. */
  get labForTests(): LabRemote | undefined {
    return this.worker.lab;
  }

  constructor() {
    super();
    const { spec, problems } = specFromQuery(location.search);
    this.spec = spec;
    this.urlProblems = problems;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.check.check(this.spec);
  }

  private setSpec(spec: ExperimentSpec): void {
    this.spec = spec;
    history.replaceState(history.state, '', `?${pageQuery(spec, location.search)}`);
    void this.check.check(spec);
  }

  /** The seeds to run, or an Error saying what is wrong with the text. */
  private seeds(): number[] | Error {
    if (this.seedsText.trim() === '') return [this.spec.train.seed];
    try {
      return parseSeedList(this.seedsText);
    } catch (e) {
      return e as Error;
    }
  }

  private onSeeds(e: Event): void {
    this.seedsText = (e.target as HTMLInputElement).value;
    const q = new URLSearchParams(location.search);
    if (this.seedsText.trim() === '') q.delete('seeds');
    else q.set('seeds', this.seedsText.trim());
    history.replaceState(history.state, '', `?${q.toString()}`);
  }

  /** Keep finished runs (a repetition's seeds together) in the run history. */
  private keep(spec: ExperimentSpec, runs: ResultsRun[], source: 'run' | 'file', adapter: string | null): void {
    if (runs.length === 0) return;
    void this.renderRoot.querySelector<RunHistory>('run-history')?.add({
      id: crypto.randomUUID(),
      name: defaultName(spec, runs),
      addedAt: Date.now(),
      source,
      spec,
      adapter,
      runs,
    });
  }

  /** Whether these seeds train together (RunPrefs.seedsTogether; 'auto': where the adapter is a GPU). */
  private seedsTogether(seeds: readonly number[]): boolean {
    if (seeds.length < 2) return false;
    const pref = this.prefs.seedsTogether;
    if (pref !== 'auto') return pref === 'on';
    const gpu = this.worker.gpu;
    return gpu.state === 'ready' && gpu.adapter.stacksLanes === true;
  }

  /** The adapter this page trains on, in a line. */
  private adapterText(): string | null {
    const gpu = this.worker.gpu;
    if (gpu.state !== 'ready') return null;
    const a = gpu.adapter;
    return [a.vendor, a.architecture, a.description].filter((x) => x).join(' · ') || 'unnamed adapter';
  }

  /** A run made elsewhere (command line, PyTorch at scale): its spec into the form, its results onto the page. */
  private async onResultsOpen(e: CustomEvent<ResultsOpenDetail>): Promise<void> {
    const { spec, run, runs, states, adapter } = e.detail;
    this.setSpec(spec);
    this.keep(spec, runs, 'file', adapter);
    this.seedRuns = runs.length > 1 ? runs : [];
    if (!states) {
      this.runs.show(spec, run.results);
      return;
    }
    // With the lanes' checkpoints the worker loads the models at their step and evaluates them once more.
    const step = states[0]!.step;
    const history = run.results.map((r) => ({ lane: r.lane, objective: r.objective, history: r.history }));
    await this.recovery.launch(spec, { resume: states, stopAtStep: step, autosaveEvery: 0 }, { step, history });
  }

  private onPrefs(e: CustomEvent<RunPrefs>): void {
    this.prefs = e.detail;
    if (autosaveProblem(e.detail.autosaveEvery) === null) savePrefs(e.detail);
  }

  private async onCommand(e: CustomEvent<RunCommand>): Promise<void> {
    if (e.detail === 'pause') return this.runs.pause();
    if (e.detail === 'resume') return this.runs.resume();
    if (e.detail === 'stop') return this.runs.stop();
    if (this.starting) return;
    this.starting = true;
    try {
      const issues = await this.check.check(this.spec, false);
      if (issues.length > 0) return this.focusFirstProblem();
      const seeds = this.seeds();
      if (seeds instanceof Error) return;
      this.starting = false;
      // One run per seed, one after the other, as `compare --seeds`; a stop or a failure ends the repetition.
      this.seedRuns = [];
      const spec = this.spec;
      if (this.seedsTogether(seeds)) {
        // One run over every seed: the lanes of one shape, every seed's, in the same dispatches.
        await this.recovery.launch(spec, { seeds, stackLanes: true, autosaveEvery: 0 });
        const data = this.runs.data;
        if (data?.seedResults && data.state === 'done') this.seedRuns = data.seedResults;
        this.keep(spec, this.seedRuns, 'run', this.adapterText());
        return;
      }
      for (const seed of seeds) {
        await this.recovery.start(seeds.length > 1 ? { ...spec, train: { ...spec.train, seed } } : spec);
        const data = this.runs.data;
        if (!data?.results || data.state !== 'done') break;
        this.seedRuns = [...this.seedRuns, { seed, results: data.results }];
      }
      // The seeds that finished, together, as one entry of the run history.
      this.keep(spec, this.seedRuns, 'run', this.adapterText());
    } finally {
      this.starting = false;
    }
  }

  private focusFirstProblem(): void {
    this.renderRoot.querySelector('experiment-setup')?.scrollIntoView({ block: 'start' });
  }

  private blockedReason(): string {
    if (this.worker.error) return 'The training worker stopped; start a new one above.';
    const gpu = this.worker.gpu;
    if (gpu.state === 'checking') return 'Looking for a GPU…';
    if (gpu.state === 'missing') return 'WebGPU is not available in this browser (see above).';
    const autosave = autosaveProblem(this.prefs.autosaveEvery);
    if (autosave) return `Fix “Autosave every” first (${autosave}).`;
    const seeds = this.seeds();
    if (seeds instanceof Error) return `Fix “Seeds” first (${seeds.message}).`;
    const issues = this.check.issues;
    if (issues.length === 0) return '';
    const names = [...new Set(issues.map((i) => fieldLabel(formPath(i.field, this.spec)) || i.field || 'setup'))];
    return `Fix the setup first: ${names.join(', ')}.`;
  }

  override render() {
    const run = this.runs.data;
    const gpu = this.worker.gpu;
    const adapter = gpu.state === 'ready' ? gpu.adapter : null;
    const active = run?.active ?? false;
    return html`<header>
        <h1>WebGPU training lab</h1>
        <p class="lede">
          Train tiny transformers on your own GPU and compare, on the same task and data, what each training objective
          learns.
        </p>
        <p class="adapter" aria-live="polite">${this.worker.gpuLine}</p>
      </header>
      ${this.renderBanners()}
      <main>
        <div class="column">
          <section
            class="setup"
            aria-labelledby="setup-h"
            @spec-change=${(e: CustomEvent<ExperimentSpec>) => this.setSpec(e.detail)}
          >
            <h2 id="setup-h">Experiment</h2>
            <experiment-setup
              .spec=${this.spec}
              .issues=${this.check.issues}
              .seeds=${this.seeds() instanceof Error ? [this.spec.train.seed] : (this.seeds() as number[])}
              ?disabled=${active}
            ></experiment-setup>
          </section>
          <section aria-labelledby="import-h">
            <h2 id="import-h">Import a checkpoint</h2>
            <checkpoint-import .spec=${this.spec} ?busy=${active}></checkpoint-import>
          </section>
          <section aria-labelledby="open-h" @results-open=${this.onResultsOpen}>
            <h2 id="open-h">Open results</h2>
            <results-open ?busy=${active}></results-open>
          </section>
          <section aria-labelledby="saved-h">
            <h2 id="saved-h">Saved runs</h2>
            <saved-runs
              .refresh=${`${run?.saved?.runId}:${run?.saved?.step}:${run?.state}`}
              .activeRunId=${active ? (run?.runId ?? '') : ''}
            ></saved-runs>
          </section>
        </div>
        <div class="column">
          <section aria-labelledby="run-h">
            <h2 id="run-h">Run</h2>
            <run-controls
              .state=${run?.state ?? 'idle'}
              .message=${run?.message ?? ''}
              .log=${run?.log ?? ''}
              .progress=${run ? run.progress() : null}
              .saved=${run?.saved?.step ?? null}
              .startStep=${run?.startStep ?? 0}
              ?evaluationOnly=${run?.evaluationOnly ?? false}
              .blocked=${this.blockedReason()}
              @run-command=${this.onCommand}
            ></run-controls>
            ${this.renderSeeds(active)}
            <run-options .prefs=${this.prefs} ?disabled=${active} @run-prefs-change=${this.onPrefs}></run-options>
          </section>
          <run-views .run=${run} .task=${this.spec.task} .adapter=${adapter} .seedRuns=${this.seedRuns}></run-views>
          <section aria-labelledby="history-h">
            <h2 id="history-h">Run history</h2>
            <run-history></run-history>
          </section>
        </div>
      </main>`;
  }

  private renderSeeds(active: boolean) {
    const seeds = this.seeds();
    const list = seeds instanceof Error ? null : seeds;
    return html`<div class="seeds">
      <label for="run-seeds">Seeds</label>
      <input
        id="run-seeds"
        type="text"
        inputmode="numeric"
        placeholder=${String(this.spec.train.seed)}
        .value=${this.seedsText}
        ?disabled=${active}
        aria-invalid=${seeds instanceof Error ? 'true' : 'false'}
        aria-describedby="run-seeds-note"
        @input=${this.onSeeds}
      />
      <span id="run-seeds-note" class=${seeds instanceof Error ? 'problem' : 'note'}>
        ${
          seeds instanceof Error
            ? seeds.message
            : list && list.length > 1
              ? this.seedsTogether(list)
                ? `${list.length} seeds trained together, then the mean and spread of each result.`
                : `${list.length} runs, one per seed, then the mean and spread of each result.`
              : 'e.g. 1,2,3 or 1-5: one run per seed, then the mean and spread (the Seed field when empty).'
        }
      </span>
    </div>`;
  }

  private renderBanners() {
    return html`${
        this.urlProblems.length > 0
          ? html`<div class="banner warn" role="alert">
              <p>Some settings in this link could not be used; the rest of the link was applied:</p>
              <ul>
                ${this.urlProblems.map((p) => html`<li>${p.message}</li>`)}
              </ul>
              <button @click=${() => (this.urlProblems = [])}>Dismiss</button>
            </div>`
          : nothing
      }
      <recovery-offer .offer=${this.recovery.offer()} .problem=${this.recovery.problem}></recovery-offer>
      ${this.worker.gpu.state === 'missing' ? html`<gpu-notice .reason=${this.worker.gpu.reason}></gpu-notice>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'lab-app': LabApp;
  }
}
