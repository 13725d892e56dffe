// The named experiments and the repetition over seeds, as a user meets them: the default explains what it shows and
// at what budget, the Clever Hans view says which positions are the decision and the copies for the task on screen,
// and a run over four seeds draws each objective's mean with its band (or every seed's line) and ends with the mean
// and spread of each objective.
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { expectDone, shot, smallRun, waitForGpu, watchConsole } from './helpers';

test('the default experiment says what it shows; a preset without a copy position says so too', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/');
  const preset = page.getByLabel('Start from');
  await expect(preset).toHaveValue('clever-hans');
  const setup = page.locator('experiment-setup');
  await expect(setup).toContainText('Next-token prediction stays at chance (1/2) on the decision');
  await expect(setup).toContainText('Budget: Reverse passes 90%');
  await expect(page.getByLabel('Degree (arms)')).toHaveValue('2');
  await expect(page.getByLabel('Path length', { exact: true })).toHaveValue('5');
  await expect(page.getByLabel('Nodes (label pool)')).toHaveValue('10');
  await expect(page.getByLabel('After warmup')).toHaveValue('constant');
  const hans = page.locator('clever-hans-view');
  await expect(hans).toContainText(
    'Position 1 (d) is the decision: which of the 2 arms leads to the goal; chance is 1/2 = 50%.',
  );
  await expect(hans).toContainText('Positions 2 and 3 (c) each name the only child of the node before');
  await shot(page, 'experiment-1-default');

  // G(3,3,30): the decision is followed by the goal only.
  await preset.selectOption('g3-3-30');
  await expect(page.getByLabel('Degree (arms)')).toHaveValue('3');
  await expect(page.getByLabel('Path length', { exact: true })).toHaveValue('3');
  await expect(hans).toContainText('no Clever Hans contrast can appear');
  await expect(page).toHaveURL(/pathLength=3/);
  // Editing a field leaves the named experiment; Reset brings the default back.
  await page.getByLabel('Nodes (label pool)').fill('31');
  await page.getByLabel('Nodes (label pool)').blur();
  await expect(preset).toHaveValue('');
  await page.getByRole('button', { name: 'Reset to defaults' }).click();
  await expect(preset).toHaveValue('clever-hans');
  expect(errors).toEqual([]);
});

