// The experiment lives in the URL: a shared link restores the same setup in the controls, an edit updates the
// link, and a malformed parameter is explained and replaced by its default without losing the others.
import { expect, test } from '@playwright/test';
import { setNumber, shot, watchConsole } from './helpers';

const SHARED =
  '/?task=addition&reversed=0&digits=2&trainSize=1000&testSize=40&objectives=ntp%2Cmtp%2Cdiffusion&mtpHeads=2' +
  '&diffusionSteps=5&diffusionVariant=hkunlp&layers=3&width=96&heads=3&steps=123&batch=16&lr=0.002&warmup=7' +
  '&seed=42&evalEvery=25&evalExamples=30';

test('a shared link restores the same setup, and edits update the link', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(SHARED);
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue('addition');
  await expect(page.getByLabel('Digits per operand')).toHaveValue('2');
  await expect(page.getByRole('checkbox', { name: /Reversed output/ })).not.toBeChecked();
  await expect(page.getByLabel('Training sums')).toHaveValue('1000');
  await expect(page.getByLabel('Test sums')).toHaveValue('40');
  for (const [kind, on] of [
    ['ntp', true],
    ['reverse', false],
    ['teacherless', false],
    ['mtp', true],
    ['diffusion', true],
  ] as const) {
    const box = page.getByRole('checkbox', { name: new RegExp(`\\b${kind}$`) });
    if (on) await expect(box).toBeChecked();
    else await expect(box).not.toBeChecked();
  }
  // A link without v=2 was written when mtpHeads counted the heads beyond the next-token head: 2 extra = 3 in all.
  await expect(page.getByLabel('MTP heads')).toHaveValue('3');
  await expect(page.getByLabel('After warmup')).toHaveValue('cosine'); // and when every run decayed the lr
  await expect(page.getByLabel('Decode steps')).toHaveValue('5');
  await expect(page.getByLabel('Variant')).toHaveValue('hkunlp');
  await expect(page.getByLabel('Size', { exact: true })).toHaveValue(''); // 3/96/3 is no preset
  await expect(page.getByLabel('Layers')).toHaveValue('3');
  await expect(page.getByLabel('Width')).toHaveValue('96');
  await expect(page.getByLabel('Heads', { exact: true })).toHaveValue('3');
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('123');
  await expect(page.getByLabel('Batch size')).toHaveValue('16');
  await expect(page.getByLabel('Learning rate')).toHaveValue('0.002');
  await expect(page.getByLabel('Warmup steps')).toHaveValue('7');
  await expect(page.getByLabel('Seed', { exact: true })).toHaveValue('42');
  await expect(page.getByLabel('Evaluate every')).toHaveValue('25');
  await expect(page.getByLabel('Test examples per eval')).toHaveValue('30');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await shot(page, 'url-1-shared');

  // An edit rewrites the link; reloading it gives the edited setup back.
  await setNumber(page, 'Seed', 7);
  await expect(page).toHaveURL(/[?&]seed=7(&|$)/);
  await page.reload();
  await expect(page.getByLabel('Seed', { exact: true })).toHaveValue('7');
  await expect(page.getByLabel('Width')).toHaveValue('96');
  expect(errors).toEqual([]);
});

test('a malformed parameter is explained and falls back to its default; the rest still loads', async ({ page }) => {
  await page.goto('/?task=path-star&degree=abc&pathLength=4&nodes=20&objectives=ntp,bogus&steps=-5&lr=0.01');
  const banner = page.getByRole('alert').filter({ hasText: 'could not be used' });
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('degree="abc"');
  await expect(banner).toContainText('"bogus"');
  await expect(banner).toContainText('steps="-5"');
  // Defaults for the bad fields, the link's values for the others.
  await expect(page.getByLabel('Degree (arms)')).toHaveValue('2');
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('1000'); // the default experiment's
  await expect(page.getByLabel('Path length', { exact: true })).toHaveValue('4');
  await expect(page.getByLabel('Nodes (label pool)')).toHaveValue('20');
  await expect(page.getByLabel('Learning rate')).toHaveValue('0.01');
  await expect(page.getByRole('checkbox', { name: /\bntp$/ })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: /\breverse$/ })).not.toBeChecked();
  await shot(page, 'url-2-malformed');

  // An invalid value typed into the form is explained next to its field, and Start waits for a fix.
  await setNumber(page, 'Width', 66);
  await expect(page.getByText('must be a multiple of nHead (4)')).toBeVisible();
  await expect(page.getByLabel('Width')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  await shot(page, 'url-3-invalid-field');
  await banner.getByRole('button', { name: 'Dismiss' }).click();
  await expect(banner).toHaveCount(0);

  // Pasted pairs are checked line by line.
  await page.getByLabel('Task', { exact: true }).selectOption('custom');
  const text = page.getByRole('textbox', { name: /Pairs, one a line/ });
  await expect(text).not.toHaveValue('');
  await text.fill('abc\tcba\nno separator here\n');
  await expect(page.getByText('line 2 has no separator')).toBeVisible();
  await expect(text).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'url-4-custom-invalid');
});
