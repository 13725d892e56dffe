// A run of the objectives the path-star test leaves out (reverse, teacherless, multi-token) on addition, in the
// dark theme, with the console watched from page load to the end: no errors from the page or the worker.
import { expect, test } from '@playwright/test';
import { setNumber, setObjectives, shot, waitForGpu, watchConsole } from './helpers';

const STEPS = 200;

test('no console errors during a run that is stopped early (addition, four objectives, dark)', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);
  await page.getByLabel('Task', { exact: true }).selectOption('addition');
  await setNumber(page, 'Digits per operand', 1);
  await setNumber(page, 'Test sums', 20);
  await setObjectives(page, ['reverse', 'teacherless', 'mtp', 'top']);
  await setNumber(page, 'MTP heads', 3);
  await setNumber(page, 'Steps', STEPS);
  await setNumber(page, 'Batch size', 8);
  await setNumber(page, 'Warmup steps', 2);
  await setNumber(page, 'Evaluate every', 10);
  await setNumber(page, 'Test examples per eval', 20);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Stop after the first evaluation: the lanes end early, evaluate once more and report.
  const rows = page.locator('results-table tbody tr');
  await expect(rows).toHaveCount(4);
  await expect(rows.first().locator('td').first()).not.toHaveText('—', { timeout: 90_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Stopped.' })).toBeVisible({ timeout: 90_000 });
  await expect(page.getByText('Final results')).toBeVisible();
  for (const i of [0, 1, 2, 3]) {
    const steps = Number(await rows.nth(i).locator('td.steps').textContent());
    expect(steps).toBeGreaterThanOrEqual(10);
    expect(steps).toBeLessThan(STEPS);
  }
  await page.getByRole('button', { name: 'Show test examples' }).click();
  await expect(page.locator('token-compare tr')).toHaveCount(6, { timeout: 60_000 });
  await shot(page, 'console-dark-done');
  expect(errors).toEqual([]);
});

test('without WebGPU the page says what is missing and which browsers work', async ({ page }) => {
  await page.addInitScript(() => {
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  await page.goto('/');
  const notice = page.locator('gpu-notice');
  await expect(notice).toContainText('navigator.gpu is missing');
  await expect(notice).toContainText('Chrome or Edge 113');
  await expect(notice).toContainText('--enable-unsafe-webgpu');
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await shot(page, 'no-webgpu');
});

test('a worker that dies is reported, and a new one can be started', async ({ page }) => {
  await page.goto('/');
  await waitForGpu(page);
  const [worker] = page.workers();
  expect(worker).toBeDefined();
  await worker!.evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated crash');
    });
  });
  const banner = page.getByRole('alert').filter({ hasText: 'The training worker stopped' });
  await expect(banner).toContainText('simulated crash');
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await shot(page, 'worker-died');
  await banner.getByRole('button', { name: 'Start a new worker' }).click();
  await expect(banner).toHaveCount(0);
  await waitForGpu(page);
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
});
