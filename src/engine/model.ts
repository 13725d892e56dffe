// The GPT on the GPU: nanoGPT's model (src/model/reference.ts is its float64 twin) trained by WGSL kernels.
// Memory is planned once (plan.ts) and every dispatch of a training step is bound once, here, in the constructor;
// a step then writes its batch, replays the recorded dispatches in one command buffer and copies its loss to a
// readback ring that is read asynchronously, a few steps late.
//
// Legend: B batch, T sequence, C width, NH heads, hs = C/NH, V vocab, L trunk blocks, K extra heads, H = 1 + K.
import type { Batch } from '../model/batch';
import type { ModelConfig, TrainConfig } from '../model/config';
import { paramTable, type ParamTable } from '../model/params';
import { encodeDispatches, KernelCache } from './pipelines';
import type { StorageType } from './kernels';
import type { MatmulVariant } from './matmul-variants';
import { THREAD_ROWS, type ReductionVariant } from './reduction-variants';
import { allocateBuffers, readFloats, STAT_LOSS, STAT_NORM, type ModelBuffers } from './model-buffers';
import { forwardLogits, ModelInputs, type ForwardRequest, type GpuModelOptions, type StepStats } from './model-io';
import { adamwAt, initialAdamw, UniformImage } from './model-uniforms';
import { LaneTensors } from './model-state';
import { profileRecording, recordStep, STEP_PHASES, type StepRecording } from './model-record';
import {
  checkPlan,
  lossHeads,
  planBuffers,
  READBACK_RING,
  STATS_BYTES,
  STATS_LANE,
  uniformSlots,
  type PlanSummary,
} from './plan';
import { ADAMW_STEP, CROSSENTROPY_DIMS, NO_COLUMN, REDUCE_DIMS, type UniformValues } from './uniforms';

export type { ForwardRequest, GpuModelOptions, StepStats } from './model-io';

export class GpuModel {
  readonly table: ParamTable;
  readonly H: number;
  readonly plan: PlanSummary;
  /** Every buffer of the plan, in plan order, for destroy(). */
  private readonly allocated: GPUBuffer[] = [];
  private readonly mem: ModelBuffers;
  /** The step's dispatches, recorded once (model-record.ts). */
  private readonly recording: StepRecording;
  /** Pending loss readback per ring slot: every lane's stats of that step. */
  private readonly pendingStats: (Promise<StepStats[]> | null)[] = new Array<Promise<StepStats[]> | null>(
    READBACK_RING,
  ).fill(null);
  /** Host image of the uniform buffer: packed as the dispatches are recorded, uploaded once, patched in place. */
  private readonly uniforms: UniformImage;
  /** AdamW's uniform fields, rewritten by each step (no allocation per step). */
  private readonly adamwValues: UniformValues<typeof ADAMW_STEP>;
  /** The input buffers' writer (tokens, targets, weights). */
  private readonly inputs: ModelInputs;
  /** Each lane's parameters, gradients and moments, for checkpoints, resume and tests. */
  private readonly tensors: LaneTensors;
  private stepsTaken = 0;
  private destroyed = false;

  /** Sequences per batch, at most (GpuModelOptions.batch). */
  readonly B!: number;
  /** Tokens per sequence (GpuModelOptions.seqLen). */
  readonly T!: number;
  readonly matmul!: MatmulVariant;
  readonly reduction!: ReductionVariant;
  readonly activations!: StorageType;
  readonly lanes!: number;

