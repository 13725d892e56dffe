// Time to contrast: how long the default experiment takes, from the start to the first evaluation at which an
// objective other than next-token prediction reaches 90% held-out exact match — the moment the lab has shown what
// it exists to show. The lab in Node (Dawn, this machine's adapter) and the same experiment in PyTorch on the CPU
// (the exported project, python -m labtorch --until-contrast), one after the other in one run.
import { kernelsText } from '../src/cli/print';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { nodeGpu } from '../src/engine/node-gpu';
import type { VariantCache } from '../src/engine/adapter';
import { FileVariantCache } from '../src/engine/node-variant-cache';
import type { ExperimentSpec } from '../src/lab/api';
import { Lab } from '../src/lab/lab';
import { scaleProject } from '../src/lab/scale';

export interface ContrastTime {
  /** Wall seconds from the start of training to that evaluation (evaluations included). */
  seconds: number;
  /** The step of that evaluation. */
  steps: number;
  /** Training FLOPs of every lane together up to that step. */
  flops: number;
  /** The objective that got there first. */
  objective: string;
}

export async function labTimeToContrast(
  spec: ExperimentSpec,
  log: (s: string) => void,
  matmulVariant: string | null = null,
  stackLanes: boolean | null = null,
): Promise<{ adapter: string; result: ContrastTime | null }> {
  // A forced variant reaches the lab as the adapter's cached matmul choice (the lab times no matmul variant then).
  const fixed: VariantCache = {
    get: async () => JSON.stringify({ matmul: matmulVariant }),
    set: async () => undefined,
  };
  const lab = new Lab({
    gpu: nodeGpu,
    variantCache: matmulVariant ? fixed : new FileVariantCache(),
    ...(stackLanes !== null ? { stackLanes } : {}),
  });
  const a = await lab.adapter();
  const adapter = `${a.vendor} ${a.architecture} ${a.description}`.trim();
  log(
    `lab: ${adapter}${kernelsText(a)}${stackLanes !== null ? `, lanes stacked: ${stackLanes ? 'on' : 'off'} (forced)` : ''}`,
  );
  const flops = new Map<number, number>();
  let result: ContrastTime | null = null;
  const t0 = performance.now();
  await lab.run(spec, (e) => {
    if (e.type === 'step') flops.set(e.metrics.lane, e.metrics.flops);
    if (e.type !== 'eval') return;
    const m = e.metrics;
    log(
      `  lab ${m.objective.padEnd(11)} step ${m.step}: exact ${(100 * m.exactMatch).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
    if (result === null && m.objective !== 'ntp' && m.exactMatch >= 0.9) {
      // Every lane has run this step: charge each its FLOPs per step times the step.
      const perStep = [...flops.values()].reduce((x, f) => x + f / Math.max(1, m.step), 0);
      result = {
        seconds: (performance.now() - t0) / 1000,
        steps: m.step,
        flops: perStep * m.step,
        objective: m.objective,
      };
      void lab.stop();
    }
  });
  return { adapter, result };
}

export function pytorchTimeToContrast(
  spec: ExperimentSpec,
  python: string,
  log: (s: string) => void,
): { device: string; result: ContrastTime | null } | { skipped: string } {
  if (spawnSync(python, ['-c', 'import torch']).status !== 0) return { skipped: `${python} has no PyTorch` };
  const dir = mkdtempSync(join(tmpdir(), 'lab-contrast-'));
  for (const f of scaleProject(spec, [spec.train.seed])) {
    mkdirSync(dirname(join(dir, f.name)), { recursive: true });
    writeFileSync(join(dir, f.name), f.text);
  }
  const t0 = performance.now();
  const r = spawnSync(
    python,
    ['-m', 'labtorch', 'experiment.json', '--out', 'runs/', '--device', 'cpu', '--until-contrast'],
    { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(`python -m labtorch failed (${r.status}):\n${r.stderr}`);
  for (const line of r.stdout.split('\n')) if (/eval step|time to contrast/.test(line)) log(`  pytorch ${line.trim()}`);
  const out = JSON.parse(readFileSync(join(dir, 'runs/results.json'), 'utf8')) as {
    adapter: string;
    runs: { timeToContrast: (ContrastTime & { step: number }) | null }[];
  };
  const c = out.runs[0]!.timeToContrast;
  log(`pytorch: ${out.adapter}, ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
  return {
    device: out.adapter,
    result: c ? { seconds: c.seconds, steps: c.step, flops: c.flops, objective: c.objective } : null,
  };
}
