// The lab: the one implementation of LabApi. The page talks to it through Comlink (workers/lab.worker.ts); the
// command line and the tests construct it directly with Dawn's GPU. It owns the device and the lanes of a run.
import { acquireGpu, WebGpuUnavailableError, type GpuContext } from '../engine/gpu';
import { chooseMatmulVariant, type VariantCache, type VariantChoice } from '../engine/matmul-variants';
import { checkPlan, PlanError } from '../engine/plan';
import { ConfigError, validateTrainConfig } from '../model/config';
import { makeObjective, ObjectiveSpecError } from '../objectives';
import { makeTask, taskSpecIssues, TaskSpecError } from '../tasks';
import type { Task } from '../tasks/types';
import type {
  AdapterReport,
  EvalMetrics,
  ExampleView,
  ExperimentSpec,
  ImportedCheckpoint,
  LabApi,
  LabEvent,
  LaneResult,
  LaneState,
  RunOptions,
  SpecIssue,
  TimeTo90,
} from './api';
import { makeBundle } from '../checkpoint/bundle';
import { filesToLaneState, laneFileStem, laneToFiles } from '../checkpoint/lane-files';
import { importModel } from '../checkpoint/safetensors';
import { Lane, laneModelConfig } from './lane';
import { IdbRunStore, IdbVariantCache, MemoryRunStore, type RunStore, type SavedRun, type SavedRunInfo } from './store';

/** WebGPU's default limits: what a spec is checked against before a device exists. */
const DEFAULT_LIMITS = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBuffersPerShaderStage: 8,
};

export interface LabOptions {
  /** Where the GPU comes from: navigator.gpu in a browser (the default), Dawn's GPU in Node. */
  gpu?: () => GPU | undefined | Promise<GPU | undefined>;
  /** Where runs are autosaved: IndexedDB where it exists (the default), else memory. */
  store?: RunStore;
  /** Where the matmul variant timed for an adapter is kept: IndexedDB where it exists (the default), else memory. */
  variantCache?: VariantCache;
}

export class DeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

const stopAtStepOf = (o: RunOptions): number => o.stopAtStep ?? Infinity;

/** Wall time of training only: stopped while evaluating, autosaving or paused. */
class TrainingClock {
  private total = 0;
  private since: number | null = null;
  start(): void {
    this.since ??= performance.now();
  }
  stop(): void {
    if (this.since !== null) this.total += performance.now() - this.since;
    this.since = null;
  }
  /** Seconds. */
  elapsed(): number {
    return (this.total + (this.since !== null ? performance.now() - this.since : 0)) / 1000;
  }
}

function issueOf(e: unknown, fallbackField: string): SpecIssue {
  if (e instanceof TaskSpecError) return { field: e.field, message: e.reason };
  if (e instanceof ObjectiveSpecError) return { field: e.field, message: e.reason };
  if (e instanceof ConfigError) return { field: e.field, message: e.message };
  return { field: fallbackField, message: e instanceof Error ? e.message : String(e) };
}

export class Lab implements LabApi {
  private ctx: Promise<GpuContext> | null = null;
  private lanes: Lane[] = [];
  private task: Task | null = null;
  private spec: ExperimentSpec | null = null;
  private paused: { promise: Promise<void>; resume: () => void } | null = null;
  private stopRequested = false;
  private running = false;
  private runStore: RunStore | null = null;

  /** How the current device's matmul variant was chosen (for the adapter report). */
  private variantChoice: VariantChoice | null = null;

  constructor(private readonly options: LabOptions = {}) {}

  private gpu(): Promise<GpuContext> {
    if (this.ctx) return this.ctx;
    const p = (async () => {
      const provider = this.options.gpu ?? (() => (typeof navigator !== 'undefined' ? navigator.gpu : undefined));
      const ctx = await acquireGpu(await provider());
      // Before any model is built on the device: the matmul kernels for this adapter (timed once, then cached).
      const cache = this.options.variantCache ?? (typeof indexedDB !== 'undefined' ? new IdbVariantCache() : undefined);
      this.variantChoice = await chooseMatmulVariant(ctx.device, ctx.adapterInfo, cache ? { cache } : {});
      // After a loss the next call acquires a new device.
      void ctx.lost.then(() => {
        if (this.ctx === p) this.ctx = null;
      });
      return ctx;
    })();
    this.ctx = p;
    // A failed acquisition can be retried (e.g. after the user enables a flag).
    p.catch(() => {
      if (this.ctx === p) this.ctx = null;
    });
    return p;
  }

