// Faults the page must survive, caused through the test hooks (`?test-hooks=1` exposes window.__labTest, see
// src/main.ts): a lost GPU device and a worker that stops answering. Each time the page says what happened and
// one click continues the run from its last autosave to the end.
import { expect, test } from '@playwright/test';
import { expectDone, shot, smallRun, startAndPauseAfterAutosave, waitForGpu } from './helpers';

// Long enough that the run is still going when the test pauses it right after its first autosave (at step 5): with
// its pipelines compiled once per device, 30 steps of this tiny model could end before the Pause click landed.
const STEPS = 120;

test('a lost GPU device is reported, and the run resumes on a new device from its autosave', async ({ page }) => {
  await page.goto('/?test-hooks=1');
  await waitForGpu(page);
  await smallRun(page, { steps: STEPS, autosave: 5 });
  await startAndPauseAfterAutosave(page);
  await page.evaluate(() => window.__labTest!.simulateDeviceLoss());
  await page.locator('run-controls').getByRole('button', { name: 'Resume' }).click();

  const banner = page.getByRole('alert').filter({ hasText: 'The GPU device was lost' });
  await expect(banner).toContainText('GPU device lost', { timeout: 30_000 });
  const resume = banner.getByRole('button', { name: /^Resume from step \d+ on a new device$/ });
  await expect(resume).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Resume automatically after a device loss' })).not.toBeChecked();
  await shot(page, 'fault-1-device-lost');
  const step = Number(/\d+/.exec((await resume.textContent()) ?? '')![0]);
  await resume.click();
  await expect(banner).toHaveCount(0);
  await expect(page.locator('run-controls').getByText(`Continued from step ${step}`)).toBeVisible();
  await expectDone(page);
  await expect(page.locator('metric-chart[metric="loss"]')).toHaveAttribute('data-points', String(STEPS));
  await expect(page.locator('results-table tbody tr').first().locator('td.steps')).toHaveText(String(STEPS));

  // With the checkbox on, the next loss is recovered without a click.
  await page.getByRole('checkbox', { name: 'Resume automatically after a device loss' }).check();
  await startAndPauseAfterAutosave(page);
  await page.evaluate(() => window.__labTest!.simulateDeviceLoss());
  await page.locator('run-controls').getByRole('button', { name: 'Resume' }).click();
  await expect(page.locator('run-controls').getByText(/Continued from step \d+/)).toBeVisible({ timeout: 30_000 });
  await expectDone(page);
  await expect(page.locator('metric-chart[metric="loss"]')).toHaveAttribute('data-points', String(STEPS));
});

test('a worker that stops answering is reported, ended, and restarted from the autosave', async ({ page }) => {
  await page.goto('/?test-hooks=1');
  await waitForGpu(page);
  await smallRun(page, { steps: STEPS, autosave: 5 });
  await startAndPauseAfterAutosave(page);
  // Blocks the worker for 30 s (the run is paused, yet active: the page keeps pinging); the call only returns when
  // the block ends, so it is not awaited.
  await page.evaluate(() => void window.__labTest!.simulateHang(30_000));

  const banner = page.getByRole('alert').filter({ hasText: 'The training worker stopped answering' });
  const t0 = Date.now();
  await expect(banner).toBeVisible({ timeout: 20_000 });
  expect(Date.now() - t0).toBeLessThan(15_000);
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await shot(page, 'fault-2-hang');
  const restart = banner.getByRole('button', { name: /^Restart from the autosave at step \d+$/ });
  const step = Number(/\d+/.exec((await restart.textContent()) ?? '')![0]);
  await restart.click();
  await expect(banner).toHaveCount(0);
  await expect(page.locator('run-controls').getByText(`Continued from step ${step}`)).toBeVisible({ timeout: 30_000 });
  await expectDone(page);
  await expect(page.locator('results-table tbody tr').first().locator('td.steps')).toHaveText(String(STEPS));
  await shot(page, 'fault-3-restarted-done');
});
