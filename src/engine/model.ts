// The GPT on the GPU: nanoGPT's model (src/model/reference.ts is its float64 twin) trained by WGSL kernels.
// Memory is planned once (plan.ts) and every dispatch of a training step is bound once, here, in the constructor;
// a step then writes its batch, replays the recorded dispatches in one command buffer and copies its loss to a
// readback ring that is read asynchronously, a few steps late.
//
// Legend: B batch, T sequence, C width, NH heads, hs = C/NH, V vocab, L trunk blocks, K extra heads, H = 1 + K.
import type { Batch } from '../model/batch';
import type { ModelConfig, TrainConfig } from '../model/config';
import { lmHeadRows, paramTable, type ParamTable } from '../model/params';
import { encodeDispatches, KernelCache } from './kernel';
import type { Storage } from './kernels';
import type { MatmulVariant } from './matmul-variants';
import { THREAD_ROWS, type ReductionVariant } from './reduction-variants';
import { allocateBuffers, STAT_LOSS, STAT_NORM, type ModelBuffers } from './model-buffers';
import { recordStep, STEP_PHASES, type StepRecording } from './model-record';
import {
  checkPlan,
  logitsHeadStride,
  planBuffers,
  READBACK_RING,
  STATS_BYTES,
  UNIFORM_SLOT_BYTES,
  uniformSlots,
  type PlanSummary,
} from './plan';
import { ADAMW_STEP, packUniform, REDUCE_DIMS, type UniformValues } from './uniforms';

export interface StepStats {
  step: number;
  /** Σ weight·CE over the batch, before this step's update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the norm was NaN/Inf: the optimizer then skipped the step and left the weights unchanged. */
  finite: boolean;
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
  /** Pending loss readback per ring slot. */
  private readonly pendingStats: (Promise<StepStats> | null)[] = new Array<Promise<StepStats> | null>(
    READBACK_RING,
  ).fill(null);
  /** Host image of the uniform buffer: packed as the dispatches are recorded, uploaded once, patched in place. */
  private readonly uniformHost: DataView;
  private readonly plannedUniforms: number;
  /** AdamW's uniform fields, rewritten by each step (no allocation per step). */
  private readonly adamwValues: UniformValues<typeof ADAMW_STEP>;
  /** Host copies of the (H, B, T) targets and weights: a step fills them instead of allocating. */
  private readonly hostTargets: Int32Array;
  private readonly hostWeights: Float32Array;
  private stepsTaken = 0;
  private destroyed = false;

