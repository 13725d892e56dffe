// Content safety of the built page: everything is bundled (no request leaves localhost, during load or a run), the
// strict Content-Security-Policy is in force without breaking anything (no inline script, no eval), and nothing
// violates it.
import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { setNumber, setObjectives, waitForGpu, watchConsole } from './helpers';

test('no remote resources, a strict CSP, and no violation during a run', async ({ page, baseURL }) => {
  const errors = watchConsole(page);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.addInitScript(() => {
    (window as unknown as { __cspViolations: string[] }).__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { __cspViolations: string[] }).__cspViolations.push(
        `${e.violatedDirective}: ${e.blockedURI}`,
      ),
    );
  });
  await page.goto('/');
  await waitForGpu(page);
  await setNumber(page, 'Degree (arms)', 2);
  await setNumber(page, 'Nodes (label pool)', 10);
  await setNumber(page, 'Test graphs', 16);
  await setObjectives(page, ['teacherless']);
  await setNumber(page, 'Layers', 1);
  await setNumber(page, 'Width', 16);
  await setNumber(page, 'Steps', 6);
  await setNumber(page, 'Batch size', 4);
  await setNumber(page, 'Evaluate every', 3);
  await setNumber(page, 'Test examples per eval', 8);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.locator('run-controls')).toContainText('Done', { timeout: 120_000 });

  const origin = new URL(baseURL!).origin;
  const remote = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  expect(remote).toEqual([]);
  expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
  expect(errors).toEqual([]);

  // The built HTML: a CSP without unsafe-inline/unsafe-eval, and no inline script to need them.
  const html = await readFile('dist/index.html', 'utf8');
  const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\*/);
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
});
