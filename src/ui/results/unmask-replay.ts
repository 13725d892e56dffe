import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExampleView } from '../../lab/api';
import { tokenText } from './token-compare';

/**
 * Replays the order in which a masked-diffusion decoder committed the target positions (its `commitStep`): a
 * slider walks through the decoding steps, masked positions show the mask, committed ones their token (wrong
 * ones marked), and each cell notes the step it was unmasked at.
 */
@customElement('unmask-replay')
export class UnmaskReplay extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    label {
      display: flex;
      gap: 0.5rem;
      align-items: center;
      font-size: 0.9rem;
    }
    input {
      accent-color: var(--accent);
      width: min(16rem, 60%);
    }
    input:focus-visible {
      outline: 2px solid var(--focus);
    }
    ol {
      list-style: none;
      display: flex;
      flex-wrap: wrap;
      gap: 2px;
      padding: 0;
      margin: 0.4rem 0 0;
    }
    li {
      display: flex;
      flex-direction: column;
      align-items: center;
      min-width: 2em;
      border: 1px solid var(--border);
      border-radius: 3px;
      padding: 0.1rem 0.2rem;
      font-family: var(--mono);
    }
    li.masked {
      color: var(--muted);
      border-style: dashed;
    }
    li.new {
      border-color: var(--accent);
      box-shadow: 0 0 0 1px var(--accent);
    }
    li.wrong {
      color: var(--bad);
      background: var(--bad-bg);
    }
    small {
      font-size: 0.7rem;
      color: var(--muted);
    }
  `;

  @property({ attribute: false }) example: ExampleView | null = null;
  @property({ type: Number }) lane = 0;
  @property() label = '';
  /** Decoding steps shown as done (0 = everything still masked). */
  @state() private shown = Infinity;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('example') || changed.has('lane')) this.shown = Infinity;
  }

  override render() {
    const ex = this.example;
    const p = ex?.predictions.find((x) => x.lane === this.lane);
    if (!ex || !p?.commitStep) return nothing;
    const commit = p.commitStep;
    const steps = Math.max(0, ...commit) + 1;
    const shown = Math.min(this.shown, steps);
    const mask = ex.vocab.find((v) => v === '_' || v === '<mask>') ?? '▒';
    return html`<label>
        ${this.label}: after step
        <input
          type="range"
          min="0"
          max=${steps}
          .value=${String(shown)}
          aria-valuetext=${`${shown} of ${steps} decoding steps`}
          @input=${(e: Event) => (this.shown = Number((e.target as HTMLInputElement).value))}
        />
        <output>${shown} / ${steps}</output>
      </label>
      <ol aria-label="Target positions as decoded so far">
        ${p.predicted.map((t, i) => {
          const at = commit[i] ?? 0;
          const visible = at < shown;
          const wrong = visible && t !== ex.target[i];
          const cls = [visible ? '' : 'masked', visible && at === shown - 1 ? 'new' : '', wrong ? 'wrong' : ''].join(
            ' ',
          );
          return html`<li class=${cls}>
            <span>${visible ? tokenText(ex.vocab, t) : mask}</span><small>step ${at + 1}</small>
          </li>`;
        })}
      </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'unmask-replay': UnmaskReplay;
  }
}
