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
  for (const kind of ['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion']) {
    const box = page.getByRole('checkbox', { name: new RegExp(`\\b${kind}$`) });
    await box.setChecked(wanted.includes(kind));
  }
}

/** Waits until the GPU line names an adapter (the worker is up and WebGPU works). */
export async function waitForGpu(page: Page): Promise<void> {
  await expect(page.locator('lab-app .adapter')).toContainText('GPU:', { timeout: 30_000 });
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: `e2e/screenshots/${name}.png`, fullPage: true });
