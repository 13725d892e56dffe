// Shared steps of the end-to-end tests: console watching and filling the setup form through its labels.
import { expect, type Page } from '@playwright/test';

/** Collects console errors and uncaught page errors (the page's and the worker's) from the moment it is called. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)));
  return errors;
}

/** Types a value into the number field with this label and leaves it (fires input and change). */
export async function setNumber(page: Page, label: string, value: number | string): Promise<void> {
  const input = page.getByLabel(label, { exact: true });
  await input.fill(String(value));
  await input.blur();
}

export async function setObjectives(page: Page, wanted: string[]): Promise<void> {
  for (const kind of ['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion', 'top']) {
    const box = page.getByRole('checkbox', { name: new RegExp(`\\b${kind}$`) });
    await box.setChecked(wanted.includes(kind));
  }
}

/** Waits until the GPU line names an adapter and the matmul kernels chosen for it (the worker is up, WebGPU works). */
export async function waitForGpu(page: Page): Promise<void> {
  await expect(page.locator('lab-app .adapter')).toContainText(
    /GPU: .* — matmul kernels \S+ \((known|cached|timed now)\)/,
    {
      timeout: 30_000,
    },
  );
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: `e2e/screenshots/${name}.png`, fullPage: true });

/**
 * The small experiment the checkpoint and fault tests share: path-star G(2,3,10), a 1-layer width-16 model, batch 8,
 * autosaved every `autosave` steps. It evaluates 16 test graphs after every step: that makes each step a readback
 * (~0.1 s on SwiftShader), so a 30-step run lasts long enough for the test to pause it after its first autosave.
 */
export async function smallRun(
  page: Page,
  opts: { objectives?: string[]; steps?: number; autosave?: number } = {},
): Promise<void> {
  await setNumber(page, 'Degree (arms)', 2);
  await setNumber(page, 'Path length', 3);
  await setNumber(page, 'Nodes (label pool)', 10);
  await setNumber(page, 'Test graphs', 16);
  await setObjectives(page, opts.objectives ?? ['ntp']);
  await page.getByLabel('Size', { exact: true }).selectOption('tiny');
  await setNumber(page, 'Layers', 1);
  await setNumber(page, 'Width', 16);
  await setNumber(page, 'Steps', opts.steps ?? 30);
  await setNumber(page, 'Batch size', 8);
  await setNumber(page, 'Warmup steps', 5);
  await setNumber(page, 'Evaluate every', 1);
  await setNumber(page, 'Test examples per eval', 16);
  await setNumber(page, 'Autosave every', opts.autosave ?? 5);
}

/**
 * Start the run, pause it as soon as it has autosaved, and wait until it stands still (steps already submitted still
 * report in). Faults are caused while it is paused, so they always hit the run rather than land after its end.
 * Returns the step of the latest autosave.
 */
export async function startAndPauseAfterAutosave(page: Page): Promise<number> {
  const controls = page.locator('run-controls');
  const start = controls.getByRole('button', { name: 'Start', exact: true });
  await expect(start).toBeEnabled();
  await start.click();
  const saved = controls.locator('.stats').getByText(/Autosaved at step \d+/);
  await saved.waitFor({ timeout: 60_000 });
  await controls.getByRole('button', { name: 'Pause' }).click({ timeout: 5_000 });
  await expect(page.getByRole('status').filter({ hasText: 'Paused.' })).toBeVisible();
  const progress = controls.locator('.stats span').first();
  await expect
    .poll(async () => {
      const before = await progress.textContent();
      await page.waitForTimeout(500);
      return before === (await progress.textContent());
    })
    .toBe(true);
  return Number(/\d+/.exec((await saved.textContent()) ?? '')![0]);
}

/** Waits for the run to end with Done. */
export async function expectDone(page: Page, timeout = 90_000): Promise<void> {
  await expect(page.getByRole('status').filter({ hasText: 'Done.' })).toBeVisible({ timeout });
}
