import { css, html, LitElement, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { EvalMetrics, TaskSpec } from '../../lab/api';
import { cleverHansText, laneReading, pathStarRoles, probeReading, probeRows } from './clever-hans-text';
import { percent } from '../app/format';
import { objectiveColor } from '../app/objective-style';
import type { LaneHistory, RunData } from '../run/run-data';
import { positionSpread, type Spread } from '../../lab/seeds';
import type { SeedRun } from './results-table';

const BAR = 14;
const GAP = 3;
const GROUP = 2 * BAR + GAP + 14;
const H = 90;
const TOP = 8;
const BOTTOM = 16;
/** Room for the y-axis labels. */
const LEFT = 34;

/**
 * Per target position, accuracy under teacher forcing (the true earlier target tokens given) beside free-running
 * accuracy (the model's own earlier tokens), per objective, from each lane's latest evaluation. On path-star the
 * Clever Hans signature (Bachmann & Nagarajan 2024) is teacher-forced accuracy near 100% on every position but the
 * decision token, which stays near 1/degree. Over seeds (two or more finished runs of a repetition), each bar gets
 * a whisker from the lowest seed's final accuracy to the highest, and a table gives the mean and that range.
 */
@customElement('clever-hans-view')
export class CleverHansView extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    .explain {
      margin: 0 0 0.5rem;
      font-size: 0.9rem;
      max-width: 75ch;
    }
    .key {
      display: flex;
      gap: 1rem;
      font-size: 0.8rem;
      color: var(--muted);
      margin-bottom: 0.5rem;
    }
    .lanes {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem 1.5rem;
    }
    figure {
      margin: 0;
      max-width: 100%;
      overflow-x: auto;
    }
    figcaption {
      font-size: 0.85rem;
      font-weight: 600;
    }
    .reading {
      margin: 0.15rem 0 0.25rem;
      font-size: 0.8rem;
      max-width: 48ch;
    }
    svg text {
      fill: var(--muted);
      font-size: 10px;
      font-family: var(--mono);
    }
    svg .decision {
      fill: var(--fg);
      font-weight: 700;
    }
    .axis {
      stroke: var(--border-strong);
    }
    table.probes {
      font-size: 0.75rem;
      font-family: var(--mono);
      border-collapse: collapse;
      margin-top: 0.15rem;
    }
    table.probes th {
      font-weight: 400;
      text-align: left;
      color: var(--muted);
      padding-right: 0.5rem;
    }
    table.probes small {
      color: var(--muted);
    }
    .whisker {
      color: var(--fg);
    }
    table.probes td,
    table.probes tr:first-child th:not(:first-child) {
      text-align: right;
      padding: 0 0.3rem;
    }
    .empty {
      color: var(--muted);
      font-size: 0.9rem;
    }
  `;

  @property({ attribute: false }) run: RunData | null = null;
  /** The finished runs of the current repetition over seeds. */
  @property({ attribute: false }) seedRuns: readonly SeedRun[] = [];
  /** The task being set up, explained while no run has happened yet. */
  @property({ attribute: false }) task: TaskSpec | null = null;

  override render() {
    const task = this.run?.spec.task ?? this.task;
    const star = task?.kind === 'path-star' ? task : null;
    const degree = star ? star.degree : null;
    const lanes = (this.run?.lanes ?? []).filter((l) => l.evals.length > 0);
    return html`<p class="explain">
        Solid bars: accuracy with the true earlier target tokens given (teacher forcing, in each objective's own order);
        light bars: the model's own earlier tokens (free running).
        ${
          star
            ? cleverHansText(star.degree, star.pathLength)
            : "A position that is right only under teacher forcing is leaning on the answer's own prefix."
        }
        Under a lane, its probes where its objective has them: <em>goal side</em>, the true tokens after each position
        given; <em>one masked</em>, every other target token given; <em>head k</em>, head k's own prediction from k
        tokens back. A position found there but not in decoding is a look-up learned and an order not.
      </p>
      <div class="key" aria-hidden="true">
        <span>■ teacher forcing</span
        ><span>□ free running</span>${degree !== null ? html`<span>┈ chance (1/degree)</span>` : nothing}${
          this.seedRuns.length >= 2 ? html`<span>⊥ lowest to highest of ${this.seedRuns.length} seeds</span>` : nothing
        }
      </div>
      ${
        lanes.length === 0
          ? html`<p class="empty">Appears after the first evaluation.</p>`
          : html`<div class="lanes">${lanes.map((l) => this.renderLane(l, degree))}</div>`
      }`;
  }

  private renderLane(lane: LaneHistory, degree: number | null) {
    const ev = lane.evals.at(-1)!;
    const task = this.run?.spec.task;
    const roles = task?.kind === 'path-star' ? pathStarRoles(task.pathLength) : [];
    const decision = roles.indexOf('d');
    const { teacherForced: tf, freeRunning: fr } = ev.perPosition;
    const n = Math.max(tf.length, fr.length);
    const width = LEFT + n * GROUP;
    const color = objectiveColor(lane.objective.kind);
    const y = (acc: number) => TOP + H * (1 - Math.max(0, Math.min(1, acc)));
    const bar = (x: number, acc: number | undefined, solid: boolean) =>
      acc === undefined
        ? nothing
        : svg`<rect x=${x} y=${y(acc)} width=${BAR} height=${TOP + H - y(acc)} fill=${color}
            fill-opacity=${solid ? 1 : 0.3} stroke=${color} stroke-width="1"><title>${solid ? 'teacher forcing' : 'free running'}: ${percent(acc)}</title></rect>`;
    const star = task?.kind === 'path-star' ? task : null;
    const reading = star ? laneReading(lane.objective.kind, star.degree, star.pathLength, ev) : null;
    const probed = star ? probeReading(star.degree, star.pathLength, ev) : null;
    const probes = probeRows(ev.probes);
    const seeds = this.seedRuns.length >= 2 ? positionSpread(this.seedRuns, lane.lane) : null;
    const whisker = (x: number, sp: Spread | null | undefined) =>
      sp
        ? svg`<g class="whisker" stroke="currentColor" stroke-width="1"><line x1=${x + BAR / 2} x2=${x + BAR / 2}
            y1=${y(sp.max)} y2=${y(sp.min)}></line><line x1=${x + 3} x2=${x + BAR - 3} y1=${y(sp.max)} y2=${y(sp.max)}
            ></line><line x1=${x + 3} x2=${x + BAR - 3} y1=${y(sp.min)} y2=${y(sp.min)}></line><title>over ${
              sp.values.length
            } seeds: mean ${percent(sp.mean)}, ${percent(sp.min)}–${percent(sp.max)}</title></g>`
        : nothing;
    const seedLabel = seeds ? ` · seed ${this.run?.spec.train.seed}` : '';
    return html`<figure>
      <figcaption>${lane.label}${seedLabel} · step ${ev.step} · exact match ${percent(ev.exactMatch)}</figcaption>
      ${reading ? html`<p class="reading">${reading}</p>` : nothing}
      <svg width=${width} height=${TOP + H + BOTTOM} role="img" aria-label=${this.describe(lane.label, ev)}>
        <text x=${LEFT - 4} y=${TOP + 4} text-anchor="end">100%</text>
        <text x=${LEFT - 4} y=${TOP + H / 2 + 4} text-anchor="end">50%</text>
        <text x=${LEFT - 4} y=${TOP + H + 4} text-anchor="end">0</text>
        <line class="axis" x1=${LEFT} x2=${width} y1=${TOP + H} y2=${TOP + H}></line>
        <line class="axis" x1=${LEFT} x2=${width} y1=${TOP} y2=${TOP} stroke-dasharray="1 3"></line>
        <line class="axis" x1=${LEFT} x2=${width} y1=${TOP + H / 2} y2=${TOP + H / 2} stroke-dasharray="1 3"></line>
        ${Array.from({ length: n }, (_, p) => {
          const x = LEFT + 6 + p * GROUP;
          return svg`${bar(x, tf[p], true)}${bar(x + BAR + GAP, fr[p], false)}
            ${whisker(x, seeds?.teacherForced[p])}${whisker(x + BAR + GAP, seeds?.freeRunning[p])}
            ${
              p === decision && degree !== null
                ? svg`<line x1=${x - 3} x2=${x + 2 * BAR + GAP + 3} y1=${y(1 / degree)} y2=${y(1 / degree)}
                  stroke="currentColor" stroke-dasharray="2 2"></line>`
                : nothing
            }
            <text x=${x + BAR} y=${TOP + H + 12} text-anchor="middle" class=${p === decision ? 'decision' : ''}>${roles[p] ?? p}</text>`;
        })}
      </svg>
      ${
        probes.length === 0
          ? nothing
          : html`<table class="probes" aria-label="Probes: accuracy per target position">
              <tr>
                <th>probe</th>
                ${Array.from({ length: n }, (_, p) => html`<th>${roles[p] ?? p}</th>`)}
              </tr>
              ${probes.map(
                (r) =>
                  html`<tr title=${r.about}>
                    <th>${r.name}</th>
                    ${r.accuracy.map((a) => html`<td>${a === null ? '–' : percent(a, 0)}</td>`)}
                  </tr>`,
              )}
            </table>`
      }
      ${probed ? html`<p class="reading">${probed}</p>` : nothing}
      ${seeds ? this.renderSpread(seeds, n, roles) : nothing}
    </figure>`;
  }

  /** The final accuracies over seeds, per position: mean, and lowest–highest. */
  private renderSpread(
    seeds: { teacherForced: (Spread | null)[]; freeRunning: (Spread | null)[] },
    n: number,
    roles: string[],
  ) {
    const count = this.seedRuns.length;
    const cell = (sp: Spread | null | undefined) =>
      sp
        ? html`<td>${percent(sp.mean, 0)} <small>${percent(sp.min, 0)}–${percent(sp.max, 0)}</small></td>`
        : html`<td>–</td>`;
    return html`<table class="probes spread" aria-label=${`Over ${count} seeds: final accuracy per target position`}>
      <tr>
        <th>over ${count} seeds</th>
        ${Array.from({ length: n }, (_, p) => html`<th>${roles[p] ?? p}</th>`)}
      </tr>
      <tr title="teacher forcing: the mean of the seeds' final accuracies, then the lowest and the highest">
        <th>teacher forcing</th>
        ${Array.from({ length: n }, (_, p) => cell(seeds.teacherForced[p]))}
      </tr>
      <tr title="free running: the mean of the seeds' final accuracies, then the lowest and the highest">
        <th>free running</th>
        ${Array.from({ length: n }, (_, p) => cell(seeds.freeRunning[p]))}
      </tr>
    </table>`;
  }

  private describe(label: string, ev: EvalMetrics): string {
    const list = (xs: number[]) => xs.map((x) => percent(x, 0)).join(', ');
    return `${label}, accuracy per target position. Teacher forcing: ${list(ev.perPosition.teacherForced)}. Free running: ${list(ev.perPosition.freeRunning)}.`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clever-hans-view': CleverHansView;
  }
}
