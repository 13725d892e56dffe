import { html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExperimentSpec } from '../../lab/api';
import { MODEL_PRESETS, type ModelPresetName } from '../../model/config';
import { fieldStyles, numberInput, readNumber, type IssueMap } from '../app/field';
import { emitSpec } from './spec-event';
import { getNumber, MODEL_FIELDS, setNumber } from '../../spec/fields';

/**
 * Model size: a named preset (tiny, small, medium) or layers, width and heads by hand. Every objective's lane gets
 * the same trunk; only attention (diffusion is bidirectional) and extra heads (multi-token) differ.
 *
 * @fires spec-change - detail: the whole edited ExperimentSpec
 */
@customElement('model-fields')
export class ModelFields extends LitElement {
  static override styles = [fieldStyles];

  @property({ attribute: false }) spec!: ExperimentSpec;
  @property({ attribute: false }) issues: IssueMap = new Map();
  @property({ type: Boolean }) disabled = false;

  override render() {
    const m = this.spec.model;
    const current = (Object.keys(MODEL_PRESETS) as ModelPresetName[]).find((name) => {
      const p = MODEL_PRESETS[name];
      return p.nLayer === m.nLayer && p.nEmbd === m.nEmbd && p.nHead === m.nHead;
    });
    return html`<fieldset>
      <legend>Model</legend>
      <div class="field">
        <label for="model-preset">Size</label>
        <select id="model-preset" ?disabled=${this.disabled} @change=${this.onPreset}>
          ${(Object.keys(MODEL_PRESETS) as ModelPresetName[]).map((name) => {
            const p = MODEL_PRESETS[name];
            return html`<option value=${name} ?selected=${name === current}>
              ${name} — ${p.nLayer} layers, ${p.nEmbd} wide, ${p.nHead} heads
            </option>`;
          })}
          <option value="" ?selected=${current === undefined}>own size</option>
        </select>
      </div>
      <div class="grid" @input=${this.onNumber} @change=${this.onNumber}>
        ${MODEL_FIELDS.map((f) => numberInput(f, getNumber(this.spec, f.path), this.issues, this.disabled))}
      </div>
    </fieldset>`;
  }

  private onPreset(e: Event) {
    const name = (e.target as HTMLSelectElement).value as ModelPresetName | '';
    if (name !== '') emitSpec(this, { ...this.spec, model: { ...MODEL_PRESETS[name] } });
  }

  private onNumber(e: Event) {
    const v = readNumber(e, e.type === 'change');
    if (v) emitSpec(this, setNumber(this.spec, v.path, v.value));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-fields': ModelFields;
  }
}