  private get store(): RunStore {
    this.runStore ??= this.options.store ?? (typeof indexedDB !== 'undefined' ? new IdbRunStore() : new MemoryRunStore());
    return this.runStore;
  }

  async savedRuns(): Promise<SavedRunInfo[]> {
    return this.store.list();
  }

  async loadSavedRun(id: string): Promise<SavedRun | null> {
    return this.store.load(id);
  }

  async deleteSavedRun(id: string): Promise<void> {
    await this.store.delete(id);
  }

  async storageEstimate(): Promise<{ usage: number; quota: number } | null> {
    if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return null;
    const e = await navigator.storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  }

  async simulateDeviceLoss(): Promise<void> {
    const ctx = await this.ctx;
    ctx?.device.destroy();
  }

  async adapter(): Promise<AdapterReport> {
    const ctx = await this.gpu();
    const l = ctx.device.limits;
    const choice = this.variantChoice;
    return {
      ...ctx.adapterInfo,
      matmulVariant: choice ? { name: choice.variant.name, source: choice.source } : null,
      limits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxBufferSize: l.maxBufferSize,
      },
      features: ctx.features,
    };
  }

  async check(spec: ExperimentSpec): Promise<SpecIssue[]> {
    let limits = DEFAULT_LIMITS;
    try {
      limits = (await this.gpu()).device.limits;
    } catch (e) {
      if (!(e instanceof WebGpuUnavailableError)) throw e;
    }
    return checkSpec(spec, limits);
  }

  async run(spec: ExperimentSpec, onEvent: (e: LabEvent) => void, options: RunOptions = {}): Promise<LaneResult[]> {
    if (this.running) throw new Error('a run is already in progress; stop it first');
    let resume = options.resume;
    let history: SavedRun['history'] | undefined;
    let runId = options.runId ?? `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
    if (options.resumeSaved) {
      const saved = await this.store.load(options.resumeSaved);
      if (!saved) throw new Error(`no saved run with id ${options.resumeSaved} (it may have been deleted)`);
      ({ spec, history } = saved);
      resume = saved.states;
      runId = saved.id;
    }
    const issues = await this.check(spec);
    if (issues.length > 0) throw new Error(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
    const ctx = await this.gpu();
    this.running = true;
    this.stopRequested = false;
    this.paused = null;
    let deviceLost: string | null = null;
    void ctx.lost.then((m) => (deviceLost = m));
    let lastSaved: SavedRun | null = null;
    const autosaveEvery = options.autosaveEvery ?? 0;
    try {
      for (const l of this.lanes) l.destroy();
      this.lanes = [];
      const task = makeTask(spec.task, spec.train.seed);
      this.task = task;
      this.spec = spec;
      const matmul = this.variantChoice?.variant;
      if (!matmul) throw new Error('no matmul variant was chosen for this device');
      this.lanes = spec.objectives.map(
        (o, i) => new Lane(ctx.device, matmul, i, task, makeObjective(o, `objectives[${i}]`), o, spec.model, spec.train),
      );
      let firstStep = 0;
      if (resume && resume.length > 0) {
        if (resume.length !== this.lanes.length) throw new Error(`resume has ${resume.length} lanes, the spec has ${this.lanes.length}`);
        firstStep = resume[0]!.step;
        if (resume.some((s) => s.step !== firstStep)) throw new Error('resume: every lane must be saved at the same step');
        resume.forEach((s, i) => this.lanes[i]!.restore(s, history?.[i]?.history));
      } else if (options.initialParams) {
        options.initialParams.forEach((p, i) => {
          const lane = this.lanes[i];
          if (!p || !lane) return;
          if (p.length !== lane.model.table.total) {
            throw new Error(`lane ${i} (${lane.objective.name}): the imported weights have ${p.length} floats, this model needs ${lane.model.table.total}; the checkpoint's model config must match the lane's`);
          }
          lane.model.setParams(p);
        });
      }
      const clock = new TrainingClock();
      const totalFlops = this.lanes.reduce((a, l) => a + l.flopsPerStep, 0);
      for (const l of this.lanes) {
        l.clock = clock;
        l.share = l.flopsPerStep / totalFlops;
      }
      // Waits for the GPU to finish the steps submitted so far, so that their time is on the clock.
      const settle = async () => {
        for (const l of this.lanes) await l.model.flush();
        clock.stop();
      };
      const testSet = task.test.slice(0, Math.max(1, spec.evalExamples));
      onEvent({ type: 'state', state: 'running' });
      onEvent({
        type: 'log',
        message: `${task.name}: ${this.lanes.map((l) => `${l.objective.name} (T=${l.T}, ${(l.model.plan.totalBytes / 2 ** 20).toFixed(1)} MiB)`).join(', ')}`,
      });
      const evalAll = async () => {
        for (const lane of this.lanes) {
          if (lane.failure) continue;
          onEvent({ type: 'eval', metrics: await lane.evaluate(testSet) });
        }
      };
      const autosave = async (note?: string) => {
        const states = [];
        for (const l of this.lanes) states.push(await l.snapshot());
        lastSaved = {
          id: runId,
          savedAt: Date.now(),
          spec,
          step: states[0]!.step,
          states,
          history: this.results().map(({ lane, objective, history }) => ({ lane, objective, history })),
          ...(note ? { note } : {}),
        };
        await this.store.save(lastSaved);
        onEvent({ type: 'saved', runId, step: lastSaved.step });
      };
      const lastStep = Math.min(spec.train.steps, stopAtStepOf(options));
      for (let step = firstStep; step < lastStep; step++) {
        const gate = this.pauseGate();
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
        for (const lane of active) {
          const { done } = await lane.trainStep();
          void done.then(
            ({ stats, metrics }) => {
              if (stats.finite && Number.isFinite(stats.loss)) return onEvent({ type: 'step', metrics });
              if (lane.failure) return;
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
        }
        const s = step + 1;
        const evalDue = s % spec.evalEvery === 0 && s < lastStep;
        const saveDue = autosaveEvery > 0 && s % autosaveEvery === 0 && s < lastStep;
        if (evalDue || saveDue) await settle();
        if (evalDue) await evalAll();
        if (saveDue) await autosave();
      }
      await settle();
      await evalAll();
      const failures = this.lanes.filter((l) => l.failure).map((l) => l.failure);
      if (autosaveEvery > 0) await autosave(failures.length ? failures.join('\n') : undefined);
      const results = this.results();
      onEvent({
        type: 'state',
        state: this.stopRequested ? 'stopped' : failures.length ? 'error' : 'done',
        ...(failures.length ? { message: failures.join('\n') } : {}),
      });
      return results;
    } catch (e) {
      // A lost device makes any pending GPU call fail; give its lost promise a moment to say so.
      deviceLost ??= await Promise.race([ctx.lost, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
      let message = e instanceof Error ? e.message : String(e);
      let thrown = e;
      if (deviceLost) {
        this.ctx = null;
        const saved = lastSaved as SavedRun | null;
        message =
          `${deviceLost}. ` +
          (saved
            ? `The run was autosaved at step ${saved.step}; resume it (id ${saved.id}) on a new device.`
            : 'No autosave had been made yet; the run must start again.');
        if (saved) await this.store.save({ ...saved, note: deviceLost });
        thrown = new DeviceLostError(message);
      }
      onEvent({ type: 'state', state: 'error', message });
      throw thrown;
    } finally {
      this.running = false;
      this.paused = null;
    }
  }

  private results(): LaneResult[] {
    return this.lanes.map((l) => {
      const ev = l.evals[l.evals.length - 1];
      return {
        lane: l.index,
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
        validWrongFraction: ev?.validWrongFraction ?? null,
        heldOutLoss: ev?.heldOutLoss ?? NaN,
        timeTo90: timeTo90(l.evals),
        history: { steps: l.steps, evals: l.evals },
      };
    });
  }

  /** Resolves when the run may go on; null when it is not paused. */
  private pauseGate(): Promise<void> | null {
    return this.paused?.promise ?? null;
  }

  async pause(): Promise<void> {
    if (!this.running || this.paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.paused = { promise, resume };
  }

  async resume(): Promise<void> {
    const p = this.paused;
    this.paused = null;
    p?.resume();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.resume();
  }

  async examples(count: number, offset = 0): Promise<ExampleView[]> {
    const task = this.task;
    if (!task || this.lanes.length === 0) return [];
    // Decoding shares the lanes' buffers while a run goes on: each forward pass writes its inputs and submits its
    // work in one synchronous stretch, so the GPU queue orders it against training steps, and GpuModel.forward
    // serves one call at a time, so it never maps the staging buffer twice (test/gpu/model-parity.test.ts).
    const picked = task.test.slice(offset, offset + Math.max(0, Math.min(count, 64)));
    if (picked.length === 0) return [];
    const views: ExampleView[] = picked.map((ex) => ({ prompt: ex.prompt, target: ex.target, vocab: task.vocab, predictions: [] }));
    for (const lane of this.lanes) {
      const decoded = await lane.objective.decode(task, picked, lane.forwardFn());
      decoded.predictions.forEach((p, i) => {
        views[i]!.predictions.push({
          lane: lane.index,
          objective: lane.objective.name,
          predicted: p,
          ...(decoded.commitStep ? { commitStep: decoded.commitStep[i]! } : {}),
        });
      });
    }
    return views;
  }

  async snapshot(lane: number): Promise<LaneState> {
    const l = this.lanes[lane];
    if (!l) throw new Error(`no lane ${lane} (the run has ${this.lanes.length})`);
    return l.snapshot();
  }

  async inspectCheckpoint(model: Uint8Array, optimizer?: Uint8Array, nHead?: number): Promise<ImportedCheckpoint> {
    const { cfg, params, meta } = importModel(model, undefined, nHead ? { nHead } : {});
    let resume: ImportedCheckpoint['resume'] = null;
    if (optimizer) {
      const r = filesToLaneState(model, optimizer);
      resume = { spec: r.spec, state: { ...r.state, lane: 0 } };
    }
    return { config: cfg, objective: meta.objective ?? null, step: meta.step ?? null, vocab: meta.vocab ?? null, params, resume };
  }

  async exportLane(lane: number): Promise<{ stem: string; model: Uint8Array; optimizer: Uint8Array; onnx: Uint8Array }> {
    const state = await this.snapshot(lane);
    if (!this.spec || !this.task) throw new Error('no run to export');
    return { stem: laneFileStem(state), ...laneToFiles(state, this.spec, this.task.vocab) };
  }

  async exportBundle(): Promise<Uint8Array> {
    if (!this.spec || this.lanes.length === 0) throw new Error('no run to export');
    const files: { name: string; data: Uint8Array | string }[] = [
      { name: 'experiment.json', data: JSON.stringify(this.spec, null, 2) },
      { name: 'metrics.json', data: JSON.stringify(this.results(), null, 2) },
    ];
    for (const l of this.lanes) {
      const f = await this.exportLane(l.index);
      files.push(
        { name: `${f.stem}.safetensors`, data: f.model },
        { name: `${f.stem}.optimizer.safetensors`, data: f.optimizer },
        { name: `${f.stem}.onnx`, data: f.onnx },
      );
    }
    return makeBundle(files);
  }

  async laneForward(lane: number, tokens: Int32Array, n: number): Promise<{ logits: Float32Array; T: number; V: number; H: number }> {
    const l = this.lanes[lane];
    if (!l) throw new Error(`no lane ${lane} (the run has ${this.lanes.length})`);
    return { logits: await l.forwardFn()(tokens, n, l.T), T: l.T, V: l.cfg.vocabSize, H: 1 + l.cfg.extraHeads };
  }

  async ping(): Promise<number> {
    return Date.now();
  }

  async simulateHang(ms: number): Promise<void> {
    const end = Date.now() + Math.min(Math.max(0, ms), 600_000);
    while (Date.now() < end) {
      /* busy: the worker's event loop cannot answer */
    }
  }

  /** Lanes of the current or last run (the command line and checkpoint export read their models). */
  get currentLanes(): readonly Lane[] {
    return this.lanes;
  }

  get currentTask(): Task | null {
    return this.task;
  }

  get currentSpec(): ExperimentSpec | null {
    return this.spec;
  }
}

/** The first evaluation at which exact match reached 90%, as step, FLOPs and training seconds; null if none did. */
export function timeTo90(evals: readonly EvalMetrics[]): TimeTo90 | null {
  const hit = evals.find((e) => e.exactMatch >= 0.9);
  return hit ? { step: hit.step, flops: hit.flops, seconds: hit.seconds } : null;
}

/** Every problem with a spec, by field, against the given limits. */
export function checkSpec(
  spec: ExperimentSpec,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxStorageBuffersPerShaderStage: number },
): SpecIssue[] {
  const shape = specShapeIssues(spec);
  if (shape.length > 0) return shape;
  const issues: SpecIssue[] = [];
  try {
    validateTrainConfig(spec.train);
  } catch (e) {
    issues.push({ ...issueOf(e, 'train'), field: `train.${(e as ConfigError).field ?? ''}` });
  }
  const m = spec.model;
  for (const k of ['nLayer', 'nHead', 'nEmbd'] as const) {
    if (!Number.isInteger(m[k]) || m[k] < 1) issues.push({ field: `model.${k}`, message: `must be a whole number >= 1, got ${JSON.stringify(m[k])}` });
  }
  if (issues.length === 0 && m.nEmbd % m.nHead !== 0) {
    issues.push({ field: 'model.nEmbd', message: `must be a multiple of the number of heads (${m.nHead})` });
  }
  if (!Number.isInteger(spec.evalEvery) || spec.evalEvery < 1) issues.push({ field: 'evalEvery', message: `must be a whole number >= 1, got ${JSON.stringify(spec.evalEvery)}` });
  if (!Number.isInteger(spec.evalExamples) || spec.evalExamples < 1) issues.push({ field: 'evalExamples', message: `must be a whole number >= 1, got ${JSON.stringify(spec.evalExamples)}` });
  if (!Array.isArray(spec.objectives) || spec.objectives.length === 0) issues.push({ field: 'objectives', message: 'choose at least one objective' });
  const taskIssues = taskSpecIssues(spec.task);
  issues.push(...taskIssues);
  if (issues.length > 0) return issues;
  let task: Task;
  try {
    task = makeTask(spec.task, spec.train.seed);
  } catch (e) {
    return [issueOf(e, 'task')];
  }
  spec.objectives.forEach((o, i) => {
    try {
      const objective = makeObjective(o, `objectives[${i}]`);
      const cfg = laneModelConfig(task, objective, spec.model);
      checkPlan(cfg, spec.train.batchSize, cfg.blockSize, limits);
    } catch (e) {
      if (e instanceof PlanError) {
        issues.push({ field: e.suggestion?.batchSize ? 'train.batchSize' : 'model.nEmbd', message: `${o.kind}: ${e.message}` });
      } else if (e instanceof ConfigError && !(e instanceof ObjectiveSpecError)) {
        issues.push({ field: `model.${e.field}`, message: e.message });
      } else {
        issues.push(issueOf(e, `objectives[${i}]`));
      }
    }
  });
  return issues;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A spec read from a URL, a file or a message may be any JSON: check its shape before its values. */
function specShapeIssues(spec: unknown): SpecIssue[] {
  if (!isObject(spec)) return [{ field: 'spec', message: 'must be an object with task, objectives, model and train' }];
  const issues: SpecIssue[] = [];
  if (!isObject(spec.task) || typeof spec.task.kind !== 'string') issues.push({ field: 'task', message: 'must be an object with a kind (path-star, addition or custom)' });
  if (!Array.isArray(spec.objectives) || !spec.objectives.every((o) => isObject(o) && typeof o.kind === 'string')) {
    issues.push({ field: 'objectives', message: 'must be a list of objectives, each with a kind' });
  }
  if (!isObject(spec.model)) issues.push({ field: 'model', message: 'must be an object with nLayer, nEmbd and nHead' });
  if (!isObject(spec.train)) issues.push({ field: 'train', message: 'must be an object with the training settings' });
  return issues;
}
