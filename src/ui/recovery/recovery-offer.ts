import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { SavedRunInfo } from '../../lab/api';
import { savedRunText } from './saved-runs';
import { buttonStyles } from '../app/lab-app-styles';

/** A saved run to continue from: its id and the step every lane was saved at. */
export interface SavedMark {
  runId: string;
  step: number;
}

/** What the banner offers, by the fault that happened (see RecoveryController.offer). */
export type Offer =
  | { kind: 'unfinished'; run: SavedRunInfo }
  | { kind: 'device-lost'; message: string; saved: SavedMark | null; auto: boolean }
  | { kind: 'worker-crashed' | 'worker-hung'; message: string; saved: SavedMark | null }
  | { kind: 'non-finite'; message: string; saved: SavedMark }
  | { kind: 'edited-resume'; saved: SavedMark };

/** The button the user chose; RecoveryController.act carries it out. */
export type RecoveryAction =
  | { kind: 'resume'; runId: string }
  | { kind: 'restart'; runId: string | null }
  | { kind: 'change-lr'; runId: string }
  | { kind: 'dismiss' };

/**
 * The way back after a fault, as one banner: resume an unfinished run after a reload, resume on a new device after
 * a device loss, start a new worker (and resume) after a crash or hang, resume with a different learning rate
 * after a NaN/Inf. The page decides which (RecoveryController.offer); this only shows it.
 *
 * @fires recovery-action - detail: RecoveryAction, the button the user chose
 */
@customElement('recovery-offer')
export class RecoveryOffer extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
      }
      .banner {
        border-radius: 8px;
        padding: 0.5rem 1rem;
        border: 2px solid var(--warn);
        background: var(--warn-bg);
        margin-bottom: 1rem;
      }
      .bad {
        border-color: var(--bad);
        background: var(--bad-bg);
      }
      p {
        margin: 0.25rem 0;
      }
      .message {
        /* several lanes that stopped on NaN are reported one a line */
        white-space: pre-line;
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin: 0.4rem 0 0.2rem;
      }
      button.primary {
        background: var(--accent);
        border-color: var(--accent);
        color: var(--on-accent);
        font-weight: 600;
      }
    `,
  ];

  @property({ attribute: false }) offer: Offer | null = null;
  /** A problem with the last action (a saved run that is gone). */
  @property() problem = '';

  override render() {
    const o = this.offer;
    if (!o && !this.problem) return nothing;
    const bad = o !== null && o.kind !== 'unfinished' && o.kind !== 'edited-resume';
    return html`<div class="banner ${bad ? 'bad' : ''}" role=${bad ? 'alert' : 'status'}>
      ${o ? this.body(o) : nothing} ${this.problem ? html`<p><strong>${this.problem}</strong></p>` : nothing}
    </div>`;
  }

  private body(o: Offer) {
    const b = (label: string, action: RecoveryAction, primary = false) =>
      html`<button class=${primary ? 'primary' : ''} @click=${() => this.send(action)}>${label}</button>`;
    const dismiss = b('Dismiss', { kind: 'dismiss' });
    switch (o.kind) {
      case 'unfinished':
        return html`<p>An unfinished run was saved in this browser: ${savedRunText(o.run)}.</p>
          <div class="buttons">
            ${b(`Resume run from step ${o.run.step}`, { kind: 'resume', runId: o.run.id }, true)} ${dismiss}
          </div>`;
      case 'device-lost':
        return html`<p><strong>The GPU device was lost.</strong> <span class="message">${o.message}</span></p>
          ${
            o.saved
              ? html`<div class="buttons">
                  ${b(`Resume from step ${o.saved.step} on a new device`, { kind: 'resume', runId: o.saved.runId }, true)}
                  ${dismiss}
                </div>`
              : html`<p>Start the run again; autosave (below the run controls) keeps the next one safe.</p>
                  <div class="buttons">${dismiss}</div>`
          }
          ${o.auto && o.saved ? html`<p>Resuming automatically…</p>` : nothing}`;
      case 'worker-crashed':
      case 'worker-hung':
        return html`<p>
            <strong>The training worker ${o.kind === 'worker-hung' ? 'stopped answering' : 'stopped'}:</strong>
            <span class="message">${o.message}</span>
          </p>
          <div class="buttons">
            ${o.saved ? b(`Restart from the autosave at step ${o.saved.step}`, { kind: 'restart', runId: o.saved.runId }, true) : nothing}
            ${b('Start a new worker', { kind: 'restart', runId: null }, !o.saved)}
          </div>`;
      case 'non-finite':
        return html`<p>
            <strong>A lane stopped on a non-finite value.</strong> <span class="message">${o.message}</span>
          </p>
          <div class="buttons">
            ${b(`Resume from the last autosave (step ${o.saved.step}) with a different learning rate`, { kind: 'change-lr', runId: o.saved.runId }, true)}
            ${dismiss}
          </div>`;
      case 'edited-resume':
        return html`<p>
            Start continues the saved run from step ${o.saved.step} with the settings in the form: change the learning
            rate, then press Start.
          </p>
          <div class="buttons">${b('Start from scratch instead', { kind: 'dismiss' })}</div>`;
    }
  }

  private send(action: RecoveryAction) {
    this.dispatchEvent(
      new CustomEvent<RecoveryAction>('recovery-action', { detail: action, bubbles: true, composed: true }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'recovery-offer': RecoveryOffer;
  }
  interface HTMLElementEventMap {
    'recovery-action': CustomEvent<RecoveryAction>;
  }
}
