import { consume } from '@lit/context';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { labContext, type LabRemote } from '../run/context';
import { saveBytes, stamp } from '../app/download';
import { checkOnnx } from './onnx-check';
import type { RunData } from '../run/run-data';
import { buttonStyles } from '../app/lab-app-styles';

/** ONNX Runtime and the trainer compute in float32 in different orders; through a tiny GPT they agree to ~1e-6. */
export const ONNX_TOLERANCE = 1e-4;

type Kind = 'model' | 'optimizer' | 'onnx';
const SUFFIX: Record<Kind, string> = { model: '.safetensors', optimizer: '.optimizer.safetensors', onnx: '.onnx' };

/** Per lane: what the last action on it shows (the ONNX check's result, or a problem). */
interface LaneNote {
  text: string;
  good?: boolean;
  busy?: boolean;
}

/**
 * The run's checkpoints as files that leave the browser: per lane the weights (safetensors, loads into nanoGPT),
 * the optimizer state (to continue exactly) and ONNX, and one zip bundle with the config, every lane's files and
 * the metrics. Each lane's ONNX file can be checked in the page against the trainer's own forward pass.
 */
@customElement('checkpoint-export')
export class CheckpointExport extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
        font-size: 0.9rem;
      }
      table {
        border-collapse: collapse;
      }
      th,
      td {
        padding: 0.25rem 0.6rem 0.25rem 0;
        text-align: left;
        vertical-align: baseline;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.6rem;
      }
      .muted {
        color: var(--muted);
      }
      .good {
        color: var(--good);
      }
      .bad {
        color: var(--bad);
      }
    `,
  ];

  @consume({ context: labContext, subscribe: true })
  @state()
  private lab?: LabRemote;

  @property({ attribute: false }) run: RunData | null = null;
  @state() private notes = new Map<number, LaneNote>();
  @state() private bundleNote: LaneNote | null = null;
  private abort = new AbortController();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    this.abort = new AbortController();
  }

  override render() {
    const run = this.run;
    if (!run || run.state === 'starting')
      return html`<p class="muted">Checkpoints can be downloaded once a run starts.</p>`;
    if (!run.modelsHeld) {
      return html`<p class="muted">
        This run was opened from its results alone, so the page holds no models for it: open it with its lanes'
        checkpoints to download them, export ONNX or check it here.
      </p>`;
    }
    const ready = this.lab !== undefined;
    // The weights must not change between the export and the trainer's forward pass.
    const still = run.state !== 'running' && run.state !== 'stopping';
    return html`<table>
        <tbody>
          ${run.lanes.map((l) => {
            const note = this.notes.get(l.lane);
            return html`<tr>
              <th scope="row">${l.label}</th>
              <td>
                ${(['model', 'optimizer', 'onnx'] as Kind[]).map(
                  (k) =>
                    html`<button
                      ?disabled=${!ready}
                      @click=${() => this.download(l.lane, k)}
                      aria-label="Download ${l.label} ${SUFFIX[k]}"
                    >
                      ${SUFFIX[k]}
                    </button> `,
                )}
                <button
                  ?disabled=${!ready || !still || note?.busy}
                  title=${still ? 'Run the ONNX file in this page and compare with the trainer' : 'Pause or stop the run first'}
                  @click=${() => this.check(l.lane)}
                >
                  Check ONNX in the page
                </button>
              </td>
              <td class=${note ? (note.good === undefined ? 'muted' : note.good ? 'good' : 'bad') : ''} role="status">
                ${note?.text ?? nothing}
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
      <div class="actions">
        <button ?disabled=${!ready || this.bundleNote?.busy} @click=${this.downloadBundle}>
          Download bundle (.zip)
        </button>
        <span class=${this.bundleNote?.good === false ? 'bad' : 'muted'} role="status"
          >${this.bundleNote?.text ?? 'Config, every lane’s files and the metrics in one zip.'}</span
        >
      </div>`;
  }

  private note(lane: number, note: LaneNote) {
    this.notes = new Map(this.notes).set(lane, note);
  }

  private async download(lane: number, kind: Kind) {
    try {
      const files = await this.lab!.exportLane(lane);
      saveBytes(files[kind], `${files.stem}${SUFFIX[kind]}`);
    } catch (e) {
      this.note(lane, { text: `Export failed: ${message(e)}`, good: false });
    }
  }

  private async downloadBundle() {
    this.bundleNote = { text: 'Packing…', busy: true };
    try {
      const zip = await this.lab!.exportBundle();
      saveBytes(zip, `webgpu-lab-${stamp()}.zip`, 'application/zip');
      this.bundleNote = { text: `Bundle saved (${(zip.byteLength / 1024).toFixed(0)} KiB).` };
    } catch (e) {
      this.bundleNote = { text: `Bundle failed: ${message(e)}`, good: false };
    }
  }

  private async check(lane: number) {
    this.note(lane, { text: 'Running the ONNX file with onnxruntime-web…', busy: true });
    try {
      const r = await checkOnnx(this.lab!, lane, this.abort.signal);
      const d = r.maxAbsDiff.toExponential(1);
      const good = r.maxAbsDiff <= ONNX_TOLERANCE;
      this.note(lane, {
        text: good
          ? `ONNX agrees with the trainer: max |Δ| ${d} (${r.sequences} sequences × ${r.T} positions)`
          : `ONNX differs from the trainer: max |Δ| ${d}, above ${ONNX_TOLERANCE}`,
        good,
      });
    } catch (e) {
      this.note(lane, { text: `ONNX check failed: ${message(e)}`, good: false });
    }
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

declare global {
  interface HTMLElementTagNameMap {
    'checkpoint-export': CheckpointExport;
  }
}
