/* global process, console */
// Screenshots of the page as a user sees it, for the README and for checking by eye (not a test: it runs for
// minutes). Serve the built page first (`npm run build && npx vite preview --port 4173`), then:
//
//   node tools/page-run.mjs run MINUTES OUT.png        the default experiment, trained in the page for MINUTES
//   node tools/page-run.mjs open RESULTS.json OUT.png  a results file opened in the page (Open results)
//
// Headless Chromium with WebGPU on SwiftShader, as the end-to-end tests use it.
import { chromium } from 'playwright';

const [mode, arg, out] = process.argv.slice(2);
if (!['run', 'open'].includes(mode) || !arg || !out) {
  console.error('usage: node tools/page-run.mjs run MINUTES OUT.png | open RESULTS.json OUT.png');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--enable-unsafe-swiftshader',
    '--disable-background-networking',
    '--disable-component-update',
  ],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`));
await page.goto(process.env.PAGE_URL ?? 'http://localhost:4173/');
await page
  .locator('lab-app .adapter')
  .getByText(/matmul kernels/)
  .waitFor({ timeout: 60_000 });
if (mode === 'run') {
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const end = Date.now() + Number(arg) * 60_000;
  while (Date.now() < end) {
    await page.waitForTimeout(30_000);
    const progress = await page.locator('run-controls .stats span').first().textContent();
    console.log(`${new Date().toISOString()} ${progress}`);
  }
  await page.getByRole('button', { name: 'Stop' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /Stopped|Done/ })
    .waitFor({ timeout: 300_000 });
} else {
  await page.getByLabel(/^Results \(\.json/).setInputFiles(arg);
  await page.locator('results-open').getByRole('button', { name: 'Open' }).click();
  await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor({ timeout: 60_000 });
}
await page.waitForTimeout(1000);
await page.screenshot({ path: out, fullPage: true });
console.log(`wrote ${out}`);
await browser.close();
