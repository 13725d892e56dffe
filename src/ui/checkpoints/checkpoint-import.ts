import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { CheckpointMatch, ExperimentSpec, ImportedCheckpoint, LaneState } from '../../lab/api';
import { configText } from './config-text';
import { labContext, type LabRemote } from '../run/context';
import { fieldStyles, filePanelStyles } from '../app/field';
import { taskText } from '../app/format';
import { buttonStyles } from '../app/lab-app-styles';

export interface ContinueDetail {
  /** The checkpoint's experiment with its one lane's objective. */
  spec: ExperimentSpec;
  state: LaneState;
}

export interface EvaluateDetail {
  /** The current setup with only the lane the weights fit. */
  spec: ExperimentSpec;
  params: Float32Array;
}

/**
 * Read a checkpoint (this lab's safetensors or nanoGPT's, plus optionally this lab's optimizer file) without
 * changing anything, show its config, objective and step, and offer to continue its run exactly or to evaluate its
 * weights on the current task. A file that cannot be read is explained here, and nothing else on the page changes.
 *
 * @fires checkpoint-continue - detail: ContinueDetail
 * @fires checkpoint-evaluate - detail: EvaluateDetail
 */
@customElement('checkpoint-import')
export class CheckpointImport extends LitElement {
  static override styles = [
    buttonStyles,
    fieldStyles,
    filePanelStyles,
    css`
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-top: 0.4rem;
      }
    `,
  ];

  @consume({ context: labContext, subscribe: true })
  @state()
  private lab?: LabRemote;

  /** The setup in the form: the lane an evaluation would build. */
  @property({ attribute: false }) spec!: ExperimentSpec;
  /** While a run is in progress nothing can be started from here. */
  @property({ type: Boolean }) busy = false;
  @state() private files: { model: File | null; optimizer: File | null } = { model: null, optimizer: null };

  private inspect = new Task(this, {
    task: async ([lab, model, optimizer, nHead], { signal }): Promise<ImportedCheckpoint | null> => {
      if (!model) return null;
      if (!lab) throw new Error('the training worker is not running');
      const read = async (f: File) => new Uint8Array(await f.arrayBuffer());
      const ckpt = await lab.inspectCheckpoint(await read(model), optimizer ? await read(optimizer) : undefined, nHead);
      signal.throwIfAborted();
      return ckpt;
    },
    args: () => [this.lab, this.files.model, this.files.optimizer, this.spec.model.nHead] as const,
  });

  /** Which lane of the setup in the form the checkpoint fits, asked again whenever the form or the file changes. */
  private match = new Task(this, {
    task: async ([lab, ckpt, spec]): Promise<CheckpointMatch | null> => {
      if (!lab || !ckpt) return null;
      return lab.matchCheckpoint(spec, { config: ckpt.config, objective: ckpt.objective });
    },
    args: () => [this.lab, this.inspect.value, this.spec] as const,
  });

  override render() {
    return html`<div class="field">
        <label for="model">Model (.safetensors, this lab’s or nanoGPT’s)</label>
        <input id="model" type="file" accept=".safetensors" aria-describedby="import-note" @change=${this.onFile} />
      </div>
      <div class="field">
        <label for="optimizer">Optimizer state (.optimizer.safetensors, optional)</label>
        <input id="optimizer" type="file" accept=".safetensors" aria-describedby="import-note" @change=${this.onFile} />
      </div>
      <div id="import-note" aria-live="polite">
        ${this.inspect.render({
          initial: () => nothing,
          pending: () => html`<p class="help">Reading…</p>`,
          complete: (c) => (c ? this.renderCheckpoint(c) : html`<p class="help">Choose a checkpoint file.</p>`),
          error: (e) =>
            html`<p class="problem" role="alert">
              This checkpoint cannot be used: ${e instanceof Error ? e.message : e}
            </p>`,
        })}
      </div>`;
  }

  private renderCheckpoint(c: ImportedCheckpoint) {
    // Until the lab has answered, evaluation waits (the button is disabled, nothing is claimed).
    const match: CheckpointMatch = this.match.value ?? { problem: '' };
    const busy = this.busy ? 'Wait for the run in progress to end.' : '';
    return html`<p class="info">
        <strong>${c.objective ?? 'objective not recorded'}</strong>${c.step !== null ? `, step ${c.step}` : ''} ·
        ${configText(c.config)}
      </p>
      ${
        c.resume
          ? html`<p class="info">
              Optimizer state: continues the ${taskText(c.resume.spec.task)} run at step ${c.resume.state.step} of
              ${c.resume.spec.train.steps} (learning rate ${c.resume.spec.train.lr}).
            </p>`
          : html`<p class="help">Add this lab’s optimizer file to continue training exactly.</p>`
      }
      ${
        'problem' in match && match.problem
          ? html`<p class="problem">Cannot evaluate on the current task: ${match.problem}.</p>`
          : nothing
      }
      ${busy ? html`<p class="help">${busy}</p>` : nothing}
      <div class="buttons">
        <button ?disabled=${!c.resume || this.busy} @click=${() => this.continueTraining(c)}>Continue training</button>
        <button ?disabled=${'problem' in match || this.busy} @click=${() => this.evaluate(c)}>
          Evaluate on the current task
        </button>
      </div>`;
  }

  private onFile(e: Event) {
    const input = e.target as HTMLInputElement;
    this.files = { ...this.files, [input.id]: input.files?.[0] ?? null };
  }

  private continueTraining(c: ImportedCheckpoint) {
    if (!c.resume) return;
    const { spec, state } = c.resume;
    // The file holds one lane: its run continues with that lane's objective alone.
    const detail: ContinueDetail = {
      spec: { ...spec, objectives: [state.objectiveSpec] },
      state: { ...state, lane: 0 },
    };
    this.emit('checkpoint-continue', detail);
  }

  private evaluate(c: ImportedCheckpoint) {
    const match = this.match.value;
    if (!match || 'problem' in match) return;
    const detail: EvaluateDetail = { spec: { ...this.spec, objectives: [match.objective] }, params: c.params };
    this.emit('checkpoint-evaluate', detail);
  }

  private emit<T>(type: string, detail: T) {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'checkpoint-import': CheckpointImport;
  }
  interface HTMLElementEventMap {
    'checkpoint-continue': CustomEvent<ContinueDetail>;
    'checkpoint-evaluate': CustomEvent<EvaluateDetail>;
  }
}
