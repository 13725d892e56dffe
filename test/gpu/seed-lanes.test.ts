// A run over seeds (RunOptions.seeds): where the Lab stacks lanes (a GPU; forced here), every seed's lanes train at
// once, the lanes of one shape in the same dispatches. Each seed's lanes must end exactly where that seed alone
// ends: the same losses at every step, the same evaluations and the same weights, bit for bit. Where the Lab does
// not stack (a CPU adapter's default), the seeds run one after another and give the same numbers.
import { beforeAll, expect, test } from 'vitest';
import { MemoryVariantCache } from '../../src/engine/adapter';
import { nodeGpu } from '../../src/engine/node-gpu';
import type { EvalMetrics, ExperimentSpec, LabEvent, LaneResult, LaneState, StepMetrics } from '../../src/lab/api';
import { Lab } from '../../src/lab/lab';
import { DEFAULT_TRAIN } from '../../src/model/config';
import { presetKernelChoices } from './helpers';

const variantCache = new MemoryVariantCache();
const stacked = new Lab({ gpu: nodeGpu, stackLanes: true, variantCache });
const apart = new Lab({ gpu: nodeGpu, stackLanes: false, variantCache });
beforeAll(() => presetKernelChoices(variantCache));

const spec: ExperimentSpec = {
  task: { kind: 'path-star', degree: 2, pathLength: 4, nodes: 10, trainSize: 0, testSize: 30 },
  // ntp and reverse share a shape (stacked over every seed); diffusion has its own (bidirectional, its own loss).
  objectives: [{ kind: 'ntp' }, { kind: 'reverse' }, { kind: 'diffusion', decodeSteps: 4, variant: 'mdlm' }],
  model: { nLayer: 1, nEmbd: 32, nHead: 2 },
  train: { ...DEFAULT_TRAIN, batchSize: 8, steps: 8, warmupSteps: 2, lr: 3e-3, seed: 1 },
  evalEvery: 4,
  evalExamples: 20,
};
const SEEDS = [3, 8, 11];

type Outcome = { steps: StepMetrics[]; evals: EvalMetrics[]; results: LaneResult[]; logs: string[] };

async function run(lab: Lab, s: ExperimentSpec, seeds?: number[]): Promise<Outcome> {
  const events: LabEvent[] = [];
  const results = await lab.run(s, (e) => events.push(e), seeds ? { seeds } : {});
  return {
    steps: events.flatMap((e) => (e.type === 'step' ? [e.metrics] : [])),
    evals: events.flatMap((e) => (e.type === 'eval' ? [e.metrics] : [])),
    results,
    logs: events.flatMap((e) => (e.type === 'log' ? [e.message] : [])),
  };
}

/** What must agree bit for bit: everything but the wall time (and the seed tag the run over seeds adds). */
const steps = (ms: StepMetrics[]) => ms.map((m) => [m.lane, m.step, m.loss, m.flops, m.tokens]);
const evals = (ms: EvalMetrics[]) =>
  ms.map((m) => [m.lane, m.step, m.exactMatch, m.perPosition, m.heldOutLoss, m.probes, m.decisionTokenAccuracy]);

test("every seed's lanes, stacked together, end where that seed alone ends: losses, evaluations, weights", async () => {
  const together = await run(stacked, spec, SEEDS);
  // Stacked indeed: ntp and reverse of all three seeds are the lanes of one model, diffusion's three of another.
  expect(together.logs[0]).toMatch(/\(3 seeds\)/);
  expect(together.logs[0]).toMatch(/6 lanes in the same dispatches/);
  expect(together.logs[0]).toMatch(/3 lanes in the same dispatches/);
  const states = new Map<number, LaneState[]>();
  for (const seed of SEEDS) {
    const lanes: LaneState[] = [];
    for (let i = 0; i < spec.objectives.length; i++) lanes.push(await stacked.snapshot(i, seed));
    states.set(seed, lanes);
  }
  for (const seed of SEEDS) {
    const alone = await run(stacked, { ...spec, train: { ...spec.train, seed } });
    const mine = <T extends { seed?: number }>(xs: T[]) => xs.filter((m) => m.seed === seed);
    expect(steps(mine(together.steps)), `seed ${seed} steps`).toEqual(steps(alone.steps));
    expect(evals(mine(together.evals)), `seed ${seed} evals`).toEqual(evals(alone.evals));
    expect(mine(together.results).map((r) => r.exactMatch)).toEqual(alone.results.map((r) => r.exactMatch));
    for (let i = 0; i < spec.objectives.length; i++) {
      const a = await stacked.snapshot(i);
      const t = states.get(seed)![i]!;
      expect(t.step).toBe(a.step);
      expect(Buffer.from(t.params.buffer).equals(Buffer.from(a.params.buffer)), `seed ${seed} lane ${i} weights`).toBe(
        true,
      );
      expect(Buffer.from(t.adamV.buffer).equals(Buffer.from(a.adamV.buffer)), `seed ${seed} lane ${i} moments`).toBe(
        true,
      );
    }
    // The seeds differ from one another, so a mix-up would show.
    expect(steps(mine(together.steps))).not.toEqual(steps(together.steps.filter((m) => m.seed !== seed)).slice(0, 24));
  }
  expect(together.steps.every((m) => SEEDS.includes(m.seed!))).toBe(true);
  expect(together.results.map((r) => [r.seed, r.lane])).toEqual(SEEDS.flatMap((s) => [0, 1, 2].map((i) => [s, i])));

  // Not stacked: one seed after another, the same numbers, each tagged with its seed.
  const oneByOne = await run(apart, spec, SEEDS);
  expect(oneByOne.logs.filter((l) => /lanes in the same dispatches/.test(l))).toEqual([]);
  const bySeed = (o: Outcome) => SEEDS.flatMap((s) => steps(o.steps.filter((m) => m.seed === s)));
  expect(bySeed(oneByOne)).toEqual(bySeed(together));
  const evalsBySeed = (o: Outcome) => SEEDS.flatMap((s) => evals(o.evals.filter((m) => m.seed === s)));
  expect(evalsBySeed(oneByOne)).toEqual(evalsBySeed(together));
});

test('a run over seeds refuses what only a single run can do, and bad seeds', async () => {
  const go = (seeds: number[], more = {}) => stacked.run(spec, () => undefined, { seeds, ...more });
  await expect(go([])).rejects.toThrow('seeds: give at least one');
  await expect(go([1, 1])).rejects.toThrow('seeds: each seed once');
  await expect(go([1.5])).rejects.toThrow('1.5 is not a whole number');
  await expect(go([1, 2], { autosaveEvery: 5 })).rejects.toThrow(/not autosaved/);
});
