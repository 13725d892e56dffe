import { css, html, LitElement, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import { bandFill, chartPng, inPrintLegend, lineStyle, METRIC_LABELS, X_LABELS } from './chart-data';
import { chartSvg } from './chart-svg';
import { saveText, saveUrl, stamp } from '../app/download';
import { duration, percent, si } from '../app/format';
import { prefersDark } from '../app/objective-style';
import {
  chartModel,
  fromEvals,
  type ChartModel,
  type Metric,
  type SeedCurves,
  type SeedView,
  type XAxis,
} from './seed-curves';

const HEIGHT = 240;

/** Loss axis: from 0 (or below the lowest loss) to a little above the highest; [0, 1] before any data. */
const lossRange: uPlot.Range.Function = (_u, min, max) =>
  min === null || max === null ? [0, 1] : [Math.min(0, min), max + 0.05 * (max - Math.min(0, min) || 1)];

/**
 * One live uPlot chart of a metric against steps, FLOPs, tokens or wall time: one line per lane, or over seeds each
 * objective's mean with its band or every seed's line (seed-curves.ts); a legend whose entries toggle lines (a
 * mean's band goes with it); PNG and SVG downloads. Redraws when the runs change (each snapshot is a new object);
 * rebuilds when the lines, the x axis or the colour scheme change.
 */
@customElement('metric-chart')
export class MetricChart extends LitElement {
  static override styles = [
    unsafeCSS(uPlotCss),
    css`
      :host {
        display: block;
        min-width: 0;
      }
      header {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 0.5rem;
      }
      h3 {
        margin: 0 0 0.25rem;
        font-size: 1rem;
      }
      button {
        font: inherit;
        font-size: 0.85rem;
        color: inherit;
        background: var(--button-bg);
        border: 1px solid var(--border-strong);
        border-radius: 4px;
        padding: 0.15rem 0.5rem;
        cursor: pointer;
      }
      button:focus-visible {
        outline: 2px solid var(--focus);
      }
      .plot {
        min-height: ${HEIGHT}px;
      }
      .u-legend {
        font-size: 0.8rem;
        color: var(--fg);
      }
      .u-legend .band-edge {
        display: none;
      }
    `,
  ];

  /** One run per seed (one: a single run), lanes in the same order in each. */
  @property({ attribute: false }) runs: readonly SeedCurves[] = [];
  @property() view: SeedView = 'band';
  @property() metric: Metric = 'loss';
  @property() xAxis: XAxis = 'step';
  @property() heading = '';

  @query('.plot') private container!: HTMLDivElement;
  private plot: uPlot | null = null;
  private builtFor = '';
  private resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));
  private scheme = matchMedia('(prefers-color-scheme: dark)');
  private onScheme = () => this.rebuild();

  override connectedCallback(): void {
    super.connectedCallback();
    this.scheme.addEventListener('change', this.onScheme);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.scheme.removeEventListener('change', this.onScheme);
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  override render() {
    return html`<header>
        <h3>${this.heading}</h3>
        <span>
          <button @click=${this.downloadPng} aria-label=${`Download ${this.heading} chart as PNG`}>PNG</button>
          <button @click=${this.downloadSvg} aria-label=${`Download ${this.heading} chart as SVG`}>SVG</button>
        </span>
      </header>
      <div
        class="plot"
        role="img"
        aria-label=${`${this.heading} against ${X_LABELS[this.xAxis]}, ${this.describeLines()}`}
      ></div>`;
  }

  protected override firstUpdated(): void {
    this.resize.observe(this.container);
  }

  private describeLines(): string {
    if (this.view === 'runs') return `one line per run and objective (${this.runs.length} runs)`;
    if (this.runs.length <= 1) return 'one line per objective';
    return this.view === 'band'
      ? `each objective's mean over ${this.runs.length} seeds, shaded from the lowest seed to the highest`
      : `one line per objective and seed (${this.runs.length} seeds)`;
  }

  private model(): ChartModel {
    return chartModel(this.runs, this.metric, this.xAxis, this.view);
  }

  protected override updated(_changed: PropertyValues): void {
    const model = this.model();
    const key = `${this.xAxis}|${model.lines.map((l) => l.label).join(',')}`;
    if (key !== this.builtFor || !this.plot) this.rebuild(model);
    else this.plot.setData(model.data as uPlot.AlignedData);
    // Points per drawn line (a band's edges aside), for tests and curious users: "12,12" means two lines of 12.
    this.dataset['points'] = model.lines
      .map((l, i) => (inPrintLegend(l) ? model.data[i + 1]!.filter((v) => v !== null).length : null))
      .filter((n) => n !== null)
      .join(',');
    this.dataset['lines'] = model.lines.map((l) => l.label).join('|');
  }

  private xFormat = (v: number) =>
    this.xAxis === 'flops' ? si(v) : this.xAxis === 'seconds' ? duration(v) : String(v);
  private yFormat = (v: number) => (this.metric === 'exactMatch' ? percent(v, 0) : v.toPrecision(3));

  private width(): number {
    return Math.max(200, this.container?.clientWidth ?? 400);
  }

  private rebuild(model = this.model()): void {
    this.plot?.destroy();
    this.plot = null;
    this.builtFor = `${this.xAxis}|${model.lines.map((l) => l.label).join(',')}`;
    const style = getComputedStyle(this);
    const fg = style.getPropertyValue('--fg').trim() || '#222';
    const grid = style.getPropertyValue('--grid').trim() || '#ddd';
    const dark = prefersDark();
    const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const xFmt = this.xFormat;
    const yFmt = this.yFormat;
    const { lines } = model;
    const opts: uPlot.Options = {
      width: this.width(),
      height: HEIGHT,
      scales: {
        x: { time: false, range: (_u, min, max) => (min === null || max === null ? [0, 1] : [min, max]) },
        y: this.metric === 'exactMatch' ? { range: [0, 1] } : { range: lossRange },
      },
      axes: [
        { ...axis, label: X_LABELS[this.xAxis], values: (_u, ticks) => ticks.map(xFmt) },
        {
          ...axis,
          label: METRIC_LABELS[this.metric],
          values: (_u, t) => t.map(yFmt),
        },
      ],
      series: [
        { label: X_LABELS[this.xAxis], value: (_u, v) => (v === null ? '—' : xFmt(v)) },
        ...lines.map((line): uPlot.Series => {
          const style = lineStyle(line, dark);
          return {
            label: line.label,
            stroke: style.color,
            dash: style.dash,
            width: style.width,
            spanGaps: true,
            points: { show: fromEvals(this.metric) && inPrintLegend(line) },
            // A band's edges have no legend row: the mean's row shows and hides them with it.
            class: inPrintLegend(line) ? undefined : 'band-edge',
            value: (_u, v) => (v === null ? '—' : yFmt(v)),
          };
        }),
      ],
      bands: model.bands.map((b) => ({ series: [b.high + 1, b.low + 1], fill: bandFill(lines[b.high]!, dark) })),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // A click on a mean's legend entry shows or hides its band with it.
        setSeries: [
          (u, idx, o) => {
            const line = idx === null ? undefined : lines[idx - 1];
            if (!line || line.role !== 'mean' || o.show === undefined) return;
            for (const b of model.bands) {
              if (lines[b.high]!.lane !== line.lane) continue;
              u.setSeries(b.high + 1, { show: o.show }, false);
              u.setSeries(b.low + 1, { show: o.show }, false);
            }
          },
        ],
      },
    };
    this.plot = new uPlot(opts, model.data as uPlot.AlignedData, this.container);
  }

  private downloadPng(): void {
    if (!this.plot) return;
    const style = getComputedStyle(this);
    const png = chartPng(this.plot.ctx.canvas, `${this.heading} vs ${X_LABELS[this.xAxis]}`, this.model().lines, {
      bg: style.getPropertyValue('--bg').trim() || '#fff',
      fg: style.getPropertyValue('--fg').trim() || '#222',
    });
    saveUrl(png, `${this.metric}-vs-${this.xAxis}-${stamp()}.png`);
  }

  /** The same series as the plot, as a standalone SVG file (chart-svg.ts). */
  private downloadSvg(): void {
    const model = this.model();
    const svg = chartSvg({
      title: `${this.heading} vs ${X_LABELS[this.xAxis]}`,
      xLabel: X_LABELS[this.xAxis],
      yLabel: METRIC_LABELS[this.metric],
      data: model.data as uPlot.AlignedData,
      series: model.lines.map((l) => ({ label: l.label, ...lineStyle(l, false), legend: inPrintLegend(l) })),
      bands: model.bands.map((b) => ({ ...b, fill: bandFill(model.lines[b.high]!, false) })),
      points: fromEvals(this.metric),
      yRange: this.metric === 'exactMatch' ? [0, 1] : null,
      xFormat: this.xFormat,
      yFormat: this.yFormat,
    });
    saveText(svg, `${this.metric}-vs-${this.xAxis}-${stamp()}.svg`, 'image/svg+xml');
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'metric-chart': MetricChart;
  }
}
