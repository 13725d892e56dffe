import { html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExperimentSpec, TaskSpec } from '../../lab/api';
import { parseCustomPairs, PATH_STAR_PRESETS } from '../../tasks';
import { fieldId, fieldStyles, numberInput, readNumber, type IssueMap } from '../app/field';
import { emitSpec } from './spec-event';
import { getNumber, setNumber, TASK_FIELDS } from '../../spec/fields';
import { DEFAULT_TASKS } from './spec-defaults';

const TASK_TITLES: Record<TaskSpec['kind'], string> = {
  'path-star': 'Path-star graph (B&N 2024)',
  addition: 'Addition',
  custom: 'Custom pairs (paste your own)',
};

/**
 * The task and its parameters: path-star graph size, addition digits and output order, or pasted pairs.
 * Switching task kind and back keeps what was typed for each kind.
 *
 * @fires spec-change - detail: the whole edited ExperimentSpec
 */
@customElement('task-fields')
export class TaskFields extends LitElement {
  static override styles = [fieldStyles];

  @property({ attribute: false }) spec!: ExperimentSpec;
  @property({ attribute: false }) issues: IssueMap = new Map();
  @property({ type: Boolean }) disabled = false;

  /** Last edited task of each kind. */
  private kept: Partial<Record<TaskSpec['kind'], TaskSpec>> = {};

  override render() {
    const task = this.spec.task;
    const kindProblems = [...(this.issues.get('task') ?? []), ...(this.issues.get('task.kind') ?? [])];
    return html`<fieldset>
      <legend>Task</legend>
      <div class="field">
        <label for="task-kind">Task</label>
        <select id="task-kind" ?disabled=${this.disabled} @change=${this.onKind}>
          ${(Object.keys(TASK_TITLES) as TaskSpec['kind'][]).map(
            (k) => html`<option value=${k} ?selected=${k === task.kind}>${TASK_TITLES[k]}</option>`,
          )}
        </select>
        ${kindProblems.length > 0 ? html`<p class="problem">${kindProblems.join(' ')}</p>` : nothing}
      </div>
      ${task.kind === 'path-star' ? this.renderGraphPreset() : nothing}
      ${task.kind === 'custom' ? this.renderCustom(task.text) : nothing}
      <div class="grid" @input=${this.onNumber} @change=${this.onNumber}>
        ${TASK_FIELDS[task.kind].map((f) => numberInput(f, getNumber(this.spec, f.path), this.issues, this.disabled))}
      </div>
      ${
        task.kind === 'addition'
          ? html`<label class="check"
              ><input
                type="checkbox"
                .checked=${task.reversed}
                ?disabled=${this.disabled}
                @change=${(e: Event) => this.setTask({ ...task, reversed: (e.target as HTMLInputElement).checked })}
              />
              Reversed output (least-significant digit first)</label
            >`
          : nothing
      }
    </fieldset>`;
  }

  private renderGraphPreset() {
    const t = this.spec.task as Extract<TaskSpec, { kind: 'path-star' }>;
    const current = Object.entries(PATH_STAR_PRESETS).find(
      ([, p]) => p.degree === t.degree && p.pathLength === t.pathLength && p.nodes === t.nodes,
    )?.[0];
    return html`<div class="field">
      <label for="graph-preset">Graph G(degree, path length, nodes)</label>
      <select id="graph-preset" ?disabled=${this.disabled} @change=${this.onGraphPreset}>
        ${Object.keys(PATH_STAR_PRESETS).map((name) => html`<option ?selected=${name === current}>${name}</option>`)}
        <option value="" ?selected=${current === undefined}>
          G(${t.degree},${t.pathLength},${t.nodes}) — own size
        </option>
      </select>
    </div>`;
  }

  private renderCustom(text: string) {
    const id = fieldId('task.text');
    const problems = this.issues.get('task.text') ?? [];
    let count = '';
    try {
      count = `${parseCustomPairs(text).length} pairs.`;
    } catch {
      count = '';
    }
    return html`<div class="field ${problems.length > 0 ? 'invalid' : ''}">
      <label for=${id}>Pairs, one a line: prompt, a TAB, target (or <code>prompt =&gt; target</code>)</label>
      <textarea
        id=${id}
        rows="8"
        spellcheck="false"
        .value=${text}
        ?disabled=${this.disabled}
        aria-invalid=${problems.length > 0 ? 'true' : 'false'}
        aria-describedby=${`${id}-note`}
        @input=${(e: Event) => this.setTask({ kind: 'custom', text: (e.target as HTMLTextAreaElement).value, testFraction: getNumber(this.spec, 'task.testFraction') })}
      ></textarea>
      <p class=${problems.length > 0 ? 'problem' : 'help'} id=${`${id}-note`}>
        ${problems.length > 0 ? problems.join(' ') : `${count} Each character is a token.`}
      </p>
    </div>`;
  }

  private onKind(e: Event) {
    const kind = (e.target as HTMLSelectElement).value as TaskSpec['kind'];
    this.kept[this.spec.task.kind] = this.spec.task;
    this.setTask(this.kept[kind] ?? { ...DEFAULT_TASKS[kind] });
  }

  private onGraphPreset(e: Event) {
    const name = (e.target as HTMLSelectElement).value as keyof typeof PATH_STAR_PRESETS;
    const preset = PATH_STAR_PRESETS[name];
    if (preset && this.spec.task.kind === 'path-star') this.setTask({ ...this.spec.task, ...preset });
  }

  private onNumber(e: Event) {
    const v = readNumber(e, e.type === 'change');
    if (v) emitSpec(this, setNumber(this.spec, v.path, v.value));
  }

  private setTask(task: TaskSpec) {
    emitSpec(this, { ...this.spec, task });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'task-fields': TaskFields;
  }
}
