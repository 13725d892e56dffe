import { html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExperimentSpec } from '../../lab/api';
import { LR_SCHEDULES, type LrSchedule } from '../../model/config';
import { fieldStyles, numberInput, readNumber, type IssueMap } from '../app/field';
import { emitSpec } from './spec-event';
import { getNumber, setNumber, TRAIN_FIELDS } from '../../spec/fields';

/**
 * Training budget and schedule: steps, batch size, learning rate and its schedule after warmup (constant, or
 * nanoGPT's cosine decay to lr/10), warmup, seed, and how often to evaluate. Other optimizer settings keep the
 * lab's defaults (AdamW β 0.9/0.95, weight decay 0.1, clipping at 1).
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
        <div class="field">
          <label for="lr-schedule">After warmup</label>
          <select id="lr-schedule" data-path="train.schedule" ?disabled=${this.disabled} @change=${this.onSchedule}>
            ${LR_SCHEDULES.map(
              (s) =>
                html`<option value=${s} ?selected=${s === (this.spec.train.schedule ?? 'cosine')}>
                  ${s === 'constant' ? 'constant lr' : 'cosine to lr/10'}
                </option>`,
            )}
          </select>
        </div>
      </div>
    </fieldset>`;
  }

  private onSchedule(e: Event) {
    const schedule = (e.target as HTMLSelectElement).value as LrSchedule;
    emitSpec(this, { ...this.spec, train: { ...this.spec.train, schedule } });
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
