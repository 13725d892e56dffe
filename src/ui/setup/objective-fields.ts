import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExperimentSpec, ObjectiveSpec } from '../../lab/api';
import type { DiffusionVariant } from '../../spec/types';
import type { ObjectiveName } from '../../objectives/types';
import { fieldStyles, numberInput, readNumber, type IssueMap } from '../app/field';
import { objectiveColor, OBJECTIVE_DESCRIPTIONS, OBJECTIVE_TITLES } from '../app/objective-style';
import { emitSpec } from './spec-event';
import { defaultObjective, DIFFUSION_VARIANTS, OBJECTIVE_FIELDS, OBJECTIVE_KINDS } from '../../spec/fields';

/**
 * Which objectives train side by side (one lane each), with the multi-token and diffusion knobs. Unchecking an
 * objective keeps its knobs for when it is checked again.
 *
 * @fires spec-change - detail: the whole edited ExperimentSpec
 */
@customElement('objective-fields')
export class ObjectiveFields extends LitElement {
  static override styles = [
    fieldStyles,
    css`
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.5rem;
      }
      .desc {
        margin: 0.1rem 0 0 1.6rem;
        font-size: 0.8rem;
        color: var(--muted);
      }
      .knobs {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin: 0.3rem 0 0 1.6rem;
      }
      .knobs .field {
        width: 8.5rem;
      }
      .swatch {
        flex: none;
      }
    `,
  ];

  @property({ attribute: false }) spec!: ExperimentSpec;
  @property({ attribute: false }) issues: IssueMap = new Map();
  @property({ type: Boolean }) disabled = false;

  /** Knob values of objectives as last edited, selected or not. */
  private kept = new Map<ObjectiveName, ObjectiveSpec>();

  override render() {
    const all = this.issues.get('objectives') ?? [];
    return html`<fieldset>
      <legend>Objectives</legend>
      ${all.length > 0 ? html`<p class="problem" role="alert">${all.join(' ')}</p>` : nothing}
      <ul>
        ${OBJECTIVE_KINDS.map((kind) => this.renderObjective(kind))}
      </ul>
    </fieldset>`;
  }

  private renderObjective(kind: ObjectiveName) {
    const selected = this.spec.objectives.some((o) => o.kind === kind);
    const o = this.objective(kind);
    const problems = this.issues.get(`objectives.${kind}`) ?? [];
    return html`<li>
      <label class="check">
        <input type="checkbox" .checked=${selected} ?disabled=${this.disabled} @change=${() => this.toggle(kind)} />
        <svg class="swatch" width="14" height="14" aria-hidden="true">
          <rect width="14" height="14" rx="3" fill=${objectiveColor(kind)}></rect>
        </svg>
        ${OBJECTIVE_TITLES[kind]} <code>${kind}</code>
      </label>
      <p class="desc">${OBJECTIVE_DESCRIPTIONS[kind]}</p>
      ${problems.length > 0 ? html`<p class="problem desc">${problems.join(' ')}</p>` : nothing}
      ${
        o.kind === 'mtp' || o.kind === 'diffusion'
          ? html`<div class="knobs" @input=${this.onKnob} @change=${this.onKnob}>
              ${numberInput(
                OBJECTIVE_FIELDS[o.kind],
                o.kind === 'mtp' ? o.heads : o.decodeSteps,
                this.issues,
                this.disabled || !selected,
              )}
              ${o.kind === 'diffusion' ? this.renderVariant(o.variant, selected) : nothing}
              ${o.kind === 'mtp' ? this.renderLayout(o.layout, selected) : nothing}
            </div>`
          : nothing
      }
    </li>`;
  }

  private renderVariant(variant: string, selected: boolean) {
    return html`<div class="field">
      <label for="diffusion-variant">Variant</label>
      <select id="diffusion-variant" ?disabled=${this.disabled || !selected} @change=${this.onVariant}>
        ${DIFFUSION_VARIANTS.map((v) => html`<option value=${v} ?selected=${v === variant}>${v.toUpperCase()}</option>`)}
      </select>
    </div>`;
  }

  /** Where the next-token head sits (ObjectiveSpec's mtp.layout). */
  private renderLayout(layout: 'gloeckle' | undefined, selected: boolean) {
    return html`<div class="field">
      <label for="mtp-layout">Next-token head</label>
      <select id="mtp-layout" ?disabled=${this.disabled || !selected} @change=${this.onLayout}>
        <option value="" ?selected=${layout === undefined}>on the trunk</option>
        <option value="gloeckle" ?selected=${layout === 'gloeckle'}>own block (Gloeckle)</option>
      </select>
    </div>`;
  }

  private onLayout(e: Event) {
    const o = this.objective('mtp');
    if (o.kind !== 'mtp') return;
    const gloeckle = (e.target as HTMLSelectElement).value === 'gloeckle';
    this.setObjective(gloeckle ? { kind: 'mtp', heads: o.heads, layout: 'gloeckle' } : { kind: 'mtp', heads: o.heads });
  }

  private objective(kind: ObjectiveName): ObjectiveSpec {
    return this.spec.objectives.find((o) => o.kind === kind) ?? this.kept.get(kind) ?? defaultObjective(kind);
  }

  private toggle(kind: ObjectiveName) {
    const selected = new Set(this.spec.objectives.map((o) => o.kind));
    if (selected.has(kind)) {
      this.kept.set(kind, this.objective(kind));
      selected.delete(kind);
    } else selected.add(kind);
    const objectives = OBJECTIVE_KINDS.filter((k) => selected.has(k)).map((k) => this.objective(k));
    emitSpec(this, { ...this.spec, objectives });
  }

  private setObjective(next: ObjectiveSpec) {
    this.kept.set(next.kind, next);
    if (this.spec.objectives.some((o) => o.kind === next.kind)) {
      emitSpec(this, { ...this.spec, objectives: this.spec.objectives.map((o) => (o.kind === next.kind ? next : o)) });
    } else this.requestUpdate();
  }

  private onKnob(e: Event) {
    const v = readNumber(e, e.type === 'change');
    if (!v) return;
    const kind = v.path.split('.')[1] as 'mtp' | 'diffusion';
    const o = this.objective(kind);
    if (o.kind === 'mtp') this.setObjective({ ...o, heads: v.value });
    if (o.kind === 'diffusion') this.setObjective({ ...o, decodeSteps: v.value });
  }

  private onVariant(e: Event) {
    const o = this.objective('diffusion');
    const variant = (e.target as HTMLSelectElement).value as DiffusionVariant;
    if (o.kind === 'diffusion') this.setObjective({ ...o, variant });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'objective-fields': ObjectiveFields;
  }
}
