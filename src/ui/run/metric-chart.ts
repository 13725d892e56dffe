import { css, html, LitElement, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import { alignedSeries, chartPng, fromEvals, METRIC_LABELS, X_LABELS, type Metric, type XAxis } from './chart-data';
import { chartSvg } from './chart-svg';
import { saveText, saveUrl, stamp } from '../app/download';
import { duration, percent, si } from '../app/format';
import { objectiveColor, OBJECTIVE_DASH, prefersDark } from '../app/objective-style';
import type { RunData } from './run-data';

const HEIGHT = 240;

/** Loss axis: from 0 (or below the lowest loss) to a little above the highest; [0, 1] before any data. */
const lossRange: uPlot.Range.Function = (_u, min, max) =>
  min === null || max === null ? [0, 1] : [Math.min(0, min), max + 0.05 * (max - Math.min(0, min) || 1)];

/**
 * One live uPlot chart of a metric against steps, FLOPs or wall time, one line per lane, with a legend and PNG and
 * SVG downloads. Redraws when the run changes (each snapshot is a new object); rebuilds when the lanes, the x axis or the colour scheme change.
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
    `,
  ];

  @property({ attribute: false }) run: RunData | null = null;
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
        aria-label=${`${this.heading} against ${X_LABELS[this.xAxis]}, one line per objective`}
      ></div>`;
  }

  protected override firstUpdated(): void {
    this.resize.observe(this.container);
  }

  protected override updated(_changed: PropertyValues): void {
    const key = `${this.xAxis}|${this.run?.lanes.map((l) => l.label).join(',') ?? ''}`;
    if (key !== this.builtFor || !this.plot) this.rebuild();
    else if (this.run) this.plot.setData(alignedSeries(this.run, this.metric, this.xAxis));
    // Points per lane, for tests and curious users: "12,12" means both lanes have drawn 12 points.
    this.dataset['points'] = (this.run?.lanes ?? [])
      .map((l) => (fromEvals(this.metric) ? l.evals : l.steps).length)
      .join(',');
  }

  private xFormat = (v: number) =>
    this.xAxis === 'flops' ? si(v) : this.xAxis === 'seconds' ? duration(v) : String(v);
  private yFormat = (v: number) => (this.metric === 'exactMatch' ? percent(v, 0) : v.toPrecision(3));

  private width(): number {
    return Math.max(200, this.container?.clientWidth ?? 400);
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = null;
    this.builtFor = `${this.xAxis}|${this.run?.lanes.map((l) => l.label).join(',') ?? ''}`;
    const style = getComputedStyle(this);
    const fg = style.getPropertyValue('--fg').trim() || '#222';
    const grid = style.getPropertyValue('--grid').trim() || '#ddd';
    const dark = prefersDark();
    const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const xFmt = this.xFormat;
    const yFmt = this.yFormat;
    const lanes = this.run?.lanes ?? [];
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
        ...lanes.map((lane): uPlot.Series => ({
          label: lane.label,
          stroke: objectiveColor(lane.objective.kind, dark),
          dash: OBJECTIVE_DASH[lane.objective.kind],
          width: 2,
          spanGaps: true,
          points: { show: fromEvals(this.metric) },
          value: (_u, v) => (v === null ? '—' : yFmt(v)),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const data = this.run ? alignedSeries(this.run, this.metric, this.xAxis) : [[]];
    this.plot = new uPlot(opts, data as uPlot.AlignedData, this.container);
  }

  private downloadPng(): void {
    if (!this.plot) return;
    const style = getComputedStyle(this);
    const png = chartPng(this.plot.ctx.canvas, `${this.heading} vs ${X_LABELS[this.xAxis]}`, this.run?.lanes ?? [], {
      bg: style.getPropertyValue('--bg').trim() || '#fff',
      fg: style.getPropertyValue('--fg').trim() || '#222',
    });
    saveUrl(png, `${this.metric}-vs-${this.xAxis}-${stamp()}.png`);
  }

  /** The same series as the plot, as a standalone SVG file (chart-svg.ts). */
  private downloadSvg(): void {
    const lanes = this.run?.lanes ?? [];
    const svg = chartSvg({
      title: `${this.heading} vs ${X_LABELS[this.xAxis]}`,
      xLabel: X_LABELS[this.xAxis],
      yLabel: METRIC_LABELS[this.metric],
      data: this.run ? alignedSeries(this.run, this.metric, this.xAxis) : [[]],
      series: lanes.map((l) => ({
        label: l.label,
        color: objectiveColor(l.objective.kind, false),
        dash: OBJECTIVE_DASH[l.objective.kind],
      })),
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
