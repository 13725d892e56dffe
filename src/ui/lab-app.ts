import { ContextProvider } from '@lit/context';
import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { AdapterReport, ExperimentSpec } from '../lab/api';
import './chart-panel';
import './clever-hans-view';
import { labContext } from './context';
import './example-view';
import './experiment-setup';
import './gpu-notice';
import { appStyles } from './lab-app-styles';
import { LabWorker } from './lab-worker';
import './results-table';
import { RunController } from './run-controller';
import './run-controls';
import type { RunCommand } from './run-controls';
import { SpecCheckController } from './spec-check-controller';
import { specFromQuery, specToQuery, type UrlProblem } from './url-state';

type Gpu = { state: 'checking' } | { state: 'ready'; adapter: AdapterReport } | { state: 'missing'; reason: string };

/**
 * The page: the experiment setup (kept in the URL), the run controls and the live views of the run. It owns the
 * training worker and provides its Comlink proxy to the components below through @lit/context.
 */
@customElement('lab-app')
export class LabApp extends LitElement {
  static override styles = appStyles;

  @state() private spec: ExperimentSpec;
  @state() private urlProblems: UrlProblem[];
  @state() private gpu: Gpu = { state: 'checking' };
  @state() private workerError = '';

  private worker: LabWorker | null = null;
  private provider = new ContextProvider(this, { context: labContext });
  private labIfReady = () => (this.gpu.state === 'ready' && this.worker?.alive ? this.worker.api : undefined);
  private check = new SpecCheckController(this, this.labIfReady);
  private runs = new RunController(this, () => (this.worker?.alive ? this.worker.api : undefined));

  constructor() {
    super();
    const { spec, problems } = specFromQuery(location.search);
    this.spec = spec;
    this.urlProblems = problems;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.startWorker();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.worker?.terminate();
    this.worker = null;
  }

  /** Start (or restart) the worker and ask it for the GPU. */
  private async startWorker(): Promise<void> {
    this.worker?.terminate();
    this.workerError = '';
    this.gpu = { state: 'checking' };
    void this.check.check(this.spec);
    if (!isSecureContext)
      return this.noGpu('this page is not a secure context (https or localhost), so WebGPU is hidden.');
    if (!('gpu' in navigator)) return this.noGpu('navigator.gpu is missing: this browser has no WebGPU, or it is off.');
    const worker = new LabWorker((message) => this.onWorkerDeath(message));
    this.worker = worker;
    this.provider.setValue(worker.api);
    try {
      const adapter = await worker.api.adapter();
      if (this.worker !== worker) return;
      this.gpu = { state: 'ready', adapter };
      void this.check.check(this.spec);
    } catch (err) {
      if (this.worker === worker && worker.alive) this.noGpu(err instanceof Error ? err.message : String(err));
    }
  }

  private noGpu(reason: string): void {
    this.gpu = { state: 'missing', reason };
  }

  private onWorkerDeath(message: string): void {
    this.workerError = message;
    this.provider.setValue(undefined);
    this.runs.workerDied(`The training worker stopped: ${message}`);
    if (this.gpu.state === 'checking')
      this.noGpu(`the training worker failed before it could look for a GPU (${message}).`);
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
    const issues = await this.check.check(this.spec, false);
    if (issues.length > 0) return this.focusFirstProblem();
    await this.runs.start(this.spec);
  }

  private focusFirstProblem(): void {
    this.renderRoot.querySelector('experiment-setup')?.scrollIntoView({ block: 'start' });
  }

  private blockedReason(): string {
    if (this.workerError) return 'The training worker stopped; start a new one above.';
    if (this.gpu.state === 'checking') return 'Looking for a GPU…';
    if (this.gpu.state === 'missing') return 'WebGPU is not available in this browser (see above).';
    const n = this.check.issues.length;
    return n > 0 ? `Fix ${n === 1 ? 'the problem' : `the ${n} problems`} in the setup first.` : '';
  }

  override render() {
    const run = this.runs.data;
    const revision = run?.revision ?? 0;
    const adapter = this.gpu.state === 'ready' ? this.gpu.adapter : null;
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
              : this.gpu.state === 'checking'
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
      this.workerError
        ? html`<div class="banner bad" role="alert">
            <p><strong>The training worker stopped:</strong> ${this.workerError}</p>
            <button @click=${() => void this.startWorker()}>Start a new worker</button>
          </div>`
        : nothing
    }
    ${this.gpu.state === 'missing' ? html`<gpu-notice .reason=${this.gpu.reason}></gpu-notice>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'lab-app': LabApp;
  }
}
