// Checkpoints that leave the browser: the bundle download holds every lane's files, each lane's ONNX export runs
// in the page (onnxruntime-web, WASM, under the page's CSP) and agrees with the trainer, an autosaved run survives a
// reload and continues from its saved step, and a corrupt checkpoint file is refused without disturbing anything.
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { readFile } from 'node:fs/promises';
import { expectDone, setNumber, shot, smallRun, startAndPauseAfterAutosave, waitForGpu, watchConsole } from './helpers';

// Long enough that a run is still going when the test pauses it right after its first autosave (at step 5), as in
// faults.spec.ts.
const STEPS = 120;

test('export a bundle, check ONNX in the page, reload and resume the autosaved run', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/');
  await waitForGpu(page);
  await smallRun(page, { objectives: ['ntp', 'diffusion'], steps: STEPS, autosave: 5 });
  await startAndPauseAfterAutosave(page);

  // The bundle: config, metrics and three files per lane.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download bundle (.zip)' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^webgpu-lab-.*\.zip$/);
  const names = Object.keys(unzipSync(new Uint8Array(await readFile((await download.path())!)))).sort();
  expect(names).toEqual(
    [
      'experiment.json',
      'metrics.json',
      ...['lane0-ntp', 'lane1-diffusion'].flatMap((s) => [
        `${s}.safetensors`,
        `${s}.optimizer.safetensors`,
        `${s}.onnx`,
      ]),
    ].sort(),
  );

  // Each lane's ONNX file in onnxruntime-web against the trainer's forward pass on the same ids.
  const checks = page.locator('checkpoint-export').getByRole('button', { name: 'Check ONNX in the page' });
  for (const i of [0, 1]) {
    await checks.nth(i).click();
    const verdict = page
      .locator('checkpoint-export tr')
      .nth(i)
      .getByText(/ONNX agrees with the trainer/);
    await expect(verdict).toBeVisible({ timeout: 60_000 });
    const delta = Number(/max \|Δ\| (\S+)/.exec((await verdict.textContent()) ?? '')![1]);
    expect(delta).toBeLessThanOrEqual(1e-4);
  }
  await page.locator('checkpoint-export').scrollIntoViewIfNeeded();
  await shot(page, 'ckpt-1-exported');

  // A reload ends the worker mid-run; the page offers the newest unfinished autosave.
  await page.reload();
  await waitForGpu(page);
  const offer = page.getByRole('button', { name: /^Resume run from step \d+$/ });
  await expect(offer).toBeVisible();
  const savedStep = Number(/\d+/.exec((await offer.textContent()) ?? '')![0]);
  expect(savedStep).toBeGreaterThanOrEqual(5);
  expect(savedStep).toBeLessThan(STEPS);
  await expect(page.locator('saved-runs li')).toHaveCount(1);
  await shot(page, 'ckpt-2-resume-offer');
  await offer.click();
  await expect(page.locator('run-controls').getByText(`Continued from step ${savedStep}`)).toBeVisible();
  await expectDone(page);
  // The charts hold the saved history and the continuation: one point per step, no gap and no repeat.
  await expect(page.locator('metric-chart[metric="loss"]')).toHaveAttribute('data-points', `${STEPS},${STEPS}`);
  const rows = page.locator('results-table tbody tr');
  for (const i of [0, 1]) await expect(rows.nth(i).locator('td.steps')).toHaveText(String(STEPS));
  await expect(page.getByLabel('Degree (arms)')).toHaveValue('2');
  await shot(page, 'ckpt-3-resumed-done');
  expect(errors).toEqual([]);
});

/** A safetensors file: an 8-byte little-endian header length, the JSON header, then the tensor bytes. */
function safetensors(header: object, dataBytes: number, declaredLength?: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLength ?? json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataBytes)]);
}

