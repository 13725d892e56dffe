// The one typed interface to the lab. The page reaches it through Comlink in a Web Worker
// (workers/lab.worker.ts), the command line and the tests call the same class in-process. Nothing below this
// layer calls up into it.
import type { ModelConfig } from '../model/config';
import type { ExperimentSpec, ObjectiveSpec, SpecIssue } from '../spec/types';
import type { ObjectiveName } from '../objectives/types';
import type { LaneState } from '../checkpoint/lane-state';
import type { SavedRun, SavedRunInfo } from './store';
import type { Probes } from '../eval/evaluate';

export type { SavedRun, SavedRunInfo } from './store';
export type { LaneState } from '../checkpoint/lane-state';
export type { ExperimentSpec, ModelSize, ObjectiveSpec, SpecIssue, TaskSpec } from '../spec/types';
export type { Probes } from '../eval/evaluate';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  /** Whether the Lab trains lanes of one shape in the same dispatches here (a GPU), by default. */
  stacksLanes?: boolean;
  /** The matmul kernels chosen for this adapter (src/engine/matmul-variants.ts) and how: known, cached or timed. */
  matmulVariant: { name: string; source: 'known' | 'cached' | 'timed' } | null;
  /**
   * How LayerNorm's and cross-entropy's row reductions run on this adapter (src/engine/reduction-variants.ts) and
   * how that was chosen: 'unavailable' (no subgroups: one thread per row), known (SwiftShader, lavapipe), cached or timed. Absent from older reports.
   */
  reductionVariant?: { name: string; source: 'unavailable' | 'known' | 'cached' | 'timed' } | null;
  /**
   * How the MLP's hidden activations are stored on this adapter (src/engine/activation-storage.ts): f32, or f16
   * where the adapter has `shader-f16` and f16 timed faster (lavapipe: f32, known); and how that was chosen. Absent
   * from older reports.
   */
  activationStorage?: { name: 'f32' | 'f16'; source: 'unavailable' | 'known' | 'cached' | 'timed' } | null;
  /** The limits the plan is checked against. */
  limits: {
    maxStorageBufferBindingSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupStorageSize: number;
    maxBufferSize: number;
  };
  features: string[];
}

export interface StepMetrics {
  lane: number;
  objective: ObjectiveName;
  step: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  /** Training FLOPs spent by this lane so far. */
  flops: number;
  /** Training tokens this lane has read so far: steps × batch × its sequence length (absent in older files). */
  tokens?: number;
  /** Wall seconds spent by this lane so far. */
  seconds: number;
  /** The lane's seed, in a run over several seeds (RunOptions.seeds). */
  seed?: number;
}

export interface EvalMetrics {
  lane: number;
  objective: ObjectiveName;
  step: number;
  flops: number;
  /** As StepMetrics.tokens. */
  tokens?: number;
  seconds: number;
  /** As StepMetrics.seed. */
  seed?: number;
  /** Fraction of test examples whose decoded target is exactly right. */
  exactMatch: number;
  /** 95% Wilson interval of exactMatch. */
  exactMatchInterval: [number, number];
  /** Test examples evaluated. */
  examples: number;
  /** Accuracy of the decision token alone (free-running), where the task has one. */
  decisionTokenAccuracy: number | null;
  perPosition: { teacherForced: number[]; freeRunning: number[] };
  /**
   * Accuracy per position under the probes that tell "cannot look up" from "cannot decode" (src/eval/evaluate.ts);
   * absent in results saved before the probes existed.
   */
  probes?: Probes;
  /** Path-star: fraction of wrong predictions that are still valid paths in the graph. */
  validWrongFraction: number | null;
  /**
   * Held-out cross-entropy per target token (nats) of the objective's teacher-forced prediction, unweighted: the
   * one quantity charted on the same scale for every lane (training losses differ by objective).
   */
  heldOutLoss: number;
}

/** When a lane's held-out exact match first reached 90% (at an evaluation). */
export interface TimeTo90 {
  step: number;
  flops: number;
  /** Training wall seconds (evaluation excluded). */
  seconds: number;
}

export interface LaneResult {
  lane: number;
  /** As StepMetrics.seed. */
  seed?: number;
  objective: ObjectiveName;
  objectiveSpec: ObjectiveSpec;
  steps: number;
  flops: number;
  seconds: number;
  finalLoss: number;
  exactMatch: number;
  exactMatchInterval: [number, number];
  examples: number;
  decisionTokenAccuracy: number | null;
  perPosition: { teacherForced: number[]; freeRunning: number[] };
  /** The last evaluation's probes (EvalMetrics.probes). */
  probes?: Probes;
  validWrongFraction: number | null;
  heldOutLoss: number;
  /** The first evaluation at which exact match was at least 90%; null if none was. */
  timeTo90: TimeTo90 | null;
  /** Why the lane stopped early (its loss or gradient became NaN or infinite); absent when it did not. */
  failure?: string;
  history: { steps: StepMetrics[]; evals: EvalMetrics[] };
}

export type LabEvent =
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'eval'; metrics: EvalMetrics }
  | { type: 'state'; state: 'running' | 'paused' | 'stopped' | 'done' | 'error'; message?: string }
  | { type: 'log'; message: string }
  /** Every lane was autosaved at this step. */
  | { type: 'saved'; runId: string; step: number };

/** One test example as the page shows it, with each lane's prediction. */
export interface ExampleView {
  prompt: number[];
  target: number[];
  /** Display strings for the token ids. */
  vocab: string[];
  predictions: { lane: number; objective: ObjectiveName; predicted: number[]; commitStep?: number[] }[];
}

