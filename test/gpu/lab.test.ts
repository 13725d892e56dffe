// The Lab end to end in Node over Dawn: every objective trains through the real engine, runs are deterministic,
// a stopped run resumes exactly, and a non-finite loss stops its lane with a message and keeps the weights.
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { isLavapipe, isSwiftShader, MemoryVariantCache } from '../../src/engine/adapter';
import { LAVAPIPE_VARIANT, MATMUL_VARIANTS, SOFTWARE_VARIANT } from '../../src/engine/matmul-variants';
import { GpuModel } from '../../src/engine/model';
import { nodeGpu } from '../../src/engine/node-gpu';
import { REDUCTION_VARIANTS, THREAD_ROWS } from '../../src/engine/reduction-variants';
import type { ExperimentSpec, LabEvent, LaneState, StepMetrics } from '../../src/lab/api';
import { Lab } from '../../src/lab/lab';
import { DEFAULT_TRAIN } from '../../src/model/config';
import { DEFAULT_OBJECTIVES } from '../../src/objectives';
import { presetKernelChoices } from './helpers';

// Lanes of one shape stacked in the same dispatches, as on a GPU (a CPU adapter's default is a model per lane): the
// runs below exercise both, this Lab and the fresh one in the device-loss test.
// The kernels chosen once and kept here, so that a second Lab on this adapter (a model per lane) runs the same ones:
// the untimed presets (helpers.ts, presetKernelChoices), as these tests are about runs, not about which kernels win.
const variantCache = new MemoryVariantCache();
const lab = new Lab({ gpu: nodeGpu, stackLanes: true, variantCache });
beforeAll(() => presetKernelChoices(variantCache));

function spec(over: Partial<ExperimentSpec> = {}): ExperimentSpec {
  return {
    task: { kind: 'path-star', degree: 2, pathLength: 3, nodes: 12, trainSize: 0, testSize: 24 },
    objectives: [{ kind: 'ntp' }],
    model: { nLayer: 1, nEmbd: 16, nHead: 2 },
    train: { ...DEFAULT_TRAIN, batchSize: 8, steps: 6, warmupSteps: 2, lr: 3e-3 },
    evalEvery: 3,
    evalExamples: 12,
    ...over,
  };
}

async function collect(s: ExperimentSpec, stopAtStep?: number, resume?: LaneState[]) {
  const events: LabEvent[] = [];
  const results = await lab.run(s, (e) => events.push(e), {
    ...(resume ? { resume } : {}),
    ...(stopAtStep ? { stopAtStep } : {}),
  });
  const steps = events
    .filter((e): e is { type: 'step'; metrics: StepMetrics } => e.type === 'step')
    .map((e) => e.metrics);
  return { events, results, steps };
}

