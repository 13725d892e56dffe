// The run history as a user meets it: finished runs kept across a reload, what differs between them as columns,
// their curves overlaid, rename (an empty name refused), export and import, delete; and a corrupt entry in the
// browser's storage refused with a message while the rest of the history is kept.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { expectDone, setNumber, shot, smallRun, waitForGpu, watchConsole } from './helpers';

/** Put a record straight into the history's IndexedDB store, as a broken older page or a bad extension might. */
async function putRaw(page: Page, key: string, value: unknown): Promise<void> {
  await page.evaluate(
    ([k, v]) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('webgpu-lab-history');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('runs', 'readwrite');
          tx.objectStore('runs').put(v, k as string);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    [key, value] as const,
  );
}

test('the run history keeps runs across a reload, shows what differs, overlays curves, and refuses a corrupt entry', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);
  const history = page.locator('run-history');
  await expect(history).toContainText('No runs yet');
  await smallRun(page, { objectives: ['ntp', 'reverse'], steps: 4, autosave: 0 });
  const start = page.getByRole('button', { name: 'Start', exact: true });
  await start.click();
  await expectDone(page);
  const rows = history.locator('table[aria-label="Run history"] > tbody > tr');
  await expect(rows).toHaveCount(1);
  await setNumber(page, 'Steps', 6);
  await start.click();
  await expectDone(page);
  await expect(rows).toHaveCount(2);
  // The config diff: a Steps column, newest first; nothing else differs.
  const headers = history.locator('thead th');
  await expect(headers.filter({ hasText: 'Steps' })).toHaveCount(1);
  await expect(history.locator('td.diff')).toHaveText(['6', '4']);
  await expect(rows.first()).toContainText('trained here');

  await page.reload();
  await expect(rows).toHaveCount(2);
  // Sorted by Steps, ascending.
  await history.getByRole('button', { name: 'Steps', exact: true }).click();
  await expect(history.locator('td.diff')).toHaveText(['4', '6']);

  // Both overlaid: one line per run and objective.
  for (const box of await history.getByRole('checkbox').all()) await box.check();
  const overlay = history.locator('metric-chart[metric="exactMatch"]');
  await expect(overlay).toHaveAttribute('data-lines', / · Next-token\|.* · Reverse\|.* · Next-token\|.* · Reverse$/);
  await expect(overlay).toHaveAttribute('data-points', '4,4,6,6');

  // Rename: an empty name is refused and changes nothing; a good one is kept across a reload.
  await rows
    .first()
    .getByRole('button', { name: /^Rename/ })
    .click();
  await history.getByLabel('New name').fill('  ');
  await history.getByRole('button', { name: 'Save' }).click();
  await expect(history.getByRole('alert')).toContainText('A name cannot be empty.');
  await history.getByLabel('New name').fill('the short run');
  await history.getByRole('button', { name: 'Save' }).click();
  await expect(rows.first().locator('.name')).toHaveText('the short run');
  await history.scrollIntoViewIfNeeded();
  await shot(page, 'history-1-overlay');

  // Export, delete one, import the file back: the deleted one returns, the other is already there.
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    history.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const exported = JSON.parse(await readFile((await file.path())!, 'utf8')) as { format: string; entries: unknown[] };
  expect(exported.format).toBe('webgpu-lab-history/1');
  expect(exported.entries).toHaveLength(2);
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    history.getByRole('button', { name: 'Curves as CSV' }).click(),
  ]);
  const csvRows = (await readFile((await csv.path())!, 'utf8')).trim().split('\n');
  expect(csvRows[0]).toBe('entry,seed,lane,objective,kind,step,flops,tokens,seconds,loss,exact_match,held_out_ce');
  // Steps 4 and 6, two lanes, a row per step and per evaluation (every step here).
  expect(csvRows).toHaveLength(1 + 2 * 2 * (4 + 6));
  await rows
    .first()
    .getByRole('button', { name: /^Delete/ })
    .click();
  await expect(rows).toHaveCount(1);
  await history.getByLabel('Import into the run history').setInputFiles((await file.path())!);
  await expect(rows).toHaveCount(2);
  await expect(history.getByRole('alert')).toContainText('imported 1; 1 already in the history');

  // Past its limit of 40 runs the history asks before dropping the oldest, entry by entry: an import of 41 into 2
  // keeps 38 at once, then asks three times (each against the history as it is then); refusing the last keeps 40.
  const many = Array.from({ length: 41 }, (_, i) => ({
    ...(exported.entries[0] as object),
    id: `many-${i + 1}`,
    name: `copy ${i + 1}`,
    addedAt: Date.now() + i + 1,
  }));
  const manyFile = join(await mkdtemp(join(tmpdir(), 'history-')), 'many.json');
  await writeFile(manyFile, JSON.stringify({ ...exported, entries: many }));
  await history.getByLabel('Import into the run history').setInputFiles(manyFile);
  const ask = history.getByRole('alertdialog', { name: 'The run history is full' });
  await expect(ask).toContainText('Keeping “copy 39” drops the oldest');
  await expect(ask).toContainText('2 more waiting after this one.');
  await ask.scrollIntoViewIfNeeded();
  await shot(page, 'history-3-full');
  await expect(history.getByRole('alert')).toContainText('imported 38; 3 to keep or not (the history is full)');
  await expect(rows).toHaveCount(40);
  await ask.getByRole('button', { name: 'Drop it and keep the new run' }).click();
  await expect(ask).toContainText('Keeping “copy 40”');
  await expect(ask).toContainText('1 more waiting after this one.');
  await ask.getByRole('button', { name: 'Drop it and keep the new run' }).click();
  await expect(ask).toContainText('Keeping “copy 41”');
  await expect(ask).not.toContainText('more waiting');
  await ask.getByRole('button', { name: "Don't keep the new run" }).click();
  await expect(ask).toHaveCount(0);
  await expect(rows).toHaveCount(40);
  await expect(rows.filter({ hasText: 'copy 40' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'copy 41' })).toHaveCount(0);
  // The two oldest (the runs trained above) made room.
  const copies = rows.filter({ hasText: /copy \d+/ });
  await expect(copies).toHaveCount(40);
  // One at a time: each click waits for the row before it to be gone, or a click on a row that is being removed
  // would delete it twice and leave another.
  for (let left = 40; left > 0; left--) {
    await copies
      .first()
      .getByRole('button', { name: /^Delete/ })
      .click();
    await expect(copies).toHaveCount(left - 1);
  }
  await expect(rows).toHaveCount(0);
  await history.getByLabel('Import into the run history').setInputFiles((await file.path())!);
  await expect(rows).toHaveCount(2);

  // A record that does not read is refused with its reason; the rest of the history is kept.
  await putRaw(page, 'broken-1', { id: 'broken-1', name: 'half written' });
  await page.reload();
  await expect(history.getByRole('alert')).toContainText(
    'One entry of the run history could not be read and is left out; the rest is kept',
  );
  await expect(history.getByRole('alert')).toContainText('broken-1: no date');
  await expect(rows).toHaveCount(2);
  await history.scrollIntoViewIfNeeded();
  await shot(page, 'history-2-corrupt');
  expect(errors).toEqual([]);
});
