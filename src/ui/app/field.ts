// The form's building blocks, shared by the setup fieldsets: a labelled number input with its problem (or help)
// text tied to it by aria-describedby, and the styles they share. These are templates, not elements, so each
// label, input and message live in the same shadow root (ARIA ids do not cross shadow boundaries).
import { css, html, nothing, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { NumberField } from '../../spec/fields';

/** Problems by field path, as the setup components receive them. */
export type IssueMap = ReadonlyMap<string, string[]>;

export const fieldId = (path: string): string => `f-${path.replace(/\./g, '-')}`;

export function numberInput(f: NumberField, value: number, issues: IssueMap, disabled: boolean): TemplateResult {
  const id = fieldId(f.path);
  const problems = issues.get(f.path) ?? [];
  const noteId = problems.length > 0 || f.help ? `${id}-note` : undefined;
  return html`<div class="field ${problems.length > 0 ? 'invalid' : ''}">
    <label for=${id}>${f.label}</label>
    <input
      id=${id}
      type="number"
      data-path=${f.path}
      min=${f.minExclusive ? nothing : f.min}
      max=${f.max}
      step=${f.integer ? '1' : 'any'}
      .value=${Number.isNaN(value) ? '' : String(value)}
      ?disabled=${disabled}
      aria-invalid=${problems.length > 0 ? 'true' : 'false'}
      aria-describedby=${ifDefined(noteId)}
    />
    ${
      problems.length > 0
        ? html`<p class="problem" id=${ifDefined(noteId)}>${problems.join(' ')}</p>`
        : f.help
          ? html`<p class="help" id=${ifDefined(noteId)}>${f.help}</p>`
          : nothing
    }
  </div>`;
}

/** The number an input event carries, or null while the text is not a number yet (keep typing). */
export function readNumber(e: Event, final: boolean): { path: string; value: number } | null {
  const input = e.target as HTMLInputElement;
  const path = input.dataset['path'];
  if (!path || input.type !== 'number') return null;
  const value = input.value.trim() === '' ? NaN : input.valueAsNumber;
  return Number.isNaN(value) && !final ? null : { path, value };
}

/** A side panel's form of file fields (checkpoint import, results open): spaced fields and an info line. */
export const filePanelStyles = css`
  .field {
    margin-bottom: 0.5rem;
  }
  .info {
    font-size: 0.9rem;
    margin: 0.25rem 0;
  }
`;

export const fieldStyles = css`
  :host {
    display: block;
  }
  fieldset {
    border: 1px solid var(--border);
    border-radius: 6px;
    margin: 0;
    padding: 0.5rem 0.75rem 0.75rem;
    min-width: 0;
  }
  legend {
    font-weight: 600;
    padding: 0 0.25rem;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr));
    gap: 0.5rem 0.75rem;
  }
  .field {
    display: flex;
    flex-direction: column;
    gap: 0.15rem;
    min-width: 0;
  }
  label {
    font-size: 0.85rem;
  }
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
    background: var(--input-bg);
    border: 1px solid var(--border-strong);
    border-radius: 4px;
    padding: 0.25rem 0.4rem;
    min-width: 0;
    max-width: 100%;
  }
  input[type='checkbox'],
  input[type='radio'] {
    accent-color: var(--accent);
  }
  :is(input, select, textarea):disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  .grid + .check {
    margin-top: 0.6rem;
  }
  :is(input, select, textarea):focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: 1px;
  }
  .invalid :is(input, textarea) {
    border-color: var(--bad);
  }
  .check {
    display: flex;
    align-items: center;
    gap: 0.4rem;
    font-size: 0.9rem;
  }
  code {
    font-family: var(--mono);
    font-size: 0.85em;
  }
  fieldset > .field,
  fieldset > .check {
    margin-bottom: 0.5rem;
  }
  .problem,
  .help {
    margin: 0;
    font-size: 0.8rem;
  }
  .problem {
    color: var(--bad);
  }
  .help {
    color: var(--muted);
  }
`;
