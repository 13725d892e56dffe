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
import { allocateBuffers, readFloats, STAT_FROZEN, STAT_LOSS, STAT_NORM, type ModelBuffers } from './model-buffers';
import { ModelInputs, unpackLogits } from './model-inputs';
import { profileRecording, recordStep, STEP_PHASES, type StepRecording } from './model-record';
import {
  checkPlan,
  logitsHeadStride,
  planBuffers,
  READBACK_RING,
  STATS_BYTES,
  STATS_LANE,
  UNIFORM_SLOT_BYTES,
  uniformSlots,
  type PlanSummary,
} from './plan';
import { ADAMW_STEP, CROSSENTROPY_DIMS, NO_COLUMN, packUniform, REDUCE_DIMS, type UniformValues } from './uniforms';

/** One lane's sequences for forwardLanes: n sequences of T tokens, (n, T). */
export interface ForwardRequest {
  lane: number;
  tokens: Int32Array;
  n: number;
}

export interface StepStats {
  step: number;
  /** Σ weight·CE over the batch, before this step's update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the norm was NaN/Inf: the optimizer then skipped the step and left the weights unchanged. */
  finite: boolean;
}

/** What a GpuModel is planned for, besides its config (see the constructor). */
export interface GpuModelOptions {
  /** B: sequences per batch, at most. */
  batch: number;
  /** T: tokens per sequence, exactly (at most cfg.blockSize). */
  seqLen: number;
  matmul: MatmulVariant;
  /** Default: one invocation per row, which every device runs. */
  reduction?: ReductionVariant;
  /** Default: f32. */
  activations?: StorageType;
  /** Default: 1. */
  lanes?: number;
}

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
  private readonly uniformHost: DataView;
  private readonly plannedUniforms: number;
  /** AdamW's uniform fields, rewritten by each step (no allocation per step). */
  private readonly adamwValues: UniformValues<typeof ADAMW_STEP>;
  /** The input buffers' writer (tokens, targets, weights). */
  private readonly inputs: ModelInputs;
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
    this.plannedUniforms = uniformSlots(cfg, B, T, lanes);
    this.uniformHost = new DataView(new ArrayBuffer(this.plannedUniforms * UNIFORM_SLOT_BYTES));
    this.adamwValues = {
      N: lanes * this.table.total,
      normSlot: STAT_NORM,
      lr: 0,
      beta1: 0,
      beta2: 0,
      eps: 0,
      weightDecay: 0,
      bc1: 1,
      bc2: 1,
    };
    this.inputs = new ModelInputs(device, this.mem, { lanes, H: this.H, B, T, V: cfg.vocabSize });
    try {
      this.writeDecayMask();
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
        uniformHost: this.uniformHost,
        plannedUniforms: this.plannedUniforms,
        adamwValues: this.adamwValues,
      });
    } catch (e) {
      this.destroy(); // a model that failed to build holds no memory
      throw e;
    }
    this.device.queue.writeBuffer(this.mem.uniforms, 0, this.uniformHost.buffer as ArrayBuffer);
    this.setGradClip(1.0);
  }

  /** Write typed-array data into a planned buffer at `at` floats (queue-ordered: safe while earlier steps run). */
  private upload(buffer: GPUBuffer, data: Float32Array | Int32Array | Uint32Array, at = 0): void {
    this.device.queue.writeBuffer(buffer, at * 4, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  }
  /** Where lane's parameter table (and its gradients and moments) starts, in floats; checks the lane. */
  private laneParams(lane: number): number {
    if (!Number.isInteger(lane) || lane < 0 || lane >= this.lanes)
      throw new Error(`lane ${lane} is not one of this model's ${this.lanes}`);
    return lane * this.table.total;
  }
  private writeDecayMask(): void {
    const mask = new Uint32Array(Math.ceil(this.table.total / 32));
    for (const s of this.table.specs) {
      if (!s.decay) continue;
      for (let i = s.offset; i < s.offset + s.size; i++) mask[i >>> 5]! |= 1 << (i & 31);
    }
    this.upload(this.mem.decayMask, mask);
  }

  /** Upload one slot from the host image (after a patch). */
  private writeUniformSlot(slot: number, bytes: number): void {
    this.device.queue.writeBuffer(
      this.mem.uniforms,
      slot * UNIFORM_SLOT_BYTES,
      this.uniformHost.buffer as ArrayBuffer,
      slot * UNIFORM_SLOT_BYTES,
      bytes,
    );
  }

  /** Global-norm clipping threshold (0 disables). */
  setGradClip(clip: number): void {
    const dims = { ...this.recording.sumsValues, clip };
    for (const slot of this.recording.sumsSlots) {
      packUniform(REDUCE_DIMS, dims, this.uniformHost, slot * UNIFORM_SLOT_BYTES);
      this.writeUniformSlot(slot, REDUCE_DIMS.bytes);
    }
  }

  // ---- public API ------------------------------------------------------------------------------------------------
  /**
   * Upload a lane's parameters, laid out by the parameter table; resets its optimizer state unless told otherwise
   * (and the step count, which the lanes share, when the model has one lane).
   */
  setParams(params: Float32Array, opts: { keepOptimizer?: boolean; lane?: number } = {}): void {
    if (params.length !== this.table.total)
      throw new Error(`expected ${this.table.total} parameter floats, got ${params.length}`);
    const at = this.laneParams(opts.lane ?? 0);
    this.upload(this.mem.params, params, at);
    if (!opts.keepOptimizer) {
      const zeros = new Float32Array(this.table.total);
      this.upload(this.mem.adamM, zeros, at);
      this.upload(this.mem.adamV, zeros, at);
      if (this.lanes === 1) this.stepsTaken = 0;
    }
  }

  /**
   * Stop updating a lane (one that failed while the others go on): AdamW leaves its weights and moments as they
   * are from the next step on (the frozen flag in its statistics, STAT_FROZEN; queue-ordered after the steps
   * submitted so far).
   */
  freezeLane(lane: number): void {
    this.laneParams(lane);
    const at = (lane * STATS_LANE + STAT_FROZEN) * 4;
    this.device.queue.writeBuffer(this.mem.stats, at, new Float32Array([1]));
  }

  /** Restore a lane's AdamW moments, and the step count (the lanes share it), for exact resume. */
  setOptimizerState(m: Float32Array, v: Float32Array, steps: number, lane = 0): void {
    const at = this.laneParams(lane);
    this.upload(this.mem.adamM, m, at);
    this.upload(this.mem.adamV, v, at);
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
    return this.read(this.mem.params, this.table.total, this.laneParams(lane));
  }
  async getGrads(lane = 0): Promise<Float32Array> {
    return this.read(this.mem.grads, this.table.total, this.laneParams(lane));
  }
  async getOptimizerState(lane = 0): Promise<{ m: Float32Array; v: Float32Array; steps: number }> {
    const at = this.laneParams(lane);
    return {
      m: await this.read(this.mem.adamM, this.table.total, at),
      v: await this.read(this.mem.adamV, this.table.total, at),
      steps: this.stepsTaken,
    };
  }

  private read(buffer: GPUBuffer, elements: number, at = 0): Promise<Float32Array> {
    return readFloats(this.device, buffer, elements, at);
  }

  /**
   * The lanes' batches into the input buffers (ModelInputs), and their shared loss shape into the cross-entropy's
   * uniform where it changed.
   */
  private writeBatches(batches: readonly (Batch | null)[]): void {
    const shape = this.inputs.writeBatches(batches);
    const r = this.recording;
    const exclude = shape.exclude < 0 ? NO_COLUMN : shape.exclude;
    if (r.lossValues.exclude === exclude && r.lossValues.focalGamma === shape.focalGamma) return;
    r.lossValues = { ...r.lossValues, exclude, focalGamma: shape.focalGamma };
    packUniform(CROSSENTROPY_DIMS, r.lossValues, this.uniformHost, r.lossSlot * UNIFORM_SLOT_BYTES);
    this.writeUniformSlot(r.lossSlot, CROSSENTROPY_DIMS.bytes);
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
    const t = this.stepsTaken + 1;
    const u = this.adamwValues;
    u.lr = lr;
    u.beta1 = train.beta1;
    u.beta2 = train.beta2;
    u.eps = train.eps;
    u.weightDecay = train.weightDecay;
    u.bc1 = 1 - train.beta1 ** t;
    u.bc2 = 1 - train.beta2 ** t;
    packUniform(ADAMW_STEP, u, this.uniformHost, this.recording.adamwSlot * UNIFORM_SLOT_BYTES);
    this.writeUniformSlot(this.recording.adamwSlot, ADAMW_STEP.bytes);
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
    const stats = await this.read(this.mem.stats, this.lanes * STATS_LANE);
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
    const { B, T, H } = this;
    const V = this.cfg.vocabSize;
    if (requests.length === 0) return [];
    const seen = new Set<number>();
    for (const { lane } of requests) {
      this.laneParams(lane);
      if (seen.has(lane)) throw new Error(`forward: lane ${lane} asked twice in one pass`);
      seen.add(lane);
    }
    // The forward pass reads no targets or weights. writeTokens checks each request's count and tokens.
    for (const { lane, tokens, n } of requests) this.inputs.writeTokens(tokens, n, lane);
    const stride = logitsHeadStride(B, T, V);
    const laneBytes = H * stride * 4;
    // The staging buffer holds one lane's logits per request (plan.ts: a lane's worth per lane).
    const staging = this.mem.evalStaging;
    const enc = this.device.createCommandEncoder({ label: 'forward' });
    const pass = enc.beginComputePass();
    encodeDispatches(pass, this.recording.forward);
    pass.end();
    requests.forEach(({ lane }, i) =>
      enc.copyBufferToBuffer(this.mem.logits, lane * laneBytes, staging, i * laneBytes, laneBytes),
    );
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, requests.length * laneBytes);
    const all = new Float32Array(staging.getMappedRange(0, requests.length * laneBytes));
    const outs = unpackLogits(all, requests, { H, T, V }, stride);
    staging.unmap();
    return outs;
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