describe('Lab over Dawn', () => {
  test('the adapter report names the matmul kernels chosen for it, and how', async () => {
    const report = await lab.adapter();
    expect(report.matmulVariant).not.toBeNull();
    const { name, source } = report.matmulVariant!;
    expect(MATMUL_VARIANTS.map((v) => v.name)).toContain(name);
    if (isSwiftShader(report)) expect([name, source]).toEqual([SOFTWARE_VARIANT.name, 'known']);
    else if (isLavapipe(report)) expect([name, source]).toEqual([LAVAPIPE_VARIANT.name, 'known']);
    else expect(['timed', 'cached']).toContain(source);
  });

  test('the adapter report names the row reductions chosen for it: timed where a GPU has subgroups', async () => {
    const report = await lab.adapter();
    const { name, source } = report.reductionVariant!;
    expect(REDUCTION_VARIANTS.map((v) => v.name)).toContain(name);
    if (!report.features.includes('subgroups')) expect([name, source]).toEqual([THREAD_ROWS.name, 'unavailable']);
    else if (isSwiftShader(report) || isLavapipe(report)) expect([name, source]).toEqual([THREAD_ROWS.name, 'known']);
    else expect(['timed', 'cached']).toContain(source);
  });

  test('the adapter report names how the MLP activations are stored: f32 without shader-f16 and on lavapipe, else timed', async () => {
    const report = await lab.adapter();
    const { name, source } = report.activationStorage!;
    if (!report.features.includes('shader-f16')) expect([name, source]).toEqual(['f32', 'unavailable']);
    else if (isLavapipe(report)) expect([name, source]).toEqual(['f32', 'known']);
    else {
      expect(['f32', 'f16']).toContain(name);
      expect(['timed', 'cached']).toContain(source);
    }
  });

  test('every objective trains and is evaluated on the same data', async () => {
    const s = spec({
      objectives: [...DEFAULT_OBJECTIVES].map((o) =>
        o.kind === 'mtp' ? { ...o, heads: 2 } : o.kind === 'diffusion' ? { ...o, decodeSteps: 3 } : o,
      ),
    });
    const { events, results, steps } = await collect(s);
    expect(results.map((r) => r.objective)).toEqual(['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion']);
    for (const r of results) {
      expect(r.steps).toBe(6);
      expect(Number.isFinite(r.finalLoss)).toBe(true);
      expect(r.flops).toBeGreaterThan(0);
      expect(r.exactMatch).toBeGreaterThanOrEqual(0);
      expect(r.exactMatch).toBeLessThanOrEqual(1);
      expect(r.perPosition.teacherForced).toHaveLength(3);
      expect(r.perPosition.freeRunning).toHaveLength(3);
      expect(r.decisionTokenAccuracy).not.toBeNull();
      expect(r.history.evals.map((e) => e.step)).toEqual([3, 6]);
    }
    expect(steps.filter((m) => m.lane === 0).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[events.length - 1]).toMatchObject({ type: 'state', state: 'done' });
    // The next-token lanes differ only in targets: MTP's extra heads cost FLOPs, which are reported.
    expect(results[3]!.flops).toBeGreaterThan(results[0]!.flops);
    const views = await lab.examples(2);
    expect(views).toHaveLength(2);
    expect(views[0]!.predictions.map((p) => p.objective)).toEqual([
      'ntp',
      'reverse',
      'teacherless',
      'mtp',
      'diffusion',
    ]);
    expect(views[0]!.predictions[4]!.commitStep).toHaveLength(3);
    // Two requests at once (the page asking for examples while another request decodes): each decodes as it would alone.
    const [again, shifted] = await Promise.all([lab.examples(2), lab.examples(2, 1)]);
    expect(again).toEqual(views);
    expect(shifted).toEqual(await lab.examples(2, 1));
  });

  test('lanes of one model are evaluated together, one forward pass for all, as a model per lane evaluates them', async () => {
    // ntp, reverse and teacherless have one shape (one stacked model); mtp's extra head makes a model of its own.
    const s = spec({
      objectives: [{ kind: 'ntp' }, { kind: 'mtp', heads: 2 }, { kind: 'reverse' }, { kind: 'teacherless' }],
    });
    const passes = vi.spyOn(GpuModel.prototype, 'forwardLanes');
    const evals = (events: LabEvent[]) =>
      events.flatMap((e) => (e.type === 'eval' ? [{ ...e.metrics, seconds: 0 }] : []));
    try {
      const stacked = await collect(s);
      const stackedPasses = passes.mock.calls.map(([asked]) => asked.map((a) => a.lane));
      passes.mockClear();
      const apart = new Lab({ gpu: nodeGpu, stackLanes: false, variantCache });
      const events: LabEvent[] = [];
      await apart.run(s, (e) => events.push(e));
      const apartPasses = passes.mock.calls.map(([asked]) => asked.map((a) => a.lane));
      // The same metrics (training is bit for bit the same; only the clock differs), in lane order.
      expect(evals(stacked.events)).toEqual(evals(events));
      expect(evals(events).map((m) => [m.step, m.lane])).toEqual(
        [3, 6].flatMap((st) => [0, 1, 2, 3].map((l) => [st, l])),
      );
      // Apart, one lane a pass; stacked, the three lanes of one model share passes (slots 0, 1, 2 of it).
      expect(apartPasses.every((lanes) => lanes.length === 1)).toBe(true);
      expect(stackedPasses.some((lanes) => lanes.length === 3)).toBe(true);
      expect(stackedPasses.length).toBeLessThan(apartPasses.length);
    } finally {
      passes.mockRestore();
    }
  });

  test('the same config and seed give the same losses and weights', async () => {
    const a = await collect(spec());
    const wa = (await lab.snapshot(0)).params;
    const b = await collect(spec());
    const wb = (await lab.snapshot(0)).params;
    expect(b.steps.map((m) => m.loss)).toEqual(a.steps.map((m) => m.loss));
    expect(Buffer.from(wb.buffer).equals(Buffer.from(wa.buffer))).toBe(true);
    const c = await collect(spec({ train: { ...spec().train, seed: 2 } }));
    expect(c.steps.map((m) => m.loss)).not.toEqual(a.steps.map((m) => m.loss));
  });

  test('stop at step k, resume, continue to 2k: the losses match an uninterrupted run', async () => {
    const s = spec({
      train: { ...spec().train, steps: 8 },
      objectives: [{ kind: 'ntp' }, { kind: 'diffusion', decodeSteps: 3, variant: 'mdlm' }],
    });
    const full = await collect(s);
    const half = await collect(s, 4);
    expect(half.results[0]!.steps).toBe(4);
    const saved = [await lab.snapshot(0), await lab.snapshot(1)];
    const rest = await collect(s, undefined, saved);
    const joined = [...half.steps, ...rest.steps].sort((x, y) => x.lane - y.lane || x.step - y.step).map((m) => m.loss);
    expect(joined).toEqual(full.steps.sort((x, y) => x.lane - y.lane || x.step - y.step).map((m) => m.loss));
    // Training time carries over the resume; every step reports a finite, positive rate.
    expect(saved[0]!.seconds).toBeGreaterThan(0);
    expect(rest.results[0]!.seconds).toBeGreaterThan(saved[0]!.seconds!);
    for (const m of [...half.steps, ...rest.steps])
      expect(Number.isFinite(m.tokensPerSecond) && m.tokensPerSecond > 0).toBe(true);
  });

  test('a non-finite loss stops the lane with the step and the likely cause, and keeps the weights', async () => {
    const s = spec({ objectives: [{ kind: 'ntp' }, { kind: 'reverse' }] });
    await collect(s, 2);
    const good = await lab.snapshot(0);
    const bad: LaneState = { ...good, params: good.params.slice() };
    bad.params[0] = NaN; // a blown-up weight in the embedding poisons every forward pass
    const { events, results } = await collect(s, undefined, [bad, await lab.snapshot(1)]);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ type: 'state', state: 'error' });
    expect((last as { message: string }).message).toMatch(
      /ntp: the loss became NaN at step 3\. The learning rate \(0\.003\) is the likely cause/,
    );
    // The two lanes have one shape: they train as two lanes of one model, in the same dispatches (run.ts).
    const sameDispatches = /ntp \+ reverse \(T=\d+, [\d.]+ MiB, 2 lanes in the same dispatches\)/;
    expect(events.some((e) => e.type === 'log' && sameDispatches.test(e.message))).toBe(true);
    expect(results[1]!.steps).toBe(6); // the healthy lane finished
    expect(results[0]!.failure).toMatch(/ntp: the loss became NaN at step 3/);
    expect(results[1]!.failure).toBeUndefined();
    const kept = await lab.snapshot(0);
    // Every update after the blow-up was skipped: the weights are still those it was resumed with.
    expect(Array.from(kept.params.subarray(1))).toEqual(Array.from(bad.params.subarray(1)));
  });

  test('device lost mid-run: the error names the autosave, and the run resumes on a new device exactly', async () => {
    const s = spec({ train: { ...spec().train, steps: 10 }, objectives: [{ kind: 'ntp' }, { kind: 'teacherless' }] });
    const full = await collect(s);
    const events: LabEvent[] = [];
    let lost = false;
    const failed = lab.run(
      s,
      (e) => {
        events.push(e);
        if (e.type === 'saved' && e.step === 4 && !lost) {
          lost = true;
          void lab.simulateDeviceLoss();
        }
      },
      { autosaveEvery: 2, runId: 'lost-run' },
    );
    await expect(failed).rejects.toThrow(/GPU device lost.*autosaved at step 4; resume it \(id lost-run\)/);
    const saved = await lab.savedRuns();
    expect(saved.find((r) => r.id === 'lost-run')).toMatchObject({ step: 4, note: expect.stringMatching(/lost/) });
    const resumed: LabEvent[] = [];
    const results = await lab.run(s, (e) => resumed.push(e), { resumeSaved: 'lost-run', autosaveEvery: 5 });
    expect(results[0]!.steps).toBe(10);
    // The resumed lanes carry the history from before the loss, so their curves are whole.
    const losses = (r: typeof results) => r.flatMap((x) => x.history.steps.map((m) => m.loss));
    expect(losses(results)).toEqual(losses(full.results));
    expect((await lab.savedRuns()).find((r) => r.id === 'lost-run')!.step).toBe(10);
    await lab.deleteSavedRun('lost-run');
    expect((await lab.savedRuns()).find((r) => r.id === 'lost-run')).toBeUndefined();
  });

  test('export, inspect and import: evaluate an imported model, bad files refused without touching the run', async () => {
    const s = spec();
    const trained = await collect(s);
    const files = await lab.exportLane(0);
    expect(files.stem).toBe('lane0-ntp');
    const plain = await lab.inspectCheckpoint(files.model);
    expect(plain).toMatchObject({ objective: 'ntp', step: 6, resume: null });
    const full = await lab.inspectCheckpoint(files.model, files.optimizer);
    expect(full.resume!.spec).toEqual(s);
    // Evaluate only (stopAtStep 0) from the imported weights: the same test metrics as the trained lane.
    const events: LabEvent[] = [];
    const results = await lab.run(s, (e) => events.push(e), { initialParams: [plain.params], stopAtStep: 0 });
    expect(results[0]!.steps).toBe(0);
    expect(results[0]!.exactMatch).toBe(trained.results[0]!.exactMatch);
    expect(results[0]!.perPosition).toEqual(trained.results[0]!.perPosition);
    const zip = await lab.exportBundle();
    expect(zip.length).toBeGreaterThan(files.model.length);
    // Corrupt input is refused with a reason, and the lab's current lanes are untouched.
    const before = await lab.snapshot(0);
    await expect(lab.inspectCheckpoint(files.model.slice(0, 100))).rejects.toThrow(/truncated|header|offsets|bytes/);
    await expect(lab.inspectCheckpoint(files.model, files.model)).rejects.toThrow(/optimizer/);
    expect((await lab.snapshot(0)).params).toEqual(before.params);
    const wrong = new Float32Array(10);
    await expect(lab.run(s, () => {}, { initialParams: [wrong], stopAtStep: 0 })).rejects.toThrow(
      /imported weights have 10 floats/,
    );
  });

  test('a run stopped right after an evaluation ends without evaluating the same weights again', async () => {
    const s = spec({ objectives: [{ kind: 'ntp' }, { kind: 'reverse' }] });
    const events: LabEvent[] = [];
    const results = await lab.run(s, (e) => {
      events.push(e);
      if (e.type === 'eval') void lab.stop();
    });
    const evals = events.filter((e) => e.type === 'eval').map((e) => [e.metrics.lane, e.metrics.step]);
    expect(evals).toEqual([
      [0, 3],
      [1, 3],
    ]);
    expect(results.map((r) => r.history.evals.map((e) => e.step))).toEqual([[3], [3]]);
    expect(events[events.length - 1]).toMatchObject({ type: 'state', state: 'stopped' });
  });

  test('checking a spec opens no device; the first run does', async () => {
    const real = await nodeGpu();
    let devices = 0;
    const counting = {
      requestAdapter: async (o?: GPURequestAdapterOptions) => {
        const adapter = await real.requestAdapter(o);
        if (!adapter) return null;
        return new Proxy(adapter, {
          get(target, key) {
            if (key === 'requestDevice') devices++;
            const value = Reflect.get(target, key) as unknown;
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
      },
    } as unknown as GPU;
    const fresh = new Lab({ gpu: () => counting, variantCache });
    expect(await fresh.check(spec())).toEqual([]);
    // Too big for any adapter's binding limit: the adapter's limits were read without a device.
    const big = await fresh.check(
      spec({ model: { nLayer: 1, nEmbd: 4096, nHead: 4 }, train: { ...spec().train, batchSize: 4096 } }),
    );
    expect(big.map((i) => i.field)).toContain('train.batchSize');
    expect(devices).toBe(0);
    await fresh.run(spec({ train: { ...spec().train, steps: 1 } }), () => {});
    expect(devices).toBe(1);
  });

  test('a spec with problems is refused with field-level messages', async () => {
    const issues = await lab.check(
      spec({
        task: { kind: 'path-star', degree: 5, pathLength: 5, nodes: 10, trainSize: 0, testSize: 10 },
        model: { nLayer: 1, nEmbd: 18, nHead: 4 },
      }),
    );
    expect(issues.map((i) => i.field)).toContain('model.nEmbd');
    expect(issues.map((i) => i.field)).toContain('task.nodes');
    await expect(lab.run(spec({ evalEvery: 0 }), () => {})).rejects.toThrow(/evalEvery/);
  });
});
