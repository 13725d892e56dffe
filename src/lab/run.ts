// One run: the lanes of an experiment trained side by side, step by step, on one device, and evaluated on the same
// held-out examples. The loop owns what happens between steps — pause and stop, evaluations, autosaves, a lane that
// diverged (NaN), a device that was lost — so that Lab (src/lab/lab.ts) stays a thin facade over runs.
import type { GpuContext } from '../engine/gpu';
import { GpuModel } from '../engine/model';
import { checkPlan, PlanError } from '../engine/plan';
import { learningRate, type ModelConfig } from '../model/config';
import { PLAIN_LOSS } from '../model/batch';
import { laneModelConfig, makeObjective } from '../objectives';
import type { Task } from '../tasks/types';
import type { ExperimentSpec } from '../spec/types';
import type { EvalMetrics, LabEvent, LaneResult, LaneState, RunOptions, TimeTo90 } from './api';
import { TrainingClock } from './clock';
import { evaluateLanes, Lane, type LaneKernels } from './lane';
import type { RunStore, SavedRun } from './store';

export class DeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

/** A run over seeds (RunOptions.seeds): whole seeds, each once, and none of what only a single run can do. */
export function checkSeedRun(seeds: readonly number[], options: RunOptions): void {
  if (seeds.length === 0) throw new Error('seeds: give at least one');
  for (const s of seeds)
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff)
      throw new Error(`seeds: ${s} is not a whole number in [0, 2^32)`);
  if (new Set(seeds).size !== seeds.length) throw new Error('seeds: each seed once');
  if (options.resume || options.resumeSaved || options.initialParams || (options.autosaveEvery ?? 0) > 0)
    throw new Error('a run over seeds starts fresh and is not autosaved: no resume, initial weights or autosave');
}

/** The first evaluation at which exact match reached 90%, as step, FLOPs and training seconds; null if none did. */
export function timeTo90(evals: readonly EvalMetrics[]): TimeTo90 | null {
  const hit = evals.find((e) => e.exactMatch >= 0.9);
  return hit ? { step: hit.step, flops: hit.flops, seconds: hit.seconds } : null;
}

/** Where a run starts: fresh, from lane states saved at one step (with their metrics so far), or from weights. */
export interface RunStart {
  resume?: LaneState[];
  history?: SavedRun['history'];
  initialParams?: RunOptions['initialParams'];
}

/**
 * Lanes whose models have one shape (one config), trained as the lanes of one GpuModel: every dispatch of a step does
 * all of their work, and their evaluations share forward passes (evaluateLanes), so that N such lanes cost a GPU
 * about what one does (docs/kernel-notes.md, "Lanes").
 */
interface LaneGroup {
  model: GpuModel;
  /** In slot order: lanes[s] is the model's lane s. */
  lanes: Lane[];
}

export class Run {
  readonly lanes: Lane[];
  private readonly groups: LaneGroup[] = [];
  private paused: { promise: Promise<void>; resume: () => void } | null = null;
  private stopRequested = false;
  private lastSaved: SavedRun | null = null;

