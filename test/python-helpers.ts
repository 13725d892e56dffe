// Running the exported PyTorch package (python/labtorch) from the tests: where PyTorch is installed, and always in
// CI (where .ci/setup installs it), so that a missing PyTorch fails there instead of skipping.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';

export const PYTHON = process.env['LAB_PYTHON'] ?? '/usr/bin/python3';
export const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
/** The PyTorch checks run where torch is, and must run in CI: there a missing torch fails the suite. */
export const describeTorch = hasTorch || process.env['CI'] ? describe : describe.skip;

/** Run python/tests/parity.py with a JSON request; returns its JSON answer. */
export function parity<T>(what: 'data' | 'step' | 'decode' | 'remask' | 'loss', request: unknown): T {
  const dir = mkdtempSync(join(tmpdir(), 'lab-py-'));
  const file = join(dir, 'request.json');
  writeFileSync(file, JSON.stringify(request));
  const r = spawnSync(PYTHON, ['python/tests/parity.py', what, file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`parity.py ${what} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
