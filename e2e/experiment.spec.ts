// The named experiments and the repetition over seeds, as a user meets them: the default explains what it shows and
// at what budget, the Clever Hans view says which positions are the decision and the copies for the task on screen,
// and a run over two seeds ends with the mean and spread of each objective.
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

test('a run over two seeds ends with the mean and spread per objective', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);
  await smallRun(page, { objectives: ['ntp', 'reverse'], steps: 6, autosave: 0 });
  const seeds = page.getByLabel('Seeds');
  await seeds.fill('1-x');
  await expect(page.locator('.seeds .problem')).toContainText("'1-x' is not a seed");
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await seeds.fill('3,4');
  await expect(page).toHaveURL(/[?&]seeds=3%2C4(&|$)/);
  await expect(page.locator('.seeds .note')).toContainText('2 runs, one per seed');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const summary = page.locator('results-table table.seeds');
  await expect(summary).toBeVisible({ timeout: 120_000 });
  await expectDone(page);
  await expect(summary.locator('caption')).toContainText('Over seeds 3, 4');
  await expect(summary.locator('tbody tr')).toHaveCount(2);
  await expect(summary.locator('tbody tr').first()).toContainText('of 2');
  // Both runs used their own seed: the second run's spec says seed 4.
  await expect(page.locator('results-table tbody tr').first().locator('td.steps')).toHaveText('6');
  await page.locator('results-table').scrollIntoViewIfNeeded();
  await shot(page, 'experiment-2-seeds');

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
