import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExampleView } from '../../lab/api';
import { objectiveColor } from '../app/objective-style';
import type { LaneHistory } from '../run/run-data';

/** Display string of a token id. */
export const tokenText = (vocab: string[], t: number): string => vocab[t] ?? `<${t}?>`;

/**
 * Tokens as text. Path-star prompts use B&N's text form, a comma between consecutive node labels
 * (`7,4|5,7/5,6=`); other tasks join their one-character tokens directly (`12+34=`).
 */
export function joinForDisplay(vocab: string[], tokens: number[], commasBetweenNumbers: boolean): string {
  let out = '';
  let prevNumber = false;
  for (const t of tokens) {
    const text = tokenText(vocab, t);
    const isNumber = /^\d+$/.test(text);
    if (commasBetweenNumbers && isNumber && prevNumber) out += ',';
    out += text;
    prevNumber = isNumber;
  }
  return out;
}

/**
 * An example's prompt and target, and each lane's prediction token by token, wrong tokens marked (colour, a
 * strike-through and "expected …" for screen readers and on hover).
 */
@customElement('token-compare')
export class TokenCompare extends LitElement {
  static override styles = css`
    :host {
      display: block;
      overflow-x: auto;
    }
    table {
      border-collapse: collapse;
      font-size: 0.9rem;
    }
    th {
      text-align: left;
      font-weight: 600;
      padding: 0.15rem 0.75rem 0.15rem 0;
      white-space: nowrap;
    }
    td {
      padding: 0.15rem 0;
    }
    .prompt {
      font-family: var(--mono);
      word-break: break-all;
    }
    ol {
      list-style: none;
      display: flex;
      gap: 2px;
      margin: 0;
      padding: 0;
    }
    li {
      font-family: var(--mono);
      min-width: 1.6em;
      padding: 0.05rem 0.2rem;
      text-align: center;
      border: 1px solid var(--border);
      border-radius: 3px;
    }
    li.wrong {
      background: var(--bad-bg);
      border-color: var(--bad);
      color: var(--bad);
      text-decoration: line-through;
    }
    .mark {
      padding-left: 0.5rem;
      font-weight: 700;
    }
    .ok {
      color: var(--good);
    }
    .no {
      color: var(--bad);
    }
    .sr {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
  `;

  @property({ attribute: false }) example: ExampleView | null = null;
  @property({ attribute: false }) lanes: readonly LaneHistory[] = [];
  /** Path-star: write the prompt in B&N's text form. */
  @property({ type: Boolean }) graph = false;

  override render() {
    const ex = this.example;
    if (!ex) return nothing;
    const tokens = (ts: number[], wrongAt?: (i: number) => boolean) =>
      html`<ol>
        ${ts.map((t, i) => {
          const wrong = wrongAt?.(i) ?? false;
          const expected = tokenText(ex.vocab, ex.target[i]!);
          return html`<li class=${wrong ? 'wrong' : ''} title=${wrong ? `expected ${expected}` : ''}>
            ${tokenText(ex.vocab, t)}${wrong ? html`<span class="sr"> (wrong, expected ${expected})</span>` : nothing}
          </li>`;
        })}
      </ol>`;
    return html`<table>
      <tr>
        <th scope="row">Prompt</th>
        <td class="prompt" colspan="2">${joinForDisplay(ex.vocab, ex.prompt, this.graph)}</td>
      </tr>
      <tr>
        <th scope="row">Target</th>
        <td>${tokens(ex.target)}</td>
      </tr>
      ${ex.predictions.map((p) => {
        const lane = this.lanes.find((l) => l.lane === p.lane);
        const right = p.predicted.length === ex.target.length && p.predicted.every((t, i) => t === ex.target[i]);
        return html`<tr>
          <th scope="row">
            <svg width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" rx="2" fill=${objectiveColor(p.objective)}></rect>
            </svg>
            ${lane?.label ?? p.objective}
          </th>
          <td>${tokens(p.predicted, (i) => p.predicted[i] !== ex.target[i])}</td>
          <td class="mark ${right ? 'ok' : 'no'}">${right ? '✓ right' : '✗ wrong'}</td>
        </tr>`;
      })}
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'token-compare': TokenCompare;
  }
}