test('a corrupt checkpoint is refused next to the picker; good ones evaluate and continue', async ({ page }) => {
  await page.goto('/');
  await waitForGpu(page);
  await smallRun(page, { objectives: ['ntp'], steps: STEPS, autosave: 5 });
  const pausedAt = await startAndPauseAfterAutosave(page);
  const progress = page.locator('run-controls .stats span').first();
  const stepText = await progress.textContent();

  const model = page.getByLabel(/^Model \(\.safetensors/);
  const optimizer = page.getByLabel(/^Optimizer state/);
  const note = page.locator('checkpoint-import #import-note');
  const file = (name: string, buffer: Buffer) => ({ name, mimeType: 'application/octet-stream', buffer });
  // Truncated: the header claims more bytes than the file has.
  await model.setInputFiles(file('cut.safetensors', safetensors({}, 0, 4096)));
  await expect(note.getByRole('alert')).toContainText('This checkpoint cannot be used');
  // A tensor in a dtype the lab does not read.
  const f64 = { 'transformer.wte.weight': { dtype: 'F64', shape: [2, 2], data_offsets: [0, 32] } };
  await model.setInputFiles(file('f64.safetensors', safetensors(f64, 32)));
  await expect(note.getByRole('alert')).toContainText(/F64|dtype/);
  await note.scrollIntoViewIfNeeded();
  await shot(page, 'ckpt-4-corrupt');
  // Nothing else changed: the paused run, its autosave.
  await expect(page.getByRole('status').filter({ hasText: 'Paused.' })).toBeVisible();
  await expect(progress).toHaveText(stepText!);
  await expect(page.locator('saved-runs li')).toHaveCount(1);

  // This lane's files at the paused step, then the run goes on to the end.
  const save = async (name: RegExp) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name }).click()]);
    return (await d.path())!;
  };
  const modelFile = await save(/^Download Next-token \.safetensors$/);
  const optimizerFile = await save(/^Download Next-token \.optimizer\.safetensors$/);
  await page.locator('run-controls').getByRole('button', { name: 'Resume' }).click();
  await expectDone(page);
  const steps = page.locator('results-table tbody tr').first().locator('td.steps');
  await expect(steps).toHaveText(String(STEPS));

  // The good files: what they hold, and whether they fit the setup in the form.
  await model.setInputFiles(modelFile);
  await optimizer.setInputFiles(optimizerFile);
  const savedStep = Number(/Autosaved at step (\d+)/.exec(stepText ?? '')?.[1] ?? pausedAt);
  await expect(note).toContainText(/ntp, step \d+\s+·\s+1 layer, width 16, 2 heads/);
  const at = Number(/ntp, step (\d+)/.exec((await note.textContent()) ?? '')![1]);
  expect(at).toBeGreaterThanOrEqual(savedStep);
  expect(at).toBeLessThan(STEPS);
  await expect(note).toContainText(`continues the path-star G(2,3,10) run at step ${at} of ${STEPS}`);
  await setNumber(page, 'Width', 32);
  await expect(note).toContainText('width 32 here, 16 in the checkpoint');
  await expect(note.getByRole('button', { name: 'Evaluate on the current task' })).toBeDisabled();
  await setNumber(page, 'Width', 16);

  // Evaluate: the weights on the current task, no training.
  await note.getByRole('button', { name: 'Evaluate on the current task' }).click();
  await expectDone(page);
  await expect(page.locator('results-table tbody tr')).toHaveCount(1);
  await expect(steps).toHaveText('0');
  await shot(page, 'ckpt-5-evaluated');

  // Continue: the file's own run from its step to the end.
  await note.getByRole('button', { name: 'Continue training' }).click();
  await expect(page.locator('run-controls').getByText(`Continued from step ${at}`)).toBeVisible();
  await expectDone(page);
  await expect(steps).toHaveText(String(STEPS));
  await expect(page.locator('saved-runs li')).toHaveCount(2);
  await shot(page, 'ckpt-6-continued');
});
