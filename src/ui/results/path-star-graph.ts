import { css, html, LitElement, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExampleView } from '../../lab/api';
import { objectiveColor, OBJECTIVE_DASH } from '../app/objective-style';

const SIZE = 320;
const R = SIZE / 2 - 22;

interface Graph {
  source: number;
  goal: number;
  /** Each arm's nodes from the source outwards (source excluded). */
  arms: number[][];
}

/**
 * Reads a path-star prompt `u v | u v | … / s g =` (B&N's format, see src/tasks/path-star.ts) into arms, by the
 * tokens' display strings so it does not depend on token ids.
 */
export function parsePathStar(ex: ExampleView): Graph | null {
  const text = ex.prompt.map((t) => ex.vocab[t] ?? '');
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const children = new Map<number, number[]>();
  for (let i = 0; i + 1 < slash; i += 3) {
    const [u, v] = [ex.prompt[i]!, ex.prompt[i + 1]!];
    children.set(u, [...(children.get(u) ?? []), v]);
  }
  const source = ex.prompt[slash + 1]!;
  const goal = ex.prompt[slash + 2]!;
  const arms = (children.get(source) ?? []).map((first) => {
    const arm = [first];
    for (let next = children.get(first)?.[0]; next !== undefined && arm.length < 64; next = children.get(next)?.[0]) {
      arm.push(next);
    }
    return arm;
  });
  return { source, goal, arms };
}

/**
 * The path-star graph of one test example: the source at the centre, arms radiating, the true path as a wide
 * band and each lane's predicted path as its coloured, dashed line (offset a little so overlapping paths stay
 * visible).
 */
@customElement('path-star-graph')
export class PathStarGraph extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    svg {
      max-width: 100%;
      height: auto;
    }
    .edge {
      stroke: var(--border-strong);
      stroke-width: 1.5;
    }
    .truth {
      stroke: var(--fg);
      stroke-opacity: 0.18;
      stroke-width: 14;
      stroke-linecap: round;
      stroke-linejoin: round;
      fill: none;
    }
    circle {
      fill: var(--bg);
      stroke: var(--border-strong);
      stroke-width: 1.5;
    }
    circle.source {
      fill: var(--fg);
    }
    circle.goal {
      stroke: var(--fg);
      stroke-width: 3;
    }
    text {
      font: 10px var(--mono);
      fill: var(--fg);
      text-anchor: middle;
      dominant-baseline: central;
    }
    text.source {
      fill: var(--bg);
    }
  `;

  @property({ attribute: false }) example: ExampleView | null = null;

  override render() {
    const ex = this.example;
    const g = ex ? parsePathStar(ex) : null;
    if (!ex || !g) return nothing;
    const pos = new Map<number, [number, number]>([[g.source, [SIZE / 2, SIZE / 2]]]);
    const armLength = Math.max(1, ...g.arms.map((a) => a.length));
    g.arms.forEach((arm, k) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * k) / g.arms.length;
      arm.forEach((node, j) => {
        const r = (R * (j + 1)) / armLength;
        pos.set(node, [SIZE / 2 + r * Math.cos(angle), SIZE / 2 + r * Math.sin(angle)]);
      });
    });
    const points = (path: number[], offset: number) =>
      path
        .filter((t) => pos.has(t))
        .map((t) => pos.get(t)!)
        .map(([x, y]) => `${(x + offset).toFixed(1)},${(y + offset).toFixed(1)}`)
        .join(' ');
    const name = (t: number) => ex.vocab[t] ?? String(t);
    const n = ex.predictions.length;
    return html`<svg
      viewBox="0 0 ${SIZE} ${SIZE}"
      width=${SIZE}
      height=${SIZE}
      role="img"
      aria-label=${`Path-star graph with ${g.arms.length} arms from source ${name(g.source)}; goal ${name(g.goal)}; true path ${ex.target.map(name).join(' → ')}`}
    >
      ${g.arms.map((arm) =>
        arm.map((node, j) => {
          const [x1, y1] = pos.get(j === 0 ? g.source : arm[j - 1]!)!;
          const [x2, y2] = pos.get(node)!;
          return svg`<line class="edge" x1=${x1} y1=${y1} x2=${x2} y2=${y2}></line>`;
        }),
      )}
      <polyline class="truth" points=${points(ex.target, 0)}></polyline>
      ${ex.predictions.map((p, i) => {
        const kind = p.objective;
        return svg`<polyline points=${points(p.predicted, (i - (n - 1) / 2) * 3)} fill="none"
          stroke=${objectiveColor(kind)} stroke-width="2.5" stroke-linejoin="round"
          stroke-dasharray=${OBJECTIVE_DASH[kind].join(' ') || 'none'}></polyline>`;
      })}
      ${[...pos].map(([node, [x, y]]) => {
        const cls = node === g.source ? 'source' : node === g.goal ? 'goal' : '';
        return svg`<circle class=${cls} cx=${x} cy=${y} r="11"></circle>
          <text class=${cls} x=${x} y=${y}>${name(node)}</text>`;
      })}
    </svg>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'path-star-graph': PathStarGraph;
  }
}