test('a run over four seeds draws means with bands, or every seed, and ends with the mean and spread per objective', async ({
  page,
}) => {
  test.setTimeout(360_000); // four runs on a software GPU
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);
  await smallRun(page, { objectives: ['ntp', 'reverse'], steps: 6, autosave: 0 });
  const seeds = page.getByLabel('Seeds', { exact: true });
  await seeds.fill('1-x');
  await expect(page.locator('.seeds .problem')).toContainText("'1-x' is not a seed");
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await seeds.fill('3-6');
  await expect(page).toHaveURL(/[?&]seeds=3-6(&|$)/);
  await expect(page.locator('.seeds .note')).toContainText('4 runs, one per seed');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const summary = page.locator('results-table table.seeds');
  await expect(summary).toBeVisible({ timeout: 240_000 });
  await expectDone(page);
  await expect(summary.locator('caption')).toContainText('Over seeds 3, 4, 5, 6');
  await expect(summary.locator('tbody tr')).toHaveCount(2);
  await expect(summary.locator('tbody tr').first()).toContainText('of 4');
  // Every run used its own seed: the last run's spec says seed 6.
  await expect(page.locator('results-table tbody tr').first().locator('td.steps')).toHaveText('6');

  // The charts: each objective's mean over the four seeds with its band (six evaluations each), or every seed.
  const panel = page.locator('chart-panel');
  await expect(panel.getByRole('group', { name: '4 seeds' })).toBeVisible();
  await expect(panel.getByLabel('Mean and spread')).toBeChecked();
  const exact = panel.locator('metric-chart[metric="exactMatch"]');
  await expect(exact).toHaveAttribute(
    'data-lines',
    'Next-token: mean of 4 seeds|Next-token: lowest|Next-token: highest|Reverse: mean of 4 seeds|Reverse: lowest|Reverse: highest',
  );
  await expect(exact).toHaveAttribute('data-points', '6,6');
  await exact.scrollIntoViewIfNeeded();
  await shot(page, 'experiment-4-seeds-bands');
  // Its SVG has both bands under the lines.
  const [svgFile] = await Promise.all([
    page.waitForEvent('download'),
    exact.getByRole('button', { name: /as SVG/ }).click(),
  ]);
  const svg = await readFile((await svgFile.path())!, 'utf8');
  expect(svg.match(/data-band=/g)).toHaveLength(2);
  // A legend entry hides a mean and its band; a second click brings them back.
  const legendMean = exact.locator('.u-legend .u-series').filter({ hasText: 'Next-token: mean of 4 seeds' });
  await legendMean.locator('.u-label').click();
  await expect(legendMean).toHaveClass(/u-off/);
  await expect(exact.locator('.u-legend .u-series').filter({ hasText: 'Next-token: lowest' })).toHaveClass(/u-off/);
  await legendMean.locator('.u-label').click();
  await expect(exact.locator('.u-legend .u-series').filter({ hasText: 'Next-token: lowest' })).not.toHaveClass(/u-off/);
  await panel.getByLabel('Every seed').check();
  await expect(exact).toHaveAttribute('data-points', '6,6,6,6,6,6,6,6');
  await expect(exact).toHaveAttribute('data-lines', /Next-token · seed 3\|Next-token · seed 4\|.*Reverse · seed 6$/);
  await shot(page, 'experiment-4-seeds-lines');
  // The Clever Hans view: whiskers from the lowest seed to the highest, and the mean and range per position.
  const hans = page.locator('clever-hans-view');
  await expect(hans.locator('table.spread')).toHaveCount(2);
  await expect(hans.locator('table.spread').first()).toContainText('over 4 seeds');
  await expect(hans.locator('table.spread').first().locator('tr').nth(1).locator('td')).toHaveCount(3);
  await expect(hans.locator('.whisker')).toHaveCount(2 * 2 * 3);
  await hans.scrollIntoViewIfNeeded();
  await shot(page, 'experiment-4-seeds-hans');
  await page.locator('results-table').scrollIntoViewIfNeeded();
  await shot(page, 'experiment-4-seeds');

  // Its results opened again without checkpoints: curves and tables, but no models. The worker still holds the
  // run's last lanes; examples and downloads must not pass them off as the opened run's.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download JSON' }).click(),
  ]);
  await page.getByLabel(/^Results \(\.json/).setInputFiles((await download.path())!);
  await page.locator('results-open').getByRole('button', { name: 'Open' }).click();
  await expect(page.locator('checkpoint-export')).toContainText('opened from its results alone');
  await expect(page.locator('checkpoint-export').getByRole('button')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Show test examples' })).toBeDisabled();
  await expect(page.locator('example-view')).toContainText("open it with its lanes' checkpoints");
  await expect(page.locator('results-table tbody tr').first()).toContainText('not reached');
  expect(errors).toEqual([]);
});

test('seeds trained together give every seed the numbers it gets alone, one after another', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);
  await smallRun(page, { objectives: ['ntp', 'reverse'], steps: 6, autosave: 0 });
  await page.getByLabel('Seeds', { exact: true }).fill('3-5');
  const mode = page.getByLabel('Several seeds');
  // SwiftShader is a CPU adapter: by default its seeds run one after another.
  await expect(mode).toHaveValue('auto');
  await expect(page.locator('.seeds .note')).toContainText('3 runs, one per seed');
  await mode.selectOption('on');
  await expect(page.locator('.seeds .note')).toContainText('3 seeds trained together');
  const start = page.getByRole('button', { name: 'Start', exact: true });
  await start.click();
  const summary = page.locator('results-table table.seeds');
  await expect(summary).toBeVisible({ timeout: 120_000 });
  await expectDone(page);
  // One run: ntp and reverse of all three seeds were the lanes of one model.
  await expect(page.locator('run-controls')).toContainText('(3 seeds)');
  await expect(page.locator('run-controls')).toContainText('6 lanes in the same dispatches');
  await expect(summary.locator('caption')).toContainText('Over seeds 3, 4, 5');
  const exact = page.locator('chart-panel metric-chart[metric="exactMatch"]');
  await expect(exact).toHaveAttribute('data-points', '6,6');
  const together = await summary.locator('tbody').innerText();
  await shot(page, 'experiment-seeds-together');

  await mode.selectOption('off');
  await start.click();
  await expect(summary).toBeVisible({ timeout: 120_000 });
  await expect(summary.locator('caption')).toContainText('Over seeds 3, 4, 5', { timeout: 120_000 });
  await expectDone(page);
  expect(await summary.locator('tbody').innerText()).toBe(together);
  expect(errors).toEqual([]);
});