  /**
   * Plans and allocates everything for batches of at most B sequences of exactly T tokens, with the matmul kernels
   * of `matmul` (chooseMatmulVariant's choice for this device, or presetMatmulVariant where nothing was timed) and
   * the row reductions of `reduction` (chooseReductionVariant's choice; one invocation per row, which every device
   * runs, by default), and the half activations (plan.ts, HALF_ACTIVATIONS) stored as `activations` says
   * (chooseActivationStorage's choice; f16 needs the device's `shader-f16`).
   * Throws PlanError before allocating anything if the plan exceeds the device's limits.
   */
  constructor(
    readonly device: GPUDevice,
    readonly cfg: ModelConfig,
    readonly B: number,
    readonly T: number,
    readonly matmul: MatmulVariant,
    readonly reduction: ReductionVariant = THREAD_ROWS,
    readonly activations: Storage = 'f32',
  ) {
    if (T > cfg.blockSize) throw new Error(`sequence length ${T} exceeds blockSize ${cfg.blockSize}`);
    if (activations === 'f16' && !device.features.has('shader-f16'))
      throw new Error('f16 activation storage needs the shader-f16 feature, which this device lacks');
    this.plan = checkPlan(cfg, B, T, device.limits, activations);
    this.table = paramTable(cfg);
    this.H = 1 + cfg.extraHeads;
    this.mem = allocateBuffers(device, cfg, planBuffers(cfg, B, T, activations), this.allocated);
    this.plannedUniforms = uniformSlots(cfg, B, T);
    this.uniformHost = new DataView(new ArrayBuffer(this.plannedUniforms * UNIFORM_SLOT_BYTES));
    this.adamwValues = {
      N: this.table.total,
      normSlot: STAT_NORM,
      lr: 0,
      beta1: 0,
      beta2: 0,
      eps: 0,
      weightDecay: 0,
      bc1: 1,
      bc2: 1,
    };
    this.hostTargets = new Int32Array(this.H * B * T);
    this.hostWeights = new Float32Array(this.H * B * T);
    try {
      this.writeDecayMask();
      this.recording = recordStep({
        cfg,
        B,
        T,
        H: this.H,
        table: this.table,
        mem: this.mem,
        kernels: new KernelCache(device),
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

  /** Write typed-array data at the start of a planned buffer (queue-ordered: safe while earlier steps run). */
  private upload(buffer: GPUBuffer, data: Float32Array | Int32Array | Uint32Array): void {
    this.device.queue.writeBuffer(buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
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
  /** Upload parameters laid out by the parameter table; resets the optimizer unless told otherwise. */
  setParams(params: Float32Array, opts: { keepOptimizer?: boolean } = {}): void {
    if (params.length !== this.table.total)
      throw new Error(`expected ${this.table.total} parameter floats, got ${params.length}`);
    this.upload(this.mem.params, params);
    if (!opts.keepOptimizer) {
      const zeros = new Float32Array(this.table.total);
      this.upload(this.mem.adamM, zeros);
      this.upload(this.mem.adamV, zeros);
      this.stepsTaken = 0;
    }
  }

  /** Restore AdamW's moments and step count (for exact resume). */
  setOptimizerState(m: Float32Array, v: Float32Array, steps: number): void {
    this.upload(this.mem.adamM, m);
    this.upload(this.mem.adamV, v);
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

  async getParams(): Promise<Float32Array> {
    return this.read(this.mem.params, this.table.total);
  }
  async getGrads(): Promise<Float32Array> {
    return this.read(this.mem.grads, this.table.total);
  }
  async getOptimizerState(): Promise<{ m: Float32Array; v: Float32Array; steps: number }> {
    return {
      m: await this.read(this.mem.adamM, this.table.total),
      v: await this.read(this.mem.adamV, this.table.total),
      steps: this.stepsTaken,
    };
  }

  /**
   * Copy the first `elements` floats of a buffer back (tests, checkpoints). Makes its own staging buffer and
   * destroys it, so concurrent reads never share one; not for the training loop.
   */
  private async read(buffer: GPUBuffer, elements: number): Promise<Float32Array> {
    const staging = this.device.createBuffer({
      size: elements * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, staging, 0, elements * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** The input tokens (n, T) of a batch or a forward pass; rows past n keep whatever tokens they had. */
  private writeTokens(tokens: Int32Array, n: number): void {
    const { B, T } = this;
    if (n > B) throw new Error(`batch has ${n} sequences, model was planned for at most ${B}`);
    const V = this.cfg.vocabSize;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t < 0 || t >= V) throw new Error(`token id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
    }
    if (tokens.length !== n * T) throw new Error(`expected n·T = ${n * T} tokens, got ${tokens.length}`);
    this.upload(this.mem.tokens, tokens);
  }

  /** Tokens, and the (H, B, T) targets and weights through the host copies made once (no allocation per step). */
  private writeBatch(batch: Batch): void {
    const { B, T, H } = this;
    if (batch.T !== T) throw new Error(`batch has sequence length ${batch.T}, model was planned for ${T}`);
    this.writeTokens(batch.tokens, batch.n);
    if (batch.weights.length !== H * batch.n * T || batch.targets.length !== H * batch.n * T) {
      throw new Error(`targets/weights must have H·n·T = ${H * batch.n * T} entries`);
    }
    // Rows past n (a short batch) get no target and zero loss weight.
    const targets = this.hostTargets.fill(-1);
    const weights = this.hostWeights.fill(0);
    for (let h = 0; h < H; h++) {
      targets.set(batch.targets.subarray(h * batch.n * T, (h + 1) * batch.n * T), h * B * T);
      weights.set(batch.weights.subarray(h * batch.n * T, (h + 1) * batch.n * T), h * B * T);
    }
    this.upload(this.mem.targets, targets);
    this.upload(this.mem.weights, weights);
  }

  /** Zero what backward accumulates into: the gradients and the residual streams' gradients. */
  private clearGradients(enc: GPUCommandEncoder): void {
    enc.clearBuffer(this.mem.grads);
    enc.clearBuffer(this.mem.dres);
    for (const h of this.mem.heads) if (h.dres) enc.clearBuffer(h.dres);
  }

  /**
   * One optimizer step: forward, loss, backward, gradient norm and clipping, AdamW — recorded into one command
   * buffer. Resolves once submitted, with `stats`: a promise for the step's loss that resolves when its readback
   * arrives. It only waits itself when READBACK_RING earlier steps are still unread.
   */
  async step(batch: Batch, lr: number, train: TrainConfig): Promise<{ stats: Promise<StepStats> }> {
    return (await GpuModel.stepTogether([{ model: this, batch, lr, train }]))[0]!;
  }

  /**
   * One optimizer step of each model (each with its own batch), recorded into one command buffer and submitted
   * once: one submission for N models instead of N. The models must share a device. Resolves once submitted, with
   * each model's `stats`, as step(). A run's lanes do not use it (src/lab/run.ts): on lavapipe it measured slower
   * than each lane submitting alone; the bench's lanes check (bench/train.ts, benchLanes) compares the two.
   */
  static async stepTogether(
    steps: readonly { model: GpuModel; batch: Batch; lr: number; train: TrainConfig }[],
  ): Promise<{ stats: Promise<StepStats> }[]> {
    if (steps.length === 0) return [];
    const device = steps[0]!.model.device;
    if (steps.some((s) => s.model.device !== device)) throw new Error('stepTogether: the models must share a device');
    if (new Set(steps.map((s) => s.model)).size !== steps.length)
      throw new Error('stepTogether: a model can take one step per submission');
    // Every model's inputs are written (queue-ordered) before the one submission that reads them.
    const slots: number[] = [];
    for (const { model, batch, lr, train } of steps) slots.push(await model.prepareStep(batch, lr, train));
    const enc = device.createCommandEncoder({ label: `step of ${steps.length} model(s)` });
    steps.forEach(({ model }, i) => model.encodeStep(enc, slots[i]!));
    device.queue.submit([enc.finish()]);
    return steps.map(({ model }, i) => ({ stats: model.readStats(slots[i]!) }));
  }

  /** Write a step's batch and AdamW's uniform; returns its readback slot (waiting if that slot is still unread). */
  private async prepareStep(batch: Batch, lr: number, train: TrainConfig): Promise<number> {
    if (this.destroyed) throw new Error('model destroyed');
    const slot = this.stepsTaken % READBACK_RING;
    const earlier = this.pendingStats[slot];
    if (earlier) await earlier;
    this.writeBatch(batch);
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
    enc.copyBufferToBuffer(this.mem.stats, 0, this.mem.statsReadback[slot]!, 0, STATS_BYTES);
  }

  /** After the submission: count the step and map its readback; the promise resolves with its stats. */
  private readStats(slot: number): Promise<StepStats> {
    const t = ++this.stepsTaken;
    const readback = this.mem.statsReadback[slot]!;
    const pending = readback.mapAsync(GPUMapMode.READ).then(() => {
      // Read before unmap detaches the range; no copy of it.
      const s = new Float32Array(readback.getMappedRange(), 0, STATS_BYTES / 4);
      const stats = { step: t, loss: s[STAT_LOSS]!, gradNorm: s[STAT_NORM]!, finite: s[STAT_NORM + 2] === 1 };
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
    this.writeBatch(batch);
    const enc = this.device.createCommandEncoder();
    this.clearGradients(enc);
    const pass = enc.beginComputePass();
    for (const p of STEP_PHASES) if (p !== 'optimizer') encodeDispatches(pass, this.recording[p]);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    return (await this.read(this.mem.stats, 1))[0]!;
  }

  /**
   * Logits of every head for up to B sequences, (H, n, T, V), for evaluation and decoding; waits for the readback
   * (it is not part of the training loop). Calls are served one at a time: each writes the shared input buffers and
   * maps the one staging buffer, and a second call in between (the page asking for examples while a lane is being
   * evaluated) would copy into a buffer that is being mapped.
   */
  forward(tokens: Int32Array, n: number): Promise<Float32Array> {
    const run = this.forwardQueue.then(() => this.forwardNow(tokens, n));
    this.forwardQueue = run.catch(() => undefined);
    return run;
  }

  private forwardQueue: Promise<unknown> = Promise.resolve();

  private async forwardNow(tokens: Int32Array, n: number): Promise<Float32Array> {
    const { B, T, H } = this;
    const V = this.cfg.vocabSize;
    if (n > B) throw new Error(`forward: ${n} sequences, at most ${B}`);
    if (tokens.length !== n * T) throw new Error(`forward: expected ${n * T} tokens, got ${tokens.length}`);
    this.writeTokens(tokens, n); // the forward pass reads no targets or weights
    const stride = logitsHeadStride(B, T, V);
    const staging = this.mem.evalStaging;
    const enc = this.device.createCommandEncoder({ label: 'forward' });
    const pass = enc.beginComputePass();
    encodeDispatches(pass, this.recording.forward);
    pass.end();
    enc.copyBufferToBuffer(this.mem.logits, 0, staging, 0, H * stride * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange());
    // Rows of Vp on the GPU (the lm_head's padded vocabulary), of V here.
    const Vp = lmHeadRows(V);
    const out = new Float32Array(H * n * T * V);
    for (let h = 0; h < H; h++)
      for (let r = 0; r < n * T; r++) {
        const from = h * stride + r * Vp;
        out.set(all.subarray(from, from + V), (h * n * T + r) * V);
      }
    staging.unmap();
    return out;
  }

  /**
   * Wall time of each recorded dispatch of a training step, submitted alone `repeats` times (after a warm-up).
   * For the benchmark and for finding slow kernels; the inputs are whatever the last step left.
   */
  async profileStep(repeats = 3): Promise<{ label: string; phase: string; ms: number }[]> {
    const out: { label: string; phase: string; ms: number }[] = [];
    for (const phase of STEP_PHASES) {
      for (const d of this.recording[phase]) {
        const run = async (n: number) => {
          const enc = this.device.createCommandEncoder();
          const pass = enc.beginComputePass();
          for (let i = 0; i < n; i++) encodeDispatches(pass, [d]);
          pass.end();
          this.device.queue.submit([enc.finish()]);
          await this.device.queue.onSubmittedWorkDone();
        };
        await run(1);
        const t0 = performance.now();
        await run(repeats);
        out.push({ label: d.label, phase, ms: (performance.now() - t0) / repeats });
      }
    }
    return out;
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
