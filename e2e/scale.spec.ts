// Scaling out from the page and back: "Run at scale" saves the experiment as a PyTorch project; a run of that
// project (here a short one on this machine's CPU) opens in the page with its curves, tables, examples and ONNX
// export. Needs PyTorch, which .ci/setup installs; without it (outside CI) the round trip is skipped.
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { shot, waitForGpu, watchConsole } from './helpers';

const PYTHON = process.env['LAB_PYTHON'] ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch']).status === 0;

test('Run at scale saves a PyTorch project; its results and checkpoints open in the page', async ({ page }) => {
  test.skip(!hasTorch && !process.env['CI'], 'PyTorch is not installed (it is in CI)');
  const errors = watchConsole(page);
  // A small experiment, three seeds: the project must carry both.
  await page.goto(
    '/?v=2&task=path-star&degree=2&pathLength=4&nodes=10&trainSize=0&testSize=60&objectives=ntp,reverse&layers=1&width=16&heads=2&steps=24&batch=8&lr=0.003&schedule=constant&warmup=2&seed=1&evalEvery=8&evalExamples=30&seeds=1-3',
  );
  await waitForGpu(page);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Run at scale (PyTorch)' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^experiment-.*\.zip$/);
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  const names = Object.keys(zip).sort();
  expect(names).toContain('experiment/experiment.json');
  expect(names).toContain('experiment/README.md');
  expect(names).toContain('experiment/labtorch/train.py');
  const doc = JSON.parse(strFromU8(zip['experiment/experiment.json']!));
  expect(doc.seeds).toEqual([1, 2, 3]);
  expect(doc.spec.task).toMatchObject({ degree: 2, pathLength: 4, nodes: 10 });
  expect(strFromU8(zip['experiment/README.md']!)).toContain(
    'torchrun --standalone --nproc_per_node=gpu -m labtorch experiment.json',
  );

  // Run the project as a user would, on the CPU, one seed.
  const dir = mkdtempSync(join(tmpdir(), 'lab-e2e-scale-'));
  for (const [name, data] of Object.entries(zip)) {
    if (name.endsWith('/')) continue;
    const path = join(dir, name);
    spawnSync('mkdir', ['-p', path.slice(0, path.lastIndexOf('/'))]);
    writeFileSync(path, data);
  }
  const run = spawnSync(PYTHON, ['-m', 'labtorch', 'experiment.json', '--out', 'runs/', '--seeds', '2'], {
    cwd: join(dir, 'experiment'),
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  const runs = join(dir, 'experiment/runs');
  const ckpts = readdirSync(join(runs, 'seed-2')).map((f) => join(runs, 'seed-2', f));

  // A file that is not results is explained, and nothing changes.
  await page
    .getByLabel(/^Results \(\.json/)
    .setInputFiles({ name: 'nope.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
  await expect(page.getByText('nope.json cannot be opened: no "spec"')).toBeVisible();

  await page.getByLabel(/^Results \(\.json/).setInputFiles(join(runs, 'results.json'));
  await expect(page.locator('results-open .info')).toContainText(
    'path-star G(2,4,10): ntp, reverse; 1 seed, 24 steps · PyTorch',
  );
  await page.getByLabel(/^Lane checkpoints/).setInputFiles(ckpts);
  await page.locator('results-open').getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Done.' })).toBeVisible({ timeout: 60_000 });
  // The run's whole history is on the charts; the lab evaluated the loaded models once more at step 24.
  await expect(page.locator('metric-chart[metric="exactMatch"]')).toHaveAttribute('data-points', /^[34],[34]$/);
  await expect(page.locator('results-table tbody tr').first().locator('td.steps')).toHaveText('24');
  await expect(page.getByLabel('Seed', { exact: true })).toHaveValue('2');
  await page.getByRole('button', { name: 'Show test examples' }).click();
  await expect(page.locator('path-star-graph svg')).toBeVisible({ timeout: 60_000 });
  await page.locator('results-open').scrollIntoViewIfNeeded();
  await shot(page, 'scale-1-opened');
  expect(errors).toEqual([]);
});
