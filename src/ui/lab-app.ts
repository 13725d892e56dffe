import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { ExperimentSpec } from '../lab/api';
import './chart-panel';
import './clever-hans-view';
import './example-view';
import { formPath } from './experiment-setup';
import './gpu-notice';
import { appStyles } from './lab-app-styles';
import './results-table';
import { RunController } from './run-controller';
import './run-controls';
import type { RunCommand } from './run-controls';
import { SpecCheckController } from './spec-check-controller';
import { fieldLabel } from './spec-fields';
import { specFromQuery, specToQuery, type UrlProblem } from './url-state';
import { WorkerController } from './worker-controller';

/**
 * The page: the experiment setup (kept in the URL), the run controls and the live views of the run. Its
 * WorkerController owns the training worker and provides the lab to the components below (@lit/context).
 */
@customElement('lab-app')
export class LabApp extends LitElement {
  static override styles = appStyles;

  @state() private spec: ExperimentSpec;
  @state() private urlProblems: UrlProblem[];

  /** Between a click on Start and the run's start (the spec is checked once more first). */
  private starting = false;
  private worker = new WorkerController(this, {
    onReady: () => void this.check.check(this.spec),
    onDeath: (message) => this.runs.workerDied(`The training worker stopped: ${message}`),
  });
  private check = new SpecCheckController(this, () => this.worker.ready);
  private runs = new RunController(this, () => this.worker.lab);

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

  private onSpecChange(e: CustomEvent<ExperimentSpec>): void {
    this.spec = e.detail;
    history.replaceState(history.state, '', `?${specToQuery(this.spec)}`);
    void this.check.check(this.spec);
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
      const run = this.runs.start(this.spec);
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
    return html`<header>
        <h1>WebGPU training lab</h1>
        <p class="lede">
          Train tiny transformers on your own GPU and compare, on the same task and data, what each training objective
          learns.
        </p>
        <p class="adapter" aria-live="polite">
          ${
            adapter
              ? `GPU: ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' · ') || 'adapter found'}`
              : gpu.state === 'checking'
                ? 'Looking for a GPU…'
                : nothing
          }
        </p>
      </header>
      ${this.renderBanners()}
      <main>
        <section class="setup" aria-labelledby="setup-h" @spec-change=${this.onSpecChange}>
          <h2 id="setup-h">Experiment</h2>
          <experiment-setup
            .spec=${this.spec}
            .issues=${this.check.issues}
            ?disabled=${run?.active ?? false}
          ></experiment-setup>
        </section>
        <div class="views">
          <section aria-labelledby="run-h">
            <h2 id="run-h">Run</h2>
            <run-controls
              .state=${run?.state ?? 'idle'}
              .message=${run?.message ?? ''}
              .log=${run?.log ?? ''}
              .progress=${run ? run.progress() : null}
              .blocked=${this.blockedReason()}
              @run-command=${this.onCommand}
            ></run-controls>
          </section>
          <section aria-labelledby="curves-h">
            <h2 id="curves-h">Learning curves</h2>
            <chart-panel .run=${run} .revision=${revision}></chart-panel>
          </section>
          <section aria-labelledby="hans-h">
            <h2 id="hans-h">Teacher forcing vs free running, per target position</h2>
            <clever-hans-view .run=${run} .revision=${revision} .task=${this.spec.task}></clever-hans-view>
          </section>
          <section aria-labelledby="examples-h">
            <h2 id="examples-h">Examples</h2>
            <example-view .run=${run} .runState=${run?.state ?? ''}></example-view>
          </section>
          <section aria-labelledby="results-h">
            <h2 id="results-h">Results</h2>
            <results-table .run=${run} .revision=${revision} .adapter=${adapter}></results-table>
          </section>
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
    ${
      this.worker.error
        ? html`<div class="banner bad" role="alert">
            <p><strong>The training worker stopped:</strong> ${this.worker.error}</p>
            <button @click=${() => void this.worker.start()}>Start a new worker</button>
          </div>`
        : nothing
    }
    ${this.worker.gpu.state === 'missing' ? html`<gpu-notice .reason=${this.worker.gpu.reason}></gpu-notice>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'lab-app': LabApp;
  }
}
