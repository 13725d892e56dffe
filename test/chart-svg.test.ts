// The SVG export draws the chart's own columns: one group per lane with exactly its finite points, in its colour.
import { describe, expect, test } from 'vitest';
import { chartSvg, niceTicks } from '../src/ui/run/chart-svg';

const base = {
  title: 'Test exact match vs Step <&>',
  xLabel: 'Step',
  yLabel: 'Test exact match',
  points: true,
  yRange: [0, 1] as [number, number],
  xFormat: String,
  yFormat: (v: number) => `${Math.round(100 * v)}%`,
};

describe('chartSvg', () => {
  test('one group per series with its points; gaps (null) skipped; text escaped', () => {
    const svg = chartSvg({
      ...base,
      data: [
        [100, 200, 300, 400],
        [0.1, 0.2, null, 0.5],
        [0.0, 0.9, 0.95, 1.0],
      ],
      series: [
        { label: 'Next-token', color: '#1f77b4', dash: [] },
        { label: 'Reversed "target"', color: '#ff7f0e', dash: [6, 3] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    const groups = [...svg.matchAll(/<g data-series="([^"]*)" data-points="(\d+)">/g)].map((m) => [m[1], Number(m[2])]);
    expect(groups).toEqual([
      ['Next-token', 3],
      ['Reversed &quot;target&quot;', 4],
    ]);
    expect(svg.match(/<circle /g)).toHaveLength(7);
    expect(svg).toContain('stroke-dasharray="6 3"');
    expect(svg).toContain('Test exact match vs Step &lt;&amp;&gt;');
    expect(svg).not.toMatch(/NaN|undefined/);
    // The y range holds: 100% at the top of the plot, 0% at its bottom.
    const first = /<path d="M([\d.]+) ([\d.]+)/.exec(svg.split('data-series="Reversed')[1]!)!;
    expect(Number(first[2])).toBeCloseTo(360 - 44, 1);
  });

  test('a band is shaded between its edges; the edges are drawn faint, without dots or legend rows', () => {
    const svg = chartSvg({
      ...base,
      data: [
        [100, 200, 300],
        [0.2, 0.5, 0.8],
        [0.1, 0.4, 0.6],
        [0.3, 0.6, 1.0],
      ],
      series: [
        { label: 'Next-token: mean of 3 seeds', color: '#0072b2', dash: [] },
        { label: 'Next-token: lowest', color: '#0072b266', dash: [], width: 0.5, legend: false },
        { label: 'Next-token: highest', color: '#0072b266', dash: [], width: 0.5, legend: false },
      ],
      bands: [{ high: 2, low: 1, fill: '#0072b226' }],
    });
    const groups = [...svg.matchAll(/<g data-series="([^"]*)" data-points="(\d+)">/g)].map((m) => m[1]);
    expect(groups).toEqual(['Next-token: mean of 3 seeds', 'Next-token: lowest', 'Next-token: highest']);
    expect(svg.match(/<circle /g)).toHaveLength(3); // the mean's points only
    expect(svg.match(/<text x="48"/g)).toHaveLength(1); // one legend row
    const band = /<path data-band="Next-token: highest" d="([^"]*)" fill="#0072b226"/.exec(svg);
    expect(band).not.toBeNull();
    // Three points along the high edge, three back along the low one, closed.
    expect(band![1]!.match(/[ML]/g)).toHaveLength(6);
    expect(band![1]!.trim().endsWith('Z')).toBe(true);
    expect(svg.indexOf('data-band')).toBeLessThan(svg.indexOf('data-series')); // under the lines
  });

  test('no data yet: an empty chart, not an error', () => {
    const svg = chartSvg({ ...base, points: false, yRange: null, data: [[]], series: [] });
    expect(svg).toContain('</svg>');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  test('ticks are round numbers covering the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(100, 1000)).toEqual([200, 400, 600, 800, 1000]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});