  /**
   * Plans and allocates everything for batches of at most B sequences of exactly T tokens, with the matmul kernels
   * of `matmul` (chooseMatmulVariant's choice for this device, or presetMatmulVariant where nothing was timed) and
   * the row reductions of `reduction` (chooseReductionVariant's choice; one invocation per row, which every device
   * runs, by default), and the half activations (plan.ts, HALF_ACTIVATIONS) stored as `activations` says
   * (chooseActivationStorage's choice; f16 needs the device's `shader-f16`).
   * With `lanes` > 1, that many models of this shape, each with its own parameters, optimizer state, batch and
   * statistics, trained in the same dispatches (their rows stacked along the batch: every dispatch of a step does
   * the work of all of them; plan.ts, planBuffers). The per-lane calls take a lane; the one-model calls (step,
   * lossAndGrads) need lanes = 1.
   * Throws PlanError before allocating anything if the plan exceeds the device's limits.
   */
  constructor(
    readonly device: GPUDevice,
    readonly cfg: ModelConfig,
    options: GpuModelOptions,
  ) {
    const { batch: B, seqLen: T, matmul, reduction = THREAD_ROWS, activations = 'f32', lanes = 1 } = options;
    Object.assign(this, { B, T, matmul, reduction, activations, lanes });
    if (T > cfg.blockSize) throw new Error(`sequence length ${T} exceeds blockSize ${cfg.blockSize}`);
    if (activations === 'f16' && !device.features.has('shader-f16'))
      throw new Error('f16 activation storage needs the shader-f16 feature, which this device lacks');
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`lanes must be a whole number >= 1, got ${lanes}`);
    this.plan = checkPlan(cfg, B, T, device.limits, activations, lanes);
    this.table = paramTable(cfg);
    this.H = 1 + cfg.extraHeads;
    this.mem = allocateBuffers(device, cfg, planBuffers(cfg, B, T, activations, lanes), this.allocated);
    this.uniforms = new UniformImage(device, this.mem.uniforms, uniformSlots(cfg, B, T, lanes));
    this.adamwValues = initialAdamw(lanes * this.table.total);
    const G = lossHeads(cfg);
    this.inputs = new ModelInputs(device, this.mem, { lanes, H: this.H, G, B, T, V: cfg.vocabSize });
    try {
      this.tensors = new LaneTensors(device, this.mem, this.table, lanes);
      this.recording = recordStep({
        cfg,
        B,
        lanes,
        T,
        H: this.H,
        table: this.table,
        mem: this.mem,
        kernels: KernelCache.of(device),
        matmul,
        reduction,
        uniformHost: this.uniforms.host,
        plannedUniforms: this.uniforms.planned,
        adamwValues: this.adamwValues,
      });
    } catch (e) {
      this.destroy(); // a model that failed to build holds no memory
      throw e;
    }
    this.uniforms.upload();
    this.setGradClip(1.0);
  }

  /** Global-norm clipping threshold (0 disables). */
  setGradClip(clip: number): void {
    const dims = { ...this.recording.sumsValues, clip };
    for (const slot of this.recording.sumsSlots) this.uniforms.patch(slot, REDUCE_DIMS, dims);
  }

  // ---- public API ------------------------------------------------------------------------------------------------
  /**
   * Upload a lane's parameters, laid out by the parameter table; resets its optimizer state unless told otherwise
   * (and the step count, which the lanes share, when the model has one lane).
   */
  setParams(params: Float32Array, opts: { keepOptimizer?: boolean; lane?: number } = {}): void {
    this.tensors.setParams(params, opts.lane ?? 0, !opts.keepOptimizer);
    if (!opts.keepOptimizer && this.lanes === 1) this.stepsTaken = 0;
  }

  /**
   * Stop updating a lane (one that failed while the others go on): AdamW leaves its weights and moments as they
   * are from the next step on (the frozen flag in its statistics, STAT_FROZEN; queue-ordered after the steps
   * submitted so far).
   */
  freezeLane(lane: number): void {
    this.tensors.freeze(lane);
  }

  /** Restore a lane's AdamW moments, and the step count (the lanes share it), for exact resume. */
  setOptimizerState(m: Float32Array, v: Float32Array, steps: number, lane = 0): void {
    this.tensors.setMoments(m, v, lane);
    this.stepsTaken = steps;
  }

  get steps(): number {
    return this.stepsTaken;
  }

  /** The kernel of each dispatch of a training step, in order (tests pin which kernels a shape reaches). */
  get stepKernels(): string[] {
    const r = this.recording;
    return STEP_PHASES.flatMap((p) => r[p]).map((d) => d.label);
  }

  /** Compute dispatches in one training step (forward, loss, backward, sums, optimizer): what fusions reduce. */
  get dispatchesPerStep(): number {
    const r = this.recording;
    return STEP_PHASES.reduce((n, p) => n + r[p].length, 0);
  }

  async getParams(lane = 0): Promise<Float32Array> {
    return this.tensors.params(lane);
  }
  async getGrads(lane = 0): Promise<Float32Array> {
    return this.tensors.grads(lane);
  }
  async getOptimizerState(lane = 0): Promise<{ m: Float32Array; v: Float32Array; steps: number }> {
    return { ...(await this.tensors.moments(lane)), steps: this.stepsTaken };
  }

  /**
   * The lanes' batches into the input buffers (model-io.ts, ModelInputs), and their shared loss shape into the cross-entropy's
   * uniform where it changed.
   */
  private writeBatches(batches: readonly (Batch | null)[]): void {
    const shape = this.inputs.writeBatches(batches);
    const r = this.recording;
    const exclude = shape.exclude < 0 ? NO_COLUMN : shape.exclude;
    if (r.lossValues.exclude === exclude && r.lossValues.focalGamma === shape.focalGamma) return;
    r.lossValues = { ...r.lossValues, exclude, focalGamma: shape.focalGamma };
    this.uniforms.patch(r.lossSlot, CROSSENTROPY_DIMS, r.lossValues);
  }

  /** Zero what backward accumulates into: the gradients and the residual streams' gradients. */
  private clearGradients(enc: GPUCommandEncoder): void {
    enc.clearBuffer(this.mem.grads);
    if (this.lanes > 1) enc.clearBuffer(this.mem.biasGrads);
    enc.clearBuffer(this.mem.dres);
    for (const h of this.mem.heads) if (h.dres) enc.clearBuffer(h.dres);
  }

  /**
   * One optimizer step: forward, loss, backward, gradient norm and clipping, AdamW — recorded into one command
   * buffer. Resolves once submitted, with `stats`: a promise for the step's loss that resolves when its readback
   * arrives. It only waits itself when READBACK_RING earlier steps are still unread.
   */
  async step(batch: Batch, lr: number, train: TrainConfig): Promise<{ stats: Promise<StepStats> }> {
    const { stats } = await this.stepLanes([batch], lr, train);
    return { stats: stats.then((s) => s[0]!) };
  }

  /**
   * One optimizer step of every lane, each on its own batch, in the same dispatches (as step(): resolves once
   * submitted, with `stats`, every lane's). A lane whose gradient norm is not finite skips its update alone; a
   * frozen lane (freezeLane) takes null for its batch and is not updated.
   */
  async stepLanes(
    batches: readonly (Batch | null)[],
    lr: number,
    train: TrainConfig,
  ): Promise<{ stats: Promise<StepStats[]> }> {
    return { stats: (await GpuModel.submitSteps([{ model: this, batches, lr, train }]))[0]! };
  }

  /**
   * One optimizer step of each model (each with its own batch), recorded into one command buffer and submitted
   * once: one submission for N models instead of N. The models must share a device. Resolves once submitted, with
   * each model's `stats`, as step(). A run stacks its lanes of one shape into one model instead (stepLanes,
   * src/lab/run.ts); the bench's lanes check (bench/train.ts, benchLanes) compares the three ways.
   */
  static async stepTogether(
    steps: readonly { model: GpuModel; batch: Batch; lr: number; train: TrainConfig }[],
  ): Promise<{ stats: Promise<StepStats> }[]> {
    if (steps.length === 0) return [];
    const device = steps[0]!.model.device;
    if (steps.some((s) => s.model.device !== device)) throw new Error('stepTogether: the models must share a device');
    if (new Set(steps.map((s) => s.model)).size !== steps.length)
      throw new Error('stepTogether: a model can take one step per submission');
    const submitted = await GpuModel.submitSteps(steps.map(({ batch, ...s }) => ({ ...s, batches: [batch] })));
    return submitted.map((stats) => ({ stats: stats.then((s) => s[0]!) }));
  }

  /**
   * One step of each model, every lane on its batch, recorded into one command buffer and submitted once: each
   * model's inputs are written (queue-ordered) before the submission that reads them. Each model's promise resolves
   * with its lanes' stats.
   */
  private static async submitSteps(
    steps: readonly { model: GpuModel; batches: readonly (Batch | null)[]; lr: number; train: TrainConfig }[],
  ): Promise<Promise<StepStats[]>[]> {
    const slots: number[] = [];
    for (const { model, batches, lr, train } of steps) slots.push(await model.prepareStep(batches, lr, train));
    const enc = steps[0]!.model.device.createCommandEncoder({ label: `step of ${steps.length} model(s)` });
    steps.forEach(({ model }, i) => model.encodeStep(enc, slots[i]!));
    steps[0]!.model.device.queue.submit([enc.finish()]);
    return steps.map(({ model }, i) => model.readStats(slots[i]!));
  }

  /**
   * Write a step's batches (one a lane) and AdamW's uniform; returns its readback slot (waiting if that slot is
   * still unread).
   */
  private async prepareStep(batches: readonly (Batch | null)[], lr: number, train: TrainConfig): Promise<number> {
    if (this.destroyed) throw new Error('model destroyed');
    const slot = this.stepsTaken % READBACK_RING;
    const earlier = this.pendingStats[slot];
    if (earlier) await earlier;
    this.writeBatches(batches);
    adamwAt(this.adamwValues, lr, train, this.stepsTaken + 1);
    this.uniforms.patch(this.recording.adamwSlot, ADAMW_STEP, this.adamwValues);
    return slot;
  }

  /** Record the step into enc (its own compute pass), ending with the copy of its stats to readback `slot`. */
  private encodeStep(enc: GPUCommandEncoder, slot: number): void {
    this.clearGradients(enc);
    const pass = enc.beginComputePass({ label: `train step ${this.stepsTaken + 1}` });
    for (const p of STEP_PHASES) encodeDispatches(pass, this.recording[p]);
    pass.end();
    enc.copyBufferToBuffer(this.mem.stats, 0, this.mem.statsReadback[slot]!, 0, this.lanes * STATS_BYTES);
  }

  /** After the submission: count the step and map its readback; the promise resolves with every lane's stats. */
  private readStats(slot: number): Promise<StepStats[]> {
    const t = ++this.stepsTaken;
    const readback = this.mem.statsReadback[slot]!;
    const pending = readback.mapAsync(GPUMapMode.READ).then(() => {
      // Read before unmap detaches the range; no copy of it.
      const stats = this.laneStats(new Float32Array(readback.getMappedRange(), 0, this.lanes * STATS_LANE), t);
      readback.unmap();
      this.pendingStats[slot] = null;
      return stats;
    });
    this.pendingStats[slot] = pending;
    return pending;
  }

  /**
   * Forward and backward only (no update): the loss, and the gradients left in the grads buffer (their norm in the
   * stats), for tests.
   */
  async lossAndGrads(batch: Batch): Promise<number> {
    return (await this.lossAndGradsLanes([batch]))[0]!;
  }

  /** lossAndGrads of every lane, each on its own batch: every lane's loss. */
  async lossAndGradsLanes(batches: readonly Batch[]): Promise<number[]> {
    this.writeBatches(batches);
    const enc = this.device.createCommandEncoder();
    this.clearGradients(enc);
    const pass = enc.beginComputePass();
    for (const p of STEP_PHASES) if (p !== 'optimizer') encodeDispatches(pass, this.recording[p]);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const stats = await readFloats(this.device, this.mem.stats, this.lanes * STATS_LANE);
    return this.laneStats(stats, this.stepsTaken).map((s) => s.loss);
  }

  /** Every lane's statistics in a copy of the stats buffer (STATS_LANE floats a lane), as of step `step`. */
  private laneStats(all: Float32Array, step: number): StepStats[] {
    return Array.from({ length: this.lanes }, (_, lane) => {
      const s = all.subarray(lane * STATS_LANE);
      return { step, loss: s[STAT_LOSS]!, gradNorm: s[STAT_NORM]!, finite: s[STAT_NORM + 2] === 1 };
    });
  }

  /**
   * Logits of every head for up to B sequences, (H, n, T, V), for evaluation and decoding; waits for the readback
   * (it is not part of the training loop). Calls are served one at a time: each writes the shared input buffers and
   * maps the one staging buffer, and a second call in between (the page asking for examples while a lane is being
   * evaluated) would copy into a buffer that is being mapped.
   */
  async forward(tokens: Int32Array, n: number, lane = 0): Promise<Float32Array> {
    return (await this.forwardLanes([{ lane, tokens, n }]))[0]!;
  }

  /**
   * forward for several lanes of a stacked model in one pass, each on its own sequences: the logits of each request,
   * in order. One pass runs every lane's rows whatever it is asked (a lane not asked runs on the tokens its rows
   * hold), so evaluating a model's lanes together costs one pass where one at a time costs one a lane.
   */
  forwardLanes(requests: readonly ForwardRequest[]): Promise<Float32Array[]> {
    const run = this.forwardQueue.then(() => this.forwardNow(requests));
    this.forwardQueue = run.catch(() => undefined);
    return run;
  }

  private forwardQueue: Promise<unknown> = Promise.resolve();

  private async forwardNow(requests: readonly ForwardRequest[]): Promise<Float32Array[]> {
    for (const { lane } of requests) this.tensors.at(lane);
    return forwardLogits(this.device, this.inputs, this.recording.forward, this.mem, requests);
  }

  /**
   * Wall time of each recorded dispatch of a training step, submitted alone `repeats` times (after a warm-up).
   * For the benchmark and for finding slow kernels; the inputs are whatever the last step left.
   */
  profileStep(repeats = 3): Promise<{ label: string; phase: string; ms: number }[]> {
    return profileRecording(this.device, this.recording, repeats);
  }

  /** Wait until every submitted step has finished and its stats were read. */
  async flush(): Promise<void> {
    await Promise.all(this.pendingStats);
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Free every buffer of the plan (storage, uniforms, readbacks). */
  destroy(): void {
    this.destroyed = true;
    for (const b of this.allocated) b.destroy();
  }
}
