// The exported PyTorch package continues a lab run: from the lab's lane files (weights, AdamW moments, step, random
// streams), one PyTorch step gives the lab's next loss and weights, for every objective. Runs where PyTorch is, and
// must in CI (test/python-helpers.ts).
//
// Two comparisons. In float64, PyTorch against the lab's float64 reference (src/model/reference.ts, itself checked
// against the GPU engine by test/gpu/model-parity.test.ts): loss and every weight within 1e-5 relative. In float32,
// PyTorch against the GPU engine: the loss within 1e-5 relative. Weights are not compared in float32: some
// gradients are exactly zero in exact arithmetic (the key bias does not change a softmax), and AdamW divides their
// float32 rounding noise (~1e-9) by sqrt(v) + eps ~ 1e-8, so two correct float32 implementations move those weights
// by different amounts of order lr·0.1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { laneFileStem, laneToFiles } from '../../src/checkpoint/lane-files';
import { MemoryVariantCache } from '../../src/engine/adapter';
import { nodeGpu } from '../../src/engine/node-gpu';
import type { ExperimentSpec, LaneState, StepMetrics } from '../../src/lab/api';
import { DEFAULT_EXPERIMENT } from '../../src/lab/experiments';
import { Lab } from '../../src/lab/lab';
import { paramTable } from '../../src/model/params';
import { dataSeed, objectiveSeed } from '../../src/lab/lane';
import { learningRate } from '../../src/model/config';
import { refAdamWStep, refLossAndGrads } from '../../src/model/reference';
import { Rng } from '../../src/model/rng';
import { makeObjective } from '../../src/objectives';
import { makeTask } from '../../src/tasks';
import { describeTorch, parity } from '../python-helpers';
import { presetKernelChoices } from './helpers';

const variantCache = new MemoryVariantCache();
const lab = new Lab({ gpu: nodeGpu, variantCache });
beforeAll(() => presetKernelChoices(variantCache));

const spec: ExperimentSpec = {
  task: { kind: 'path-star', degree: 2, pathLength: 5, nodes: 10, trainSize: 0, testSize: 50 },
  objectives: [
    { kind: 'ntp' },
    { kind: 'reverse' },
    { kind: 'teacherless' },
    { kind: 'mtp', heads: 3 },
    { kind: 'diffusion', decodeSteps: 5, variant: 'mdlm' },
    // Another loss shape (the focal γ, where mdlm leaves [MASK] out): its own model in the lab.
    { kind: 'diffusion', decodeSteps: 5, variant: 'hkunlp' },
    // The token-order head: its soft targets and ListNet loss on both sides, its weight in the lane's files.
    { kind: 'top' },
  ],
  model: { nLayer: 2, nEmbd: 32, nHead: 2 },
  train: { ...DEFAULT_EXPERIMENT.train, batchSize: 16, steps: 10, warmupSteps: 2, lr: 3e-3, seed: 5 },
  evalEvery: 100,
  evalExamples: 20,
};

describeTorch('PyTorch export: a lab run continues in PyTorch', () => {
  test('one step from the lab’s files gives the lab’s next loss (1e-5) and weights (1e-5 relative)', async () => {
    await lab.run(spec, () => undefined, { stopAtStep: 4 });
    const states: LaneState[] = [];
    for (let i = 0; i < spec.objectives.length; i++) states.push(await lab.snapshot(i));
    const { vocab } = (await lab.runInfo())!;
    const dir = mkdtempSync(join(tmpdir(), 'lab-resume-'));
    const files = states.map((s) => {
      const f = laneToFiles(s, spec, vocab);
      const stem = join(dir, laneFileStem(s));
      writeFileSync(`${stem}.safetensors`, f.model);
      writeFileSync(`${stem}.optimizer.safetensors`, f.optimizer);
      return `${stem}.safetensors`;
    });
    // The lab's own next step, resumed from the same states.
    const steps: StepMetrics[] = [];
    await lab.run(spec, (e) => e.type === 'step' && steps.push(e.metrics), { resume: states, stopAtStep: 5 });
    type Step = { objective: string; loss: number; params: Record<string, number[]> }[];
    const py32 = parity<Step>('step', { files, dtype: 'float32' });
    const py64 = parity<Step>('step', { files, dtype: 'float64' });
    expect(py64.map((p) => p.objective)).toEqual([
      'ntp',
      'reverse',
      'teacherless',
      'mtp',
      'diffusion',
      'diffusion',
      'top',
    ]);
    const task = makeTask(spec.task, spec.train.seed);
    for (const [i, state] of states.entries()) {
      // The lab's next batch, from the random streams saved with the lane.
      const dataRng = new Rng(dataSeed(0));
      dataRng.state = state.rng.data;
      const objRng = new Rng(objectiveSeed(0));
      objRng.state = state.rng.objective;
      const batch = makeObjective(state.objectiveSpec).makeBatch(
        task,
        task.sampleTrain(dataRng, spec.train.batchSize),
        objRng,
      );
      const params = Float64Array.from(state.params);
      const { loss, grads } = refLossAndGrads(state.config, params, batch);
      const table = paramTable(state.config);
      refAdamWStep(
        table,
        params,
        grads,
        { m: Float64Array.from(state.adamM), v: Float64Array.from(state.adamV), step: state.step },
        learningRate(spec.train, state.step),
        spec.train,
      );
      const p64 = py64[i]!;
      expect(Math.abs(p64.loss - loss), p64.objective).toBeLessThanOrEqual(1e-5 * Math.abs(loss));
      for (const s of table.specs) {
        const got = p64.params[s.name]!;
        expect(got, `${p64.objective} ${s.name}`).toHaveLength(s.size);
        let worst = 0;
        for (let j = 0; j < s.size; j++)
          worst = Math.max(worst, Math.abs(got[j]! - params[s.offset + j]!) - 1e-5 * Math.abs(params[s.offset + j]!));
        expect(worst, `${p64.objective} ${s.name}: |PyTorch − reference| beyond 1e-5 relative`).toBeLessThanOrEqual(
          1e-12,
        );
      }
      // float32 on both sides, summed in different orders: ~1e-7 relative; 1e-5 fails any real difference.
      const lab5 = steps.find((m) => m.lane === i && m.step === 5)!;
      expect(Math.abs(py32[i]!.loss - lab5.loss), `${p64.objective} float32`).toBeLessThanOrEqual(
        1e-5 * Math.abs(lab5.loss),
      );
      expect(Math.abs(lab5.loss - loss), `${p64.objective}: the GPU's step against the reference`).toBeLessThanOrEqual(
        1e-5 * Math.abs(loss),
      );
    }
  });
});
