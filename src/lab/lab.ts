// The lab: the one implementation of LabApi. The page talks to it through Comlink (workers/lab.worker.ts); the
// command line and the tests construct it directly with Dawn's GPU. A thin facade: it owns the device, the stores
// and the current run (src/lab/run.ts), and answers the page's and the command line's questions about them. Whether
// a spec can run is src/spec/check.ts's to say.
import { acquireGpu, adapterLimits, type GpuContext } from '../engine/gpu';
import { isCpuAdapter, type VariantCache } from '../engine/adapter';
import { tuneKernels, type KernelChoices } from '../engine/autotune';
import type { ModelConfig } from '../model/config';
import type { Task } from '../tasks/types';
import { checkSpec, DEFAULT_LIMITS } from '../spec/check';
import { makeTask } from '../tasks';
import { newRunId } from './api';
import type {
  AdapterReport,
  CheckpointMatch,
  ExampleView,
  ExperimentSpec,
  ImportedCheckpoint,
  LabApi,
  LabEvent,
  LaneResult,
  LaneState,
  RunInfo,
  RunOptions,
  SpecIssue,
} from './api';
import { makeBundle } from '../checkpoint/bundle';
import { filesToLaneState, laneFileStem, laneToFiles } from '../checkpoint/lane-files';
import { importModel } from '../checkpoint/model-file';
import { matchCheckpoint } from './checkpoint-match';
import type { Lane } from './lane';
import { checkSeedRun, Run } from './run';
import { IdbRunStore, IdbVariantCache, MemoryRunStore, type RunStore, type SavedRun, type SavedRunInfo } from './store';

export { DeviceLostError, timeTo90 } from './run';

export interface LabOptions {
  /** Where the GPU comes from: navigator.gpu in a browser (the default), Dawn's GPU in Node. */
  gpu?: () => GPU | undefined | Promise<GPU | undefined>;
  /** Where runs are autosaved: IndexedDB where it exists (the default), else memory. */
  store?: RunStore;
  /**
   * Where the matmul and reduction variants timed for an adapter are kept (each under its own key): IndexedDB where
   * it exists (the default), else memory.
   */
  variantCache?: VariantCache;
  /**
   * Train lanes of one shape in the same dispatches (LaneKernels.stackLanes). Default: on GPUs, not on CPU adapters
   * (SwiftShader, lavapipe), where it saves nothing measurable (docs/kernel-notes.md, "Lanes").
   */
  stackLanes?: boolean;
}

export class Lab implements LabApi {
  private ctx: Promise<GpuContext> | null = null;
  /** The current run, or the last one (its lanes stay for examples and export until the next run starts). */
  private current: Run | null = null;
  private running = false;
  private runStore: RunStore | null = null;

  /** How the current device's kernels were chosen (for the adapter report); null until they are. */
  private variantChoice: Promise<KernelChoices> | null = null;

  constructor(private readonly options: LabOptions = {}) {}

  private provider(): Promise<GPU | undefined> {
    const provider = this.options.gpu ?? (() => (typeof navigator !== 'undefined' ? navigator.gpu : undefined));
    return Promise.resolve(provider());
  }

