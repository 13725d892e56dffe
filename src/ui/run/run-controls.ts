import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { duration, si } from '../app/format';
import type { Progress, RunState } from './run-data';
import { buttonStyles } from '../app/lab-app-styles';

export type RunCommand = 'start' | 'pause' | 'resume' | 'stop';

const STATE_TEXT: Record<RunState | 'idle', string> = {
  idle: 'Ready.',
  starting: 'Starting: building the task and planning GPU buffers…',
  running: 'Training.',
  paused: 'Paused.',
  stopping: 'Stopping…',
  stopped: 'Stopped.',
  done: 'Done.',
  error: 'The run failed.',
};

/**
 * Start, Pause/Resume and Stop, with the run's progress: steps done over all lanes, tokens per second and the
 * estimated time left. Pause and Resume share one button, so keyboard focus stays put when it flips.
 *
 * @fires run-command - detail: 'start' | 'pause' | 'resume' | 'stop'
 */
@customElement('run-controls')
export class RunControls extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      button.primary {
        background: var(--accent);
        border-color: var(--accent);
        color: var(--on-accent);
        font-weight: 600;
      }
      progress {
        width: 100%;
        height: 0.8rem;
        margin: 0.6rem 0 0.2rem;
        accent-color: var(--accent);
      }
      .stats {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1.25rem;
        font-size: 0.9rem;
        font-variant-numeric: tabular-nums;
      }
      .state.error {
        color: var(--bad);
      }
      .why {
        font-size: 0.85rem;
        color: var(--muted);
        margin: 0.4rem 0 0;
      }
      .log {
        font-family: var(--mono);
        font-size: 0.78rem;
        white-space: pre-wrap;
      }
    `,
  ];

  @property() state: RunState | 'idle' = 'idle';
  @property() message = '';
  @property({ attribute: false }) progress: Progress | null = null;
  /** The lab's latest log line. */
  @property() log = '';
  /** Why Start is unavailable, or '' when it is. */
  @property() blocked = '';
  /** The step of the run's latest autosave, or null. */
  @property({ attribute: false }) saved: number | null = null;
  /** The step a resumed run continued from (0 for a fresh run). */
  @property({ type: Number }) startStep = 0;
  /** The run evaluates imported weights and trains nothing: no progress to show. */
  @property({ type: Boolean }) evaluationOnly = false;

  override render() {
    const active = this.state === 'starting' || this.state === 'running' || this.state === 'paused';
    const paused = this.state === 'paused';
    const p = this.progress;
    return html`<div class="buttons">
        <button
          class="primary"
          ?disabled=${active || this.state === 'stopping' || this.blocked !== ''}
          @click=${() => this.send('start')}
        >
          Start
        </button>
        <button
          ?disabled=${!(this.state === 'running' || paused)}
          @click=${() => this.send(paused ? 'resume' : 'pause')}
        >
          ${paused ? 'Resume' : 'Pause'}
        </button>
        <button ?disabled=${!active} @click=${() => this.send('stop')}>Stop</button>
        <span class="state ${this.state}" role="status">${STATE_TEXT[this.state]} ${this.message}</span>
      </div>
      ${this.blocked !== '' && !active ? html`<p class="why">${this.blocked}</p>` : nothing}
      ${
        this.evaluationOnly
          ? html`<p class="why">Evaluating the imported weights on the test set; no training steps.</p>`
          : p
            ? html`<progress max=${p.total} .value=${p.done} aria-label="Training progress"></progress>
                <div class="stats">
                  <span>Step ${p.laneStep.toLocaleString()} / ${p.laneSteps.toLocaleString()} × ${p.lanes} lanes</span>
                  <span>${si(p.tokensPerSecond)} tokens/s</span>
                  <span>${active && p.done > 0 ? `${duration(p.secondsLeft)} left` : nothing}</span>
                  ${this.startStep > 0 ? html`<span>Continued from step ${this.startStep}</span>` : nothing}
                  ${this.saved !== null ? html`<span>Autosaved at step ${this.saved}</span>` : nothing}
                </div>`
            : nothing
      }
      ${this.log ? html`<p class="why log">${this.log}</p>` : nothing}`;
  }

  private send(command: RunCommand) {
    this.dispatchEvent(new CustomEvent<RunCommand>('run-command', { detail: command, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'run-controls': RunControls;
  }
  interface HTMLElementEventMap {
    'run-command': CustomEvent<RunCommand>;
  }
}
