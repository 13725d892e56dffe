import { html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { fieldStyles } from '../app/field';

/** How runs are kept safe; a preference of this browser (localStorage), not part of the experiment or its link. */
export interface RunPrefs {
  /** Autosave every lane to IndexedDB every this many steps (and at the end); 0 turns autosave off. */
  autosaveEvery: number;
  /** After a GPU device loss, resume from the last autosave without asking. */
  autoResume: boolean;
  /**
   * How a run over several seeds trains: every seed's lanes together (one run, the lanes of one shape in the same
   * dispatches; not autosaved), one seed after another (each autosaved), or together where the adapter is a GPU.
   */
  seedsTogether: SeedsTogether;
}

export type SeedsTogether = 'auto' | 'on' | 'off';
const SEEDS_TOGETHER: readonly SeedsTogether[] = ['auto', 'on', 'off'];

export const DEFAULT_PREFS: RunPrefs = { autosaveEvery: 50, autoResume: false, seedsTogether: 'auto' };
const KEY = 'webgpu-lab.run-prefs';
const MAX_EVERY = 10_000_000;

/** The saved preferences; anything unreadable falls back to its default. */
export function loadPrefs(): RunPrefs {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<RunPrefs>;
    return {
      autosaveEvery: autosaveProblem(raw.autosaveEvery) === null ? raw.autosaveEvery! : DEFAULT_PREFS.autosaveEvery,
      autoResume: typeof raw.autoResume === 'boolean' ? raw.autoResume : DEFAULT_PREFS.autoResume,
      seedsTogether: SEEDS_TOGETHER.includes(raw.seedsTogether!) ? raw.seedsTogether! : DEFAULT_PREFS.seedsTogether,
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function savePrefs(prefs: RunPrefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    /* storage refused (private mode, quota): the preference lasts for this page only */
  }
}

/** What is wrong with an autosave interval, or null. */
export function autosaveProblem(v: unknown): string | null {
  if (typeof v !== 'number' || Number.isNaN(v)) return 'enter a number of steps (0 = off)';
  if (!Number.isInteger(v) || v < 0 || v > MAX_EVERY) return `must be a whole number from 0 to ${MAX_EVERY}, got ${v}`;
  return null;
}

/**
 * The run's safety settings: how often to autosave, and whether to resume by itself after a device loss.
 *
 * @fires run-prefs-change - detail: RunPrefs (autosaveEvery may be NaN or out of range while being typed)
 */
@customElement('run-options')
export class RunOptionsFields extends LitElement {
  static override styles = [fieldStyles];

  @property({ attribute: false }) prefs: RunPrefs = DEFAULT_PREFS;
  /** While a run is active its autosave interval is fixed (the checkbox still applies to it). */
  @property({ type: Boolean }) disabled = false;

  override render() {
    const problem = autosaveProblem(this.prefs.autosaveEvery);
    const every = this.prefs.autosaveEvery;
    return html`<div class="grid">
        <div class="field ${problem ? 'invalid' : ''}">
          <label for="every">Autosave every</label>
          <input
            id="every"
            type="number"
            min="0"
            step="1"
            .value=${Number.isNaN(every) ? '' : String(every)}
            ?disabled=${this.disabled}
            aria-invalid=${problem ? 'true' : 'false'}
            aria-describedby="every-note"
            @change=${this.onEvery}
          />
          <p class=${problem ? 'problem' : 'help'} id="every-note">${problem ?? 'Steps; 0 = off.'}</p>
        </div>
      </div>
      <label class="check">
        <input type="checkbox" .checked=${this.prefs.autoResume} @change=${this.onAuto} />
        Resume automatically after a device loss
      </label>
      <div class="field">
        <label for="seeds-together">Several seeds</label>
        <select
          id="seeds-together"
          .value=${this.prefs.seedsTogether}
          ?disabled=${this.disabled}
          aria-describedby="seeds-together-note"
          @change=${(e: Event) =>
            this.send({ ...this.prefs, seedsTogether: (e.target as HTMLSelectElement).value as SeedsTogether })}
        >
          <option value="auto" ?selected=${this.prefs.seedsTogether === 'auto'}>
            together on a GPU, else one by one
          </option>
          <option value="on" ?selected=${this.prefs.seedsTogether === 'on'}>always together</option>
          <option value="off" ?selected=${this.prefs.seedsTogether === 'off'}>one after another</option>
        </select>
        <p class="help" id="seeds-together-note">
          Together: every seed's lanes in the same dispatches, all curves at once, not autosaved.
        </p>
      </div>`;
  }

  private onEvery(e: Event) {
    const input = e.target as HTMLInputElement;
    this.send({ ...this.prefs, autosaveEvery: input.value.trim() === '' ? NaN : input.valueAsNumber });
  }

  private onAuto(e: Event) {
    this.send({ ...this.prefs, autoResume: (e.target as HTMLInputElement).checked });
  }

  private send(prefs: RunPrefs) {
    this.dispatchEvent(new CustomEvent<RunPrefs>('run-prefs-change', { detail: prefs, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'run-options': RunOptionsFields;
  }
  interface HTMLElementEventMap {
    'run-prefs-change': CustomEvent<RunPrefs>;
  }
}
