// Scaling out, end to end on this machine's CPU: the default experiment exported as a PyTorch project, trained by
// one process and by `torchrun --nproc_per_node=2` (gloo), the two runs compared, and the distributed run's
// checkpoints evaluated by the lab's own engine. Runs where PyTorch is, and must in CI.
// What it proves is that two ranks compute what one process does: the global batch split over the ranks, their
// gradients averaged, their checkpoints the same model. A one-block model of width 32 shows that as well as the
// default's 2/128/4, at a fiftieth of its compute, and 60 steps span the warm-up and enough updates for a rank that
// trained on its half alone to end far off.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/commands';
import { readSafetensors } from '../../src/checkpoint/safetensors';
import type { LaneResult } from '../../src/lab/api';
import { describeTorch, PYTHON } from '../python-helpers';
import { presetCommandLineChoices } from './helpers';

beforeAll(presetCommandLineChoices);

const STEPS = 60;
const TINY = ['--layers', '1', '--width', '32', '--heads', '2'];

function python(cwd: string, args: string[]): void {
  const r = spawnSync(PYTHON, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

type Results = { runs: { seed: number; results: LaneResult[] }[] };

describeTorch('PyTorch export: a distributed run', () => {
  test(`torchrun with 2 ranks matches one process over ${STEPS} steps, and its checkpoints evaluate the same in the lab`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-scale-'));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['export-experiment', ...TINY, '--steps', String(STEPS), '--out', dir])).toBe(0);
    python(dir, ['-m', 'labtorch', 'experiment.json', '--out', 'single/']);
    // --redirects/--tee 1: torch 1.13's launcher cannot parse its own default ("0") under Python 3.11.
    python(dir, [
      '-m',
      'torch.distributed.run',
      '--standalone',
      '--nproc_per_node=2',
      '--redirects',
      '1',
      '--tee',
      '1',
      '-m',
      'labtorch',
      'experiment.json',
      '--out',
      'ddp/',
    ]);
    const single = (JSON.parse(readFileSync(join(dir, 'single/results.json'), 'utf8')) as Results).runs[0]!.results;
    const ddp = (JSON.parse(readFileSync(join(dir, 'ddp/results.json'), 'utf8')) as Results).runs[0]!.results;
    expect(ddp.map((r) => r.objective)).toEqual(['ntp', 'reverse']);
    for (const [i, r] of ddp.entries()) {
      // The same global batch split over two ranks: the same loss curve up to float32 summation order.
      const a = single[i]!.history.steps.map((s) => s.loss);
      const b = r.history.steps.map((s) => s.loss);
      expect(b).toHaveLength(STEPS);
      const worst = Math.max(...a.map((x, j) => Math.abs(x - b[j]!) / Math.abs(x)));
      expect(worst, `${r.objective}: largest relative difference of the loss curves`).toBeLessThan(1e-3);
      // And the same weights at the end (a rank that trained on its half alone would be far off).
      const wa = readSafetensors(
        new Uint8Array(readFileSync(join(dir, `single/seed-1/lane${i}-${r.objective}.safetensors`))),
      ).tensors;
      const wb = readSafetensors(
        new Uint8Array(readFileSync(join(dir, `ddp/seed-1/lane${i}-${r.objective}.safetensors`))),
      ).tensors;
      let diff = 0;
      let norm = 0;
      for (const [name, t] of wa) {
        const u = wb.get(name)!.data;
        t.data.forEach((x, j) => ((diff += (x - u[j]!) ** 2), (norm += x * x)));
      }
      expect(Math.sqrt(diff / norm), `${r.objective}: relative difference of the final weights`).toBeLessThan(1e-3);
    }
    // The lab evaluates the distributed run's checkpoints on the same test set and gets the numbers it reported.
    const json = join(dir, 'lab-eval.json');
    expect(await main(['evaluate', '--checkpoint', join(dir, 'ddp/seed-1'), '--json', json])).toBe(0);
    const lab = (JSON.parse(readFileSync(json, 'utf8')) as { results: LaneResult[] }).results;
    for (const [i, r] of ddp.entries()) {
      const l = lab[i]!;
      expect(l.steps).toBe(STEPS);
      expect(l.timeTo90).toBeNull(); // an evaluation alone does not say when training crossed 90%
      expect(l.examples).toBe(r.examples);
      // float32 argmaxes can flip on a near-tie: allow 1% of the examples per figure.
      expect(Math.abs(l.exactMatch - r.exactMatch), `${r.objective} exact match`).toBeLessThanOrEqual(0.01);
      l.perPosition.teacherForced.forEach((x, p) =>
        expect(Math.abs(x - r.perPosition.teacherForced[p]!)).toBeLessThanOrEqual(0.01),
      );
      l.perPosition.freeRunning.forEach((x, p) =>
        expect(Math.abs(x - r.perPosition.freeRunning[p]!)).toBeLessThanOrEqual(0.01),
      );
      expect(Math.abs(l.heldOutLoss - r.heldOutLoss)).toBeLessThanOrEqual(1e-3 * Math.abs(r.heldOutLoss) + 1e-4);
    }
    vi.restoreAllMocks();
  }, 1_800_000);
});
