import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExperimentSpec, SpecIssue } from '../../lab/api';
import type { IssueMap } from '../app/field';
import './model-fields';
import './objective-fields';
import { emitSpec } from './spec-event';
import { activeFields, OBJECTIVE_KINDS } from '../../spec/fields';
import { DEFAULT_SPEC } from './spec-defaults';
import './task-fields';
import './train-fields';
import { buttonStyles } from '../app/lab-app-styles';
import { EXPERIMENT_PRESETS, type ExperimentPreset } from '../../lab/experiments';
import { fieldStyles } from '../app/field';
import { specToQuery } from './url-state';
import { makeBundle } from '../../checkpoint/bundle';
import { scaleProject } from '../../lab/scale';
import { saveBytes, stamp } from '../app/download';

/** The named experiment this spec is exactly (compared in the link's canonical form), if any. */
export function presetOf(spec: ExperimentSpec): ExperimentPreset | undefined {
  const q = specToQuery(spec);
  return EXPERIMENT_PRESETS.find((p) => specToQuery(p.spec) === q);
}

/**
 * Normalises an issue's field to the form's paths: the lab may name an objective by index
 * (`objectives[3].heads`, `objectives.3.heads`); the form names it by kind (`objectives.mtp.heads`).
 */
export function formPath(field: string, spec: ExperimentSpec): string {
  const m = /^objectives(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?$/.exec(field);
  if (!m) return field;
  const kind = spec.objectives[Number(m[1] ?? m[2])]?.kind;
  if (!kind) return 'objectives';
  return m[3] ? `objectives.${kind}.${m[3]}` : `objectives.${kind}`;
}

/** Paths the form shows next to a control; any other issue is listed under the form. */
function shownPaths(spec: ExperimentSpec): Set<string> {
  return new Set([
    ...activeFields(spec).map((f) => f.path),
    'task',
    'task.kind',
    'task.text',
    'task.reversed',
    'objectives',
    ...OBJECTIVE_KINDS.map((k) => `objectives.${k}`),
  ]);
}

/**
 * The experiment's setup: a named experiment to start from (what it shows, at what budget), then task, objectives,
 * model and training, with each problem shown next to its field and the rest listed below; a link to this exact
 * setup can be copied, and the defaults restored.
 *
 * @fires spec-change - detail: the whole edited ExperimentSpec (from the fieldsets, or Reset)
 */
@customElement('experiment-setup')
export class ExperimentSetup extends LitElement {
  static override styles = [
    buttonStyles,
    fieldStyles,
    css`
      .preset {
        display: grid;
        gap: 0.3rem;
      }
      .preset p {
        margin: 0;
        font-size: 0.85rem;
        max-width: 75ch;
      }
      :host {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.75rem;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .other {
        color: var(--bad);
        margin: 0;
        padding-left: 1.2rem;
        font-size: 0.9rem;
      }
      .note {
        font-size: 0.85rem;
        color: var(--muted);
      }
    `,
  ];

  @property({ attribute: false }) spec: ExperimentSpec = DEFAULT_SPEC;
  @property({ attribute: false }) issues: SpecIssue[] = [];
  /** The seeds a run would repeat over (the Run section's Seeds), for the PyTorch project. */
  @property({ attribute: false }) seeds: number[] = [1];
  /** While a run uses the spec, it cannot be edited. */
  @property({ type: Boolean }) disabled = false;
  @state() private copied = '';

  override render() {
    const map = new Map<string, string[]>();
    const shown = shownPaths(this.spec);
    const other: SpecIssue[] = [];
    for (const issue of this.issues) {
      const path = formPath(issue.field, this.spec);
      // ConfigError messages start with the field's own name ("lr: must be …"); next to the field it is redundant.
      const message = issue.message.replace(new RegExp(`^${issue.field.split('.').pop()}: `), '');
      if (shown.has(path)) map.set(path, [...(map.get(path) ?? []), message]);
      else other.push(issue);
    }
    const issues: IssueMap = map;
    const preset = presetOf(this.spec);
    return html`
      <div class="preset field">
        <label for="experiment-preset">Start from</label>
        <select id="experiment-preset" ?disabled=${this.disabled} @change=${this.onPreset}>
          ${EXPERIMENT_PRESETS.map((p) => html`<option value=${p.id} ?selected=${p === preset}>${p.title}</option>`)}
          <option value="" ?selected=${preset === undefined}>Your own settings (below)</option>
        </select>
        ${
          preset
            ? html`<p>${preset.shows}</p>
                <p class="note">Budget: ${preset.budget}</p>`
            : html`<p class="note">Changed from the named experiments; pick one to start again from it.</p>`
        }
      </div>
      <task-fields .spec=${this.spec} .issues=${issues} ?disabled=${this.disabled}></task-fields>
      <objective-fields .spec=${this.spec} .issues=${issues} ?disabled=${this.disabled}></objective-fields>
      <model-fields .spec=${this.spec} .issues=${issues} ?disabled=${this.disabled}></model-fields>
      <train-fields .spec=${this.spec} .issues=${issues} ?disabled=${this.disabled}></train-fields>
      ${
        other.length > 0
          ? html`<ul class="other" aria-label="Other problems with this setup">
              ${other.map((i) => html`<li>${i.field ? html`<code>${i.field}</code>: ` : nothing}${i.message}</li>`)}
            </ul>`
          : nothing
      }
      <div class="actions">
        <button @click=${this.copyLink}>Copy link to this setup</button>
        <button ?disabled=${this.disabled} @click=${() => emitSpec(this, structuredClone(DEFAULT_SPEC))}>
          Reset to defaults
        </button>
        <button
          ?disabled=${this.issues.length > 0}
          title="A PyTorch project for this experiment and its seeds: python -m labtorch, or torchrun on many GPUs"
          @click=${this.runAtScale}
        >
          Run at scale (PyTorch)
        </button>
        ${this.copied ? html`<span class="note" role="status">${this.copied}</span>` : nothing}
      </div>
    `;
  }

  private runAtScale() {
    const files = scaleProject(this.spec, this.seeds).map((f) => ({ name: `experiment/${f.name}`, data: f.text }));
    saveBytes(makeBundle(files), `experiment-${stamp()}.zip`, 'application/zip');
    this.copied = 'Saved a PyTorch project (experiment/README.md has the torchrun command).';
  }

  private onPreset(e: Event) {
    const id = (e.target as HTMLSelectElement).value;
    const preset = EXPERIMENT_PRESETS.find((p) => p.id === id);
    if (preset) emitSpec(this, structuredClone(preset.spec));
  }

  /** Focus the control of a spec path (e.g. `train.lr`) once the fieldsets show the current spec. */
  async focusField(path: string): Promise<void> {
    await this.updateComplete;
    const sets = this.renderRoot.querySelectorAll('task-fields, objective-fields, model-fields, train-fields');
    for (const set of sets as NodeListOf<LitElement>) {
      await set.updateComplete;
      const input = set.renderRoot.querySelector<HTMLElement>(`[data-path="${path}"]`);
      if (!input) continue;
      input.scrollIntoView({ block: 'center' });
      input.focus();
      return;
    }
  }

  private async copyLink() {
    try {
      await navigator.clipboard.writeText(location.href);
      this.copied = 'Link copied.';
    } catch {
      this.copied = 'The browser refused clipboard access; copy the address bar instead.';
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'experiment-setup': ExperimentSetup;
  }
}
