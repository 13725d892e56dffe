import { html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExperimentSpec } from '../lab/api';
import { fieldStyles, numberInput, readNumber, type IssueMap } from './field';
import { emitSpec } from './spec-event';
import { getNumber, setNumber, TRAIN_FIELDS } from './spec-fields';

/**
 * Training budget and schedule: steps, batch size, learning rate, warmup, seed, and how often to evaluate.
 * Other optimizer settings keep the lab's defaults (AdamW, cosine decay, as nanoGPT).
 *
 * @fires spec-change - detail: the whole edited ExperimentSpec
 */
@customElement('train-fields')
export class TrainFields extends LitElement {
  static override styles = [fieldStyles];

  @property({ attribute: false }) spec!: ExperimentSpec;
  @property({ attribute: false }) issues: IssueMap = new Map();
  @property({ type: Boolean }) disabled = false;

  override render() {
    return html`<fieldset>
      <legend>Training</legend>
      <div class="grid" @input=${this.onNumber} @change=${this.onNumber}>
        ${TRAIN_FIELDS.map((f) => numberInput(f, getNumber(this.spec, f.path), this.issues, this.disabled))}
      </div>
    </fieldset>`;
  }

  private onNumber(e: Event) {
    const v = readNumber(e, e.type === 'change');
    if (v) emitSpec(this, setNumber(this.spec, v.path, v.value));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'train-fields': TrainFields;
  }
}