export interface RunOptions {
  /** Lane i continues from resume[i] (same spec, all saved at the same step), exactly as if never stopped. */
  resume?: LaneState[];
  /** Continue the autosaved run with this id (its own spec is used; `resume` is then ignored). */
  resumeSaved?: string;
  /** Autosave every lane to the run store every this many steps (and when the run ends); 0 or absent: never. */
  autosaveEvery?: number;
  /** Id under which the run is autosaved (default: a new one; a resumed run keeps its id). */
  runId?: string;
  /**
   * Stop after this step (the learning-rate schedule still spans spec.train.steps), e.g. to checkpoint midway;
   * 0 trains nothing and only evaluates (with initialParams: evaluate an imported model).
   */
  stopAtStep?: number;
  /** Start lane i from these weights (laid out by the lane's parameter table) instead of a fresh init. */
  initialParams?: (Float32Array | null)[];
  /**
   * Train the spec once per seed (spec.train.seed is then not used). Where the Lab stacks lanes (a GPU), every
   * seed's lanes train at once, the lanes of one shape in the same dispatches; elsewhere the seeds run one after
   * another. Each seed's lanes get the data, initialisation and test set that seed alone would have, and their
   * metrics and results carry the seed. Not with resume, resumeSaved, initialParams or autosave.
   */
  seeds?: number[];
  /** Stack lanes of one shape in the same dispatches (the seeds' too), or not, instead of the Lab's choice. */
  stackLanes?: boolean;
}

export interface ImportedCheckpoint {
  config: ModelConfig;
  objective: string | null;
  step: number | null;
  vocab: string[] | null;
  params: Float32Array;
  /** Present when the optimizer file was given: everything needed to continue exactly. */
  resume: { spec: ExperimentSpec; state: LaneState } | null;
}

/** Which lane of a spec a checkpoint fits (its objective), or why none does, in a sentence. */
export type CheckpointMatch = { objective: ObjectiveSpec } | { problem: string };

/** The current (or last) run as the command line reports it: its spec, its task and each lane's result so far. */
export interface RunInfo {
  spec: ExperimentSpec;
  taskName: string;
  /** Display strings of the task's token ids. */
  vocab: string[];
  results: LaneResult[];
}

/** The lab's interface: implemented by `Lab` (src/lab/lab.ts), exposed by workers/lab.worker.ts. */
export interface LabApi {
  /** Acquire the GPU (once) and describe it. Rejects with a plain message when WebGPU is missing. */
  adapter(): Promise<AdapterReport>;
  /** Every problem with a spec (task, model, objectives, memory against the adapter's limits); [] if it can run. */
  check(spec: ExperimentSpec): Promise<SpecIssue[]>;
  /**
   * Train every objective of the spec side by side (one lane each, same data and seed, the same steps; lanes of
   * one shape in the same dispatches) and evaluate them; events stream through onEvent. Resolves when all lanes
   * finish or the run is stopped.
   */
  run(spec: ExperimentSpec, onEvent: (e: LabEvent) => void, options?: RunOptions): Promise<LaneResult[]>;
  /** The spec, task and results of the current (or last) run; null before the first. */
  runInfo(): Promise<RunInfo | null>;
  /** The full state of a lane of the current (or last) run, for checkpoints and autosave. */
  /** Lane `lane`'s state; in a run over seeds stacked together, of `seed` (default: its first). */
  snapshot(lane: number, seed?: number): Promise<LaneState>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** Autosaved runs, newest first, with their size. */
  savedRuns(): Promise<SavedRunInfo[]>;
  loadSavedRun(id: string): Promise<SavedRun | null>;
  deleteSavedRun(id: string): Promise<void>;
  /** Browser storage used and available (navigator.storage.estimate), or null where unknown. */
  storageEstimate(): Promise<{ usage: number; quota: number } | null>;
  /**
   * Destroy the GPU device, as a driver reset would (for tests and for showing recovery). The run in progress
   * ends with a 'device lost' error; the next call acquires a new device.
   */
  simulateDeviceLoss(): Promise<void>;
  /**
   * Read a checkpoint file (safetensors, this lab's or nanoGPT's) without changing anything: its config, objective,
   * step and — for this lab's files with their optimizer file — the experiment spec and lane state to resume from.
   * Rejects with a message naming what is wrong (truncated, offsets, dtype, shapes, config).
   */
  inspectCheckpoint(model: Uint8Array, optimizer?: Uint8Array, nHead?: number): Promise<ImportedCheckpoint>;
  /** The lane of `spec` whose model the checkpoint's config fits, or why none does (the task is built here). */
  matchCheckpoint(
    spec: ExperimentSpec,
    checkpoint: { config: ModelConfig; objective: string | null },
  ): Promise<CheckpointMatch>;
  /** The files of one lane of the current (or last) run: safetensors, optimizer state, ONNX. */
  exportLane(lane: number): Promise<{ stem: string; model: Uint8Array; optimizer: Uint8Array; onnx: Uint8Array }>;
  /** One zip with the spec, every lane's files and the run's metrics. */
  exportBundle(): Promise<Uint8Array>;
  /** Logits (H,n,T,V) of a lane's model on token ids (n,T), e.g. to compare with the ONNX export in the page. */
  laneForward(
    lane: number,
    tokens: Int32Array,
    n: number,
  ): Promise<{ logits: Float32Array; T: number; V: number; H: number }>;
  /** Answers at once while the worker is responsive (the page's hang detector). */
  ping(): Promise<number>;
  /** Block the worker's thread for `ms` milliseconds, as a stuck computation would (for tests of hang detection). */
  simulateHang(ms: number): Promise<void>;
  /** Test examples with each lane's current prediction (decoded now), for the example viewer. */
  examples(count: number, offset?: number): Promise<ExampleView[]>;
}

/** A new run's id, under which it is autosaved (by the page or the Lab): the time in base 36 and a random tail. */
export const newRunId = (): string =>
  `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
