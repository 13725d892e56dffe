import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { ExperimentSpec } from '../lab/api';
import './checkpoint-import';
import type { LabRemote } from './context';
import { formPath, type ExperimentSetup } from './experiment-setup';
import './gpu-notice';
import { appStyles } from './lab-app-styles';
import { RecoveryController } from './recovery-controller';
import './recovery-offer';
import { RunController } from './run-controller';
import './run-controls';
import './run-views';
import type { RunCommand } from './run-controls';
import { autosaveProblem, loadPrefs, savePrefs, type RunPrefs } from './run-options';
import './saved-runs';
import { SpecCheckController } from './spec-check-controller';
import { fieldLabel } from './spec-fields';
import { pageQuery, specFromQuery, type UrlProblem } from './url-state';
import { WorkerController } from './worker-controller';

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
      const run = this.recovery.start(this.spec);
      this.starting = false;
      await run;
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
    const issues = this.check.issues;
    if (issues.length === 0) return '';
    const names = [...new Set(issues.map((i) => fieldLabel(formPath(i.field, this.spec)) || i.field || 'setup'))];
    return `Fix the setup first: ${names.join(', ')}.`;
  }

  override render() {
    const run = this.runs.data;
    const revision = run?.revision ?? 0;
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
            <experiment-setup .spec=${this.spec} .issues=${this.check.issues} ?disabled=${active}></experiment-setup>
          </section>
          <section aria-labelledby="import-h">
            <h2 id="import-h">Import a checkpoint</h2>
            <checkpoint-import .spec=${this.spec} ?busy=${active}></checkpoint-import>
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
            <run-options .prefs=${this.prefs} ?disabled=${active} @run-prefs-change=${this.onPrefs}></run-options>
          </section>
          <run-views .run=${run} .revision=${revision} .task=${this.spec.task} .adapter=${adapter}></run-views>
        </div>
      </main>`;
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