  /** The device, acquired once (and again after a loss). */
  private gpu(): Promise<GpuContext> {
    if (this.ctx) return this.ctx;
    const p = (async () => {
      const ctx = await acquireGpu(await this.provider());
      // After a loss the next call acquires a new device (and chooses its kernels again).
      void ctx.lost.then(() => {
        if (this.ctx === p) {
          this.ctx = null;
          this.variantChoice = null;
        }
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

  /**
   * The matmul kernels, row reductions and MLP activations' storage for this device, chosen before the first model is
   * built on it (timed once per adapter, then cached): the first run or adapter report pays for it, never a check.
   */
  private kernels(ctx: GpuContext): Promise<KernelChoices> {
    if (this.variantChoice) return this.variantChoice;
    const cache = this.options.variantCache ?? (typeof indexedDB !== 'undefined' ? new IdbVariantCache() : undefined);
    const p = tuneKernels(ctx.device, ctx.adapterInfo, cache ? { cache } : {});
    this.variantChoice = p;
    p.catch(() => {
      if (this.variantChoice === p) this.variantChoice = null;
    });
    return p;
  }

  private get store(): RunStore {
    this.runStore ??=
      this.options.store ?? (typeof indexedDB !== 'undefined' ? new IdbRunStore() : new MemoryRunStore());
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
    const choice = await this.kernels(ctx);
    const l = ctx.device.limits;
    return {
      ...ctx.adapterInfo,
      stacksLanes: this.options.stackLanes ?? !isCpuAdapter(ctx.adapterInfo),
      matmulVariant: { name: choice.matmul.variant.name, source: choice.matmul.source },
      reductionVariant: { name: choice.reduction.variant.name, source: choice.reduction.source },
      activationStorage: { name: choice.activations.storage, source: choice.activations.source },
      limits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxBufferSize: l.maxBufferSize,
      },
      features: ctx.features,
    };
  }

  /**
   * The spec against this machine's limits: the device's where one is open, else the adapter's (asked without
   * opening a device), else WebGPU's defaults where there is no WebGPU. Builds no model and times no kernel.
   */
  async check(spec: ExperimentSpec): Promise<SpecIssue[]> {
    const limits = this.ctx
      ? (await this.ctx.catch(() => null))?.device.limits
      : await adapterLimits(await this.provider());
    return checkSpec(spec, limits ?? DEFAULT_LIMITS);
  }

  async run(spec: ExperimentSpec, onEvent: (e: LabEvent) => void, options: RunOptions = {}): Promise<LaneResult[]> {
    if (this.running) throw new Error('a run is already in progress; stop it first');
    this.running = true;
    try {
      const seeds = options.seeds;
      if (seeds !== undefined) checkSeedRun(seeds, options);
      let resume = options.resume;
      let history: SavedRun['history'] | undefined;
      let runId = options.runId ?? newRunId();
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
      this.current?.destroy();
      this.current = null;
      const { matmul, reduction, activations } = await this.kernels(ctx);
      const kernels = {
        matmul: matmul.variant,
        reduction: reduction.variant,
        activations: activations.storage,
        stackLanes: options.stackLanes ?? this.options.stackLanes ?? !isCpuAdapter(ctx.adapterInfo),
      };
      const build = (seedRun: { seed: number; task: Task }[], tagSeed: boolean) => {
        try {
          const task = seedRun[0]!.task;
          return new Run(
            ctx,
            spec,
            task,
            runId,
            kernels,
            {
              ...(resume ? { resume } : {}),
              ...(history ? { history } : {}),
              ...(options.initialParams ? { initialParams: options.initialParams } : {}),
            },
            seedRun,
            tagSeed,
          );
        } catch (e) {
          onEvent({ type: 'state', state: 'error', message: e instanceof Error ? e.message : String(e) });
          throw e;
        }
      };
      const list = (seeds ?? [spec.train.seed]).map((seed) => ({ seed, task: makeTask(spec.task, seed) }));
      // A lost device ends train() with DeviceLostError; gpu() has then already let go of the device.
      if (!seeds || kernels.stackLanes) {
        this.current = build(list, seeds !== undefined);
        return await this.current.train(this.store, onEvent, options);
      }
      // Not stacking (a CPU adapter): the seeds one after another, as fast here (docs/kernel-notes.md, "Lanes").
      const results: LaneResult[] = [];
      for (const one of list) {
        this.current?.destroy();
        this.current = build([one], true);
        results.push(...(await this.current.train(this.store, onEvent, options)));
        if (this.current.stopping || results.some((r) => r.failure)) break;
      }
      return results;
    } finally {
      this.running = false;
    }
  }

  async pause(): Promise<void> {
    if (this.running) this.current?.pause();
  }

  async resume(): Promise<void> {
    this.current?.resume();
  }

  async stop(): Promise<void> {
    this.current?.stop();
  }

  async runInfo(): Promise<RunInfo | null> {
    const run = this.current;
    if (!run) return null;
    return { spec: run.spec, taskName: run.task.name, vocab: run.task.vocab, results: run.results() };
  }

  async examples(count: number, offset = 0): Promise<ExampleView[]> {
    const task = this.current?.task;
    // A run over seeds stacked together: its first seed's lanes, whose task this is.
    const lanes = (this.current?.lanes ?? []).filter((l) => l.task === task);
    if (!task || lanes.length === 0) return [];
    // Decoding shares the lanes' buffers while a run goes on: each forward pass writes its inputs and submits its
    // work in one synchronous stretch, so the GPU queue orders it against training steps, and GpuModel.forward
    // serves one call at a time, so it never maps the staging buffer twice (test/gpu/model-parity.test.ts).
    const picked = task.test.slice(offset, offset + Math.max(0, Math.min(count, 64)));
    if (picked.length === 0) return [];
    const views: ExampleView[] = picked.map((ex) => ({
      prompt: ex.prompt,
      target: ex.target,
      vocab: task.vocab,
      predictions: [],
    }));
    for (const lane of lanes) {
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

  async snapshot(lane: number, seed?: number): Promise<LaneState> {
    return this.lane(lane, seed).snapshot();
  }

  async inspectCheckpoint(model: Uint8Array, optimizer?: Uint8Array, nHead?: number): Promise<ImportedCheckpoint> {
    const { cfg, params, meta } = importModel(model, undefined, nHead ? { nHead } : {});
    let resume: ImportedCheckpoint['resume'] = null;
    if (optimizer) {
      const r = filesToLaneState(model, optimizer);
      resume = { spec: r.spec, state: { ...r.state, lane: 0 } };
    }
    return {
      config: cfg,
      objective: meta.objective ?? null,
      step: meta.step ?? null,
      vocab: meta.vocab ?? null,
      params,
      resume,
    };
  }

  async matchCheckpoint(
    spec: ExperimentSpec,
    checkpoint: { config: ModelConfig; objective: string | null },
  ): Promise<CheckpointMatch> {
    return matchCheckpoint(spec, checkpoint);
  }

  async exportLane(
    lane: number,
  ): Promise<{ stem: string; model: Uint8Array; optimizer: Uint8Array; onnx: Uint8Array }> {
    const state = await this.snapshot(lane);
    const run = this.current!;
    return { stem: laneFileStem(state), ...laneToFiles(state, run.spec, run.task.vocab) };
  }

  async exportBundle(): Promise<Uint8Array> {
    const run = this.current;
    if (!run || run.lanes.length === 0) throw new Error('no run to export');
    const files: { name: string; data: Uint8Array | string }[] = [
      { name: 'experiment.json', data: JSON.stringify(run.spec, null, 2) },
      { name: 'metrics.json', data: JSON.stringify(run.results(), null, 2) },
    ];
    for (const l of run.lanes.filter((x) => x.task === run.task)) {
      const f = await this.exportLane(l.index);
      files.push(
        { name: `${f.stem}.safetensors`, data: f.model },
        { name: `${f.stem}.optimizer.safetensors`, data: f.optimizer },
        { name: `${f.stem}.onnx`, data: f.onnx },
      );
    }
    return makeBundle(files);
  }

  async laneForward(
    lane: number,
    tokens: Int32Array,
    n: number,
  ): Promise<{ logits: Float32Array; T: number; V: number; H: number }> {
    const l = this.lane(lane);
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

  /** Lane i of the current run (of `seed`, in a run over seeds stacked together; else of its first seed). */
  private lane(i: number, seed?: number): Lane {
    const all = this.current?.lanes ?? [];
    const first = all[0]?.train.seed;
    const lanes = all.filter((l) => l.train.seed === (seed ?? first));
    const l = lanes.find((x) => x.index === i);
    if (!l)
      throw new Error(
        all.length === 0
          ? 'no run yet: start one first'
          : lanes.length === 0
            ? `no seed ${seed} in the run`
            : `no lane ${i} (the run has ${lanes.length})`,
      );
    return l;
  }
}