  /** Whether a stop was asked for (a run over seeds, one after another, then starts no further seed). */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /**
   * Builds every lane's model on the device (weights from `start` or a fresh init); throws for a bad start. With
   * `seeds` (several), the spec's lanes once per seed, seed after seed, each with that seed's task (`task` is the
   * first's), data, initialisation and test set, as the seed alone would have them.
   */
  constructor(
    private readonly ctx: GpuContext,
    readonly spec: ExperimentSpec,
    readonly task: Task,
    readonly id: string,
    /** The kernels chosen for this device (Lab.kernels). */
    kernels: LaneKernels,
    start: RunStart,
    seeds: readonly { seed: number; task: Task }[] = [{ seed: spec.train.seed, task }],
    /** Tag the metrics with their seed: a run over several seeds, stacked here or one seed after another. */
    tagSeed = seeds.length > 1,
  ) {
    const perSeed = spec.objectives.map((o, i) => makeObjective(o, `objectives[${i}]`));
    const specs = seeds.flatMap((s) =>
      spec.objectives.map((o, i) => ({
        seed: s,
        i,
        objective: perSeed[i]!,
        spec: o,
        train: { ...spec.train, seed: s.seed },
      })),
    );
    const objectives = specs.map((l) => l.objective);
    const configs = specs.map((l) => laneModelConfig(l.seed.task, l.objective, spec.model));
    // Lanes of one config and one loss shape (they share the loss dispatch) share a model, in the order they first
    // appear, where the Lab stacks lanes on this device (LaneKernels.stackLanes) and the stacked model fits its
    // limits (its parameters are one binding); else each lane has its own.
    const { matmul, reduction, activations } = kernels;
    const B = spec.train.batchSize;
    const byConfig = new Map<string, number[]>();
    configs.forEach((cfg, i) => {
      const loss = objectives[i]!.loss?.(specs[i]!.seed.task) ?? PLAIN_LOSS;
      const key = JSON.stringify([cfg, loss.exclude, loss.focalGamma]);
      byConfig.set(key, [...(byConfig.get(key) ?? []), i]);
    });
    const fits = (cfg: ModelConfig, n: number) => {
      try {
        checkPlan(cfg, B, cfg.blockSize, ctx.device.limits, activations, n);
        return true;
      } catch (e) {
        if (e instanceof PlanError) return false;
        throw e;
      }
    };
    const groups = [...byConfig.values()].flatMap((indices) =>
      kernels.stackLanes && fits(configs[indices[0]!]!, indices.length) ? [indices] : indices.map((i) => [i]),
    );
    const lanes: Lane[] = [];
    try {
      for (const indices of groups) {
        const cfg = configs[indices[0]!]!;
        const model = new GpuModel(ctx.device, cfg, {
          batch: B,
          seqLen: cfg.blockSize,
          matmul,
          reduction,
          activations,
          lanes: indices.length,
        });
        const group: LaneGroup = { model, lanes: [] };
        this.groups.push(group);
        model.setGradClip(spec.train.gradClip);
        indices.forEach((i, slot) => {
          const l = specs[i]!;
          const lane = new Lane(model, slot, l.i, l.seed.task, l.objective, l.spec, l.train, tagSeed);
          group.lanes.push(lane);
          lanes[i] = lane;
        });
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
    this.lanes = lanes;
    try {
      this.place(start);
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  private place({ resume, history, initialParams }: RunStart): void {
    if (resume && resume.length > 0) {
      if (resume.length !== this.lanes.length)
        throw new Error(`resume has ${resume.length} lanes, the spec has ${this.lanes.length}`);
      const step = resume[0]!.step;
      if (resume.some((s) => s.step !== step)) throw new Error('resume: every lane must be saved at the same step');
      resume.forEach((s, i) => this.lanes[i]!.restore(s, history?.[i]?.history));
    } else if (initialParams) {
      initialParams.forEach((p, i) => {
        const lane = this.lanes[i];
        if (!p || !lane) return;
        if (p.length !== lane.model.table.total) {
          throw new Error(
            `lane ${i} (${lane.objective.name}): the imported weights have ${p.length} floats, this model needs ` +
              `${lane.model.table.total}; the checkpoint's model config must match the lane's`,
          );
        }
        lane.setParams(p);
      });
    }
  }

  /** The step every lane is at when the loop starts. */
  get firstStep(): number {
    return this.lanes[0]?.step ?? 0;
  }

  /**
   * Train to min(spec.train.steps, options.stopAtStep), evaluating every spec.evalEvery steps and once at the end,
   * autosaving every options.autosaveEvery steps and at the end. Events stream through onEvent. A lane whose loss
   * or gradient becomes non-finite stops (its weights stay at the last finite step) while the others go on. A lost
   * device ends the run with DeviceLostError, after saving the last autosave with a note.
   */
  async train(store: RunStore, onEvent: (e: LabEvent) => void, options: RunOptions): Promise<LaneResult[]> {
    const { spec, task } = this;
    let deviceLost: string | null = null;
    void this.ctx.lost.then((m) => (deviceLost = m));
    const autosaveEvery = options.autosaveEvery ?? 0;
    try {
      const clock = new TrainingClock();
      const totalFlops = this.lanes.reduce((a, l) => a + l.flopsPerStep, 0);
      for (const l of this.lanes) {
        l.clock = clock;
        l.share = l.flopsPerStep / totalFlops;
      }
      // Waits for the GPU to finish the steps submitted so far, so that their time is on the clock.
      const settle = async () => {
        for (const g of this.groups) await g.model.flush();
        clock.stop();
      };
      // Each lane's own task's test set (a run over seeds: its seed's).
      const testSet = (l: Lane) => l.task.test.slice(0, Math.max(1, spec.evalExamples));
      onEvent({ type: 'state', state: 'running' });
      onEvent({
        type: 'log',
        message: `${task.name}${this.lanes.some((l) => l.tagSeed) ? ` (${this.lanes.length / spec.objectives.length} seeds)` : ''}: ${this.groups.map(({ model, lanes }) => `${lanes.map((l) => l.objective.name).join(' + ')} (T=${model.T}, ${(model.plan.totalBytes / 2 ** 20).toFixed(1)} MiB${lanes.length > 1 ? `, ${lanes.length} lanes in the same dispatches` : ''})`).join(', ')}`,
      });
      // The step of the last evaluation: a run that stops right after one does not evaluate the same weights twice.
      let evaluatedAt = -1;
      const evalAll = async (step: number) => {
        if (step === evaluatedAt) return;
        evaluatedAt = step;
        // A model's lanes together: one forward pass serves all of them (evaluateLanes). The events go out in lane
        // order, each as soon as the lanes before it have gone.
        const live = this.lanes.filter((l) => !l.failure);
        const done = new Map<Lane, EvalMetrics>();
        let next = 0;
        for (const { lanes } of this.groups) {
          const evaluated = lanes.filter((l) => !l.failure);
          (await evaluateLanes(evaluated, testSet)).forEach((m, i) => done.set(evaluated[i]!, m));
          for (; next < live.length && done.has(live[next]!); next++)
            onEvent({ type: 'eval', metrics: done.get(live[next]!)! });
        }
      };
      const lastStep = Math.min(spec.train.steps, options.stopAtStep ?? Infinity);
      let step = this.firstStep;
      for (; step < lastStep; step++) {
        const gate = this.paused?.promise;
        if (gate) {
          await settle();
          onEvent({ type: 'state', state: 'paused' });
          await gate;
          if (!this.stopRequested) onEvent({ type: 'state', state: 'running' });
        }
        if (this.stopRequested) break;
        if (deviceLost) throw new DeviceLostError(deviceLost);
        const active = this.lanes.filter((l) => !l.failure);
        if (active.length === 0) break;
        clock.start();
        // One step of each model: all of its lanes' work in the same dispatches, each lane on its own batch. A
        // failed lane takes no batch and is frozen (its weights stay at its last finite step).
        const lr = learningRate(spec.train, step);
        for (const { model, lanes } of this.groups) {
          if (lanes.every((l) => l.failure)) continue;
          const batches = lanes.map((l) => (l.failure ? null : l.nextBatch()));
          const { stats } = await model.stepLanes(batches, lr, spec.train);
          lanes.forEach((lane, slot) => {
            if (!batches[slot]) return;
            const { done } = lane.stepSubmitted(
              lr,
              stats.then((s) => s[slot]!),
            );
            void done.then(
              ({ stats, metrics }) => {
                if (stats.finite && Number.isFinite(stats.loss)) return onEvent({ type: 'step', metrics });
                if (lane.failure) return;
                lane.freeze();
                lane.failure =
                  `${lane.objective.name}: the ${!Number.isFinite(stats.loss) ? 'loss' : 'gradient norm'} became ` +
                  `${Number.isNaN(stats.loss) || Number.isNaN(stats.gradNorm) ? 'NaN' : 'infinite'} at step ${metrics.step}. ` +
                  `The learning rate (${spec.train.lr}) is the likely cause; the weights were kept from the last finite step.`;
                onEvent({ type: 'log', message: lane.failure });
              },
              () => {
                /* a readback that fails because the device was lost; the loop reports the loss */
              },
            );
          });
        }
        const s = step + 1;
        const evalDue = s % spec.evalEvery === 0 && s < lastStep;
        const saveDue = autosaveEvery > 0 && s % autosaveEvery === 0 && s < lastStep;
        if (evalDue || saveDue) await settle();
        if (evalDue) await evalAll(s);
        if (saveDue) await this.autosave(store, spec, onEvent);
      }
      await settle();
      await evalAll(step);
      const failures = this.lanes.filter((l) => l.failure).map((l) => l.failure);
      if (autosaveEvery > 0)
        await this.autosave(store, spec, onEvent, failures.length ? failures.join('\n') : undefined);
      const results = this.results();
      onEvent({
        type: 'state',
        state: this.stopRequested ? 'stopped' : failures.length ? 'error' : 'done',
        ...(failures.length ? { message: failures.join('\n') } : {}),
      });
      return results;
    } catch (e) {
      // A lost device makes any pending GPU call fail; give its lost promise a moment to say so.
      deviceLost ??= await Promise.race([this.ctx.lost, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
      let message = e instanceof Error ? e.message : String(e);
      let thrown = e;
      if (deviceLost) {
        const saved = this.lastSaved;
        message =
          `${deviceLost}. ` +
          (saved
            ? `The run was autosaved at step ${saved.step}; resume it (id ${saved.id}) on a new device.`
            : 'No autosave had been made yet; the run must start again.');
        if (saved) await store.save({ ...saved, note: deviceLost });
        thrown = new DeviceLostError(message);
      }
      onEvent({ type: 'state', state: 'error', message });
      throw thrown;
    }
  }

  private async autosave(
    store: RunStore,
    spec: ExperimentSpec,
    onEvent: (e: LabEvent) => void,
    note?: string,
  ): Promise<void> {
    const states = [];
    for (const l of this.lanes) states.push(await l.snapshot());
    const saved: SavedRun = {
      id: this.id,
      savedAt: Date.now(),
      spec,
      step: states[0]!.step,
      states,
      history: this.results().map(({ lane, objective, history }) => ({ lane, objective, history })),
      ...(note ? { note } : {}),
    };
    await store.save(saved);
    this.lastSaved = saved;
    onEvent({ type: 'saved', runId: this.id, step: saved.step });
  }

  results(): LaneResult[] {
    return this.lanes.map((l) => {
      const ev = l.evals[l.evals.length - 1];
      return {
        lane: l.index,
        ...l.seedTag(),
        objective: l.objective.name,
        objectiveSpec: l.spec,
        steps: l.step,
        flops: l.flops,
        seconds: l.seconds,
        finalLoss: l.lastLoss,
        exactMatch: ev?.exactMatch ?? 0,
        exactMatchInterval: ev?.exactMatchInterval ?? [0, 1],
        examples: ev?.examples ?? 0,
        decisionTokenAccuracy: ev?.decisionTokenAccuracy ?? null,
        perPosition: ev?.perPosition ?? { teacherForced: [], freeRunning: [] },
        ...(ev?.probes ? { probes: ev.probes } : {}),
        validWrongFraction: ev?.validWrongFraction ?? null,
        heldOutLoss: ev?.heldOutLoss ?? NaN,
        timeTo90: timeTo90(l.evals),
        ...(l.failure ? { failure: l.failure } : {}),
        history: { steps: l.steps, evals: l.evals },
      };
    });
  }

  pause(): void {
    if (this.paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.paused = { promise, resume };
  }

  resume(): void {
    const p = this.paused;
    this.paused = null;
    p?.resume();
  }

  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  destroy(): void {
    for (const g of this.groups) g.model.destroy();
  }
}
