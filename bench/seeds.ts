// `--seed-lanes N`: what a run over N seeds costs against one seed, in the lab (Node, Dawn, this adapter). The
// default experiment's model and batch for a few steps (evaluations off but the last): seeds 1..N with every
// seed's lanes stacked (ntp and reverse of every seed the lanes of one model), one seed alone, and the N seeds one
// after another (what a CPU adapter does by default). Each run in a fresh Lab, so each compiles its own pipelines
// once (a warm-up run first fills the shader cache).
import { nodeGpu } from '../src/engine/node-gpu';
import type { VariantCache } from '../src/engine/adapter';
import { FileVariantCache } from '../src/engine/node-variant-cache';
import type { ExperimentSpec } from '../src/lab/api';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import { Lab } from '../src/lab/lab';

export interface SeedLanesResult {
  seeds: number;
  steps: number;
  /** Wall seconds of each run: one seed; N seeds stacked; N seeds one after another. */
  one: number;
  stacked: number;
  apart: number;
}

async function timed(spec: ExperimentSpec, seeds: number[], stackLanes: boolean, cache: VariantCache) {
  const lab = new Lab({ gpu: nodeGpu, variantCache: cache, stackLanes });
  const t0 = performance.now();
  await lab.run(spec, () => undefined, seeds.length > 1 ? { seeds } : {});
  return (performance.now() - t0) / 1000;
}

export async function benchSeedLanes(n: number, steps: number, log: (s: string) => void): Promise<SeedLanesResult> {
  const spec: ExperimentSpec = {
    ...DEFAULT_EXPERIMENT,
    train: { ...DEFAULT_EXPERIMENT.train, steps },
    evalEvery: steps,
    evalExamples: 50,
  };
  const cache = new FileVariantCache();
  const seeds = Array.from({ length: n }, (_, i) => i + 1);
  log(
    `workload: the default experiment (${spec.objectives.map((o) => o.kind).join(', ')}, model ${spec.model.nLayer}/${spec.model.nEmbd}/${spec.model.nHead}, batch ${spec.train.batchSize}), ${steps} steps, one evaluation of 50 graphs at the end`,
  );
  // Warm-ups, stacked and not: the two build different pipelines (a model of several lanes, and of one).
  const warm = { ...spec, train: { ...spec.train, steps: 2 }, evalEvery: 2 };
  await timed(warm, [1, 2], true, cache);
  await timed(warm, [1, 2], false, cache);
  // One seed before and after the two runs over seeds, so that a drift of the machine shows; the lower is used.
  const first = await timed(spec, [1], true, cache);
  const stacked = await timed(spec, seeds, true, cache);
  const apart = await timed(spec, seeds, false, cache);
  const last = await timed(spec, [1], true, cache);
  const one = Math.min(first, last);
  log(`one seed: ${one.toFixed(1)} s (${first.toFixed(1)} before the runs over seeds, ${last.toFixed(1)} after)`);
  log(`${n} seeds stacked: ${stacked.toFixed(1)} s (${(stacked / one).toFixed(2)}× one)`);
  log(`${n} seeds one after another: ${apart.toFixed(1)} s (${(apart / one).toFixed(2)}× one)`);
  return { seeds: n, steps, one, stacked, apart };
}
