// Sets up a small experiment through the controls, runs two objectives on the real worker and software WebGPU,
// and checks what the page shows: both lanes advancing, both charts drawing, pause and resume, an example, and
// the downloaded results.
import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { setNumber, setObjectives, shot, waitForGpu, watchConsole } from './helpers';

const STEPS = 30;

test('a small path-star run: two lanes, charts, pause/resume, examples, results JSON', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);

  // G(2,3,10), tiny model, batch 8, 30 steps: quick on SwiftShader.
  await setNumber(page, 'Degree (arms)', 2);
  await setNumber(page, 'Path length', 3);
  await setNumber(page, 'Nodes (label pool)', 10);
  await setNumber(page, 'Test graphs', 16);
  await setObjectives(page, ['ntp', 'diffusion']);
  await page.getByLabel('Size', { exact: true }).selectOption('tiny');
  await setNumber(page, 'Steps', STEPS);
  await setNumber(page, 'Batch size', 8);
  await setNumber(page, 'Warmup steps', 5);
  await setNumber(page, 'Evaluate every', 10);
  await setNumber(page, 'Test examples per eval', 16);
  await expect(page).toHaveURL(/degree=2&pathLength=3&nodes=10/);
  await expect(page).toHaveURL(/objectives=ntp%2Cdiffusion/);
  await shot(page, 'run-1-setup');

  const start = page.getByRole('button', { name: 'Start', exact: true });
  await expect(start).toBeEnabled();
  await start.click();

  // Both lanes advance: the results table's live rows count steps per lane.
  const rows = page.locator('results-table tbody tr');
  await expect(rows).toHaveCount(2);
  for (const i of [0, 1]) await expect(rows.nth(i).locator('td.steps')).not.toHaveText('0', { timeout: 60_000 });

  // Pause: the step count stops; Resume: it moves again.
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Paused.' })).toBeVisible();
  const progress = page.locator('run-controls .stats span').first();
  // Steps already submitted to the GPU (a few per lane) still report in; then the count must stand still.
  let pausedAt = '';
  await expect
    .poll(
      async () => {
        const before = await progress.textContent();
        await page.waitForTimeout(2000);
        pausedAt = (await progress.textContent()) ?? '';
        return before === pausedAt;
      },
      { timeout: 45_000 },
    )
    .toBe(true);
  await shot(page, 'run-2-paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(progress).not.toHaveText(pausedAt!, { timeout: 30_000 });

  await expect(page.getByRole('status').filter({ hasText: 'Done.' })).toBeVisible({ timeout: 150_000 });

  // Both charts drew a line per lane.
  const loss = page.locator('metric-chart[metric="loss"]');
  const exact = page.locator('metric-chart[metric="exactMatch"]');
  const heldOut = page.locator('metric-chart[metric="heldOutLoss"]');
  await expect(loss).toHaveAttribute('data-points', `${STEPS},${STEPS}`);
  await expect(exact).toHaveAttribute('data-points', /^[1-9]\d*,[1-9]\d*$/);
  await expect(heldOut).toHaveAttribute('data-points', /^[1-9]\d*,[1-9]\d*$/);
  await expect(page.locator('clever-hans-view figure')).toHaveCount(2);
  await page.getByRole('radio', { name: 'Training FLOPs' }).check();
  await expect(loss.locator('.u-axis').first()).toBeVisible();
  await shot(page, 'run-3-done');

  // An example: the graph, each lane's tokens, and the diffusion replay.
  await page.getByRole('button', { name: 'Show test examples' }).click();
  await expect(page.locator('path-star-graph svg')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('token-compare tr')).toHaveCount(4); // prompt, target, two lanes
  const slider = page.locator('unmask-replay input[type="range"]');
  await expect(slider).toBeVisible();
  await slider.fill('1');
  await page.getByRole('button', { name: 'Next example' }).click();
  await expect(page.getByText('Example 2 of 8')).toBeVisible();
  await page.locator('example-view').scrollIntoViewIfNeeded();
  await shot(page, 'run-4-example');

  // The results JSON: the spec and one entry per lane.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download JSON' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^results-.*\.json$/);
  const doc = JSON.parse(await readFile((await download.path())!, 'utf8'));
  expect(doc.spec.task).toMatchObject({ kind: 'path-star', degree: 2, pathLength: 3, nodes: 10 });
  expect(doc.results).toHaveLength(2);
  expect(doc.results.map((r: { objective: string }) => r.objective)).toEqual(['ntp', 'diffusion']);
  for (const r of doc.results) {
    expect(r.steps).toBe(STEPS);
    expect(typeof r.exactMatch).toBe('number');
    expect(r.exactMatch).toBeGreaterThanOrEqual(0);
    expect(r.exactMatch).toBeLessThanOrEqual(1);
    expect(r.flops).toBeGreaterThan(0);
    expect(r.history.steps).toHaveLength(STEPS);
  }
  expect(doc.summary).toHaveLength(2);

  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  const lines = (await readFile((await csv.path())!, 'utf8')).trim().split('\n');
  expect(lines[0]).toBe(
    'objective,label,exact_match,exact_match_ci95_low,exact_match_ci95_high,valid_wrong_fraction,decision_token_accuracy,' +
      'teacher_forced_after_decision,held_out_cross_entropy,step_to_90,flops_to_90,seconds_to_90,steps,flops,seconds,final_training_loss',
  );
  expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['ntp', 'diffusion']);

  // The loss chart as a PNG file.
  const [png] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: "Download Training loss (each objective's own) chart as PNG" }).click(),
  ]);
  await png.saveAs('e2e/screenshots/run-5-loss-chart-download.png');
  const bytes = await readFile((await png.path())!);
  expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  expect(bytes.length).toBeGreaterThan(5000);

  // The same chart as SVG: it opens in Chromium and holds the chart's series, point for point.
  const [svgFile] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: "Download Training loss (each objective's own) chart as SVG" }).click(),
  ]);
  const svgText = await readFile((await svgFile.path())!, 'utf8');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      series: [...doc.querySelectorAll('g[data-series]')].map((g) => [
        g.getAttribute('data-series'),
        Number(g.getAttribute('data-points')),
      ]),
    };
  }, svgText);
  expect(parsed.error).toBeNull();
  const chartPoints = await page.locator('metric-chart[metric="loss"]').getAttribute('data-points');
  expect(parsed.series.map(([, n]) => n).join(',')).toBe(chartPoints);
  expect(parsed.series.map(([label]) => label)).toHaveLength(2);

  expect(errors).toEqual([]);
});
