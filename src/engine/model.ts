// The GPT on the GPU: nanoGPT's model (src/model/reference.ts is its float64 twin) trained by WGSL kernels.
// Memory is planned once (plan.ts) and every dispatch of a training step is bound once, here, in the constructor;
// a step then writes its batch, replays the recorded dispatches in one command buffer and copies its loss to a
// readback ring that is read asynchronously, a few steps late.
//
// Legend: B batch, T sequence, C width, NH heads, hs = C/NH, V vocab, L trunk blocks, K extra heads, H = 1 + K.
import type { Batch } from '../model/batch';
import type { ModelConfig, TrainConfig } from '../model/config';
import {
  blockParams,
  blockPrefix,
  headPrefix,
  MODEL_PARAMS,
  paramTable,
  type BlockParams,
  type ModuleParams,
  type ParamTable,
} from '../model/params';
import { encodeDispatches, grid1d, KernelCache, type Binding, type Dispatch, type KernelDef } from './kernel';
import { attentionKernels, K, matmulKernel, reduceKernel, type MatmulFlags } from './kernels';
import type { MatmulVariant } from './matmul-variants';
import {
  BLOCK_ACTIVATIONS,
  blockActivationName,
  checkPlan,
  logitsHeadStride,
  planBuffers,
  READBACK_RING,
  REDUCE_CHUNK,
  STATS_BYTES,
  UNIFORM_SLOT_BYTES,
  uniformSlots,
  type BlockActivations,
  type BufferPlan,
  type PlanSummary,
} from './plan';
import {
  ADAMW_STEP,
  ATTENTION_DIMS,
  BIAS_BACKWARD_DIMS,
  checkUniformLayout,
  CROSSENTROPY_DIMS,
  ENCODER_DIMS,
  LAYERNORM_DIMS,
  MATMUL_DIMS,
  packUniform,
  REDUCE_DIMS,
  RESIDUAL_DIMS,
  type UniformLayout,
  type UniformValues,
} from './uniforms';

/** Slots of the small stats buffer that each step copies back. */
const STAT_LOSS = 0;
const STAT_NORM = 4; // norm, clip scale, finite flag

export interface StepStats {
  step: number;
  /** Σ weight·CE over the batch, before this step's update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the norm was NaN/Inf: the optimizer then skipped the step and left the weights unchanged. */
  finite: boolean;
}

/** What one block's forward keeps for its backward (shapes: plan.ts, blockActivations). */
type BlockActs = BlockActivations<GPUBuffer>;

/** What head h keeps: ln_f's output and statistics, and for an extra head the gradient into its block's output. */
interface HeadActs {
  lnf: GPUBuffer; // (B,T,C)
  lnfMean: GPUBuffer; // (B,T)
  lnfRstd: GPUBuffer; // (B,T)
  dres: GPUBuffer | null; // (B,T,C), extra heads only; head 0's gradient flows into the trunk's dres
}

/** Every buffer of the plan, by what it holds. */
interface ModelBuffers {
  params: GPUBuffer; // (P) the flat parameter buffer, laid out by the parameter table
  grads: GPUBuffer; // (P)
  adamM: GPUBuffer; // (P)
  adamV: GPUBuffer; // (P)
  decayMask: GPUBuffer; // (P/32) one bit per parameter float: weight decay applies
  gradPartials: GPUBuffer; // (P/REDUCE_CHUNK) the gradient norm's first stage
  tokens: GPUBuffer; // (B,T) i32
  targets: GPUBuffer; // (H,B,T) i32, −1 where no target
  weights: GPUBuffer; // (H,B,T) loss weight per position
  encoded: GPUBuffer; // (B,T,C) wte[tokens] + wpe
  blocks: BlockActs[]; // L trunk blocks, then the head blocks of heads 1..K
  heads: HeadActs[]; // H
  logits: GPUBuffer; // (H, B,T,V) heads logitsHeadStride floats apart; backward overwrites them with dlogits
  losses: GPUBuffer; // (H,B,T) weighted CE per position
  lossPartials: GPUBuffer; // (H·B·T/REDUCE_CHUNK)
  stats: GPUBuffer; // loss, gradient norm, clip scale, finite flag (STAT_*)
  matmulAux: GPUBuffer; // bound as the matmul kernels' aux where no GELU epilogue uses it
  dres: GPUBuffer; // (B,T,C) gradient of the residual stream
  dln: GPUBuffer; // (B,T,C)
  datty: GPUBuffer; // (B,T,C)
  dqkv: GPUBuffer; // (B,T,3C)
  dpreatt: GPUBuffer; // (B,NH,T,T)
  dfc: GPUBuffer; // (B,T,4C)
  uniforms: GPUBuffer; // one UNIFORM_SLOT_BYTES slot per dispatch
  evalStaging: GPUBuffer; // (H, B,T,V) forward()'s readback
  statsReadback: GPUBuffer[]; // READBACK_RING copies of stats, read a few steps late
}

/** Usage flags of a planned buffer (a function: in Node the GPUBufferUsage global exists once the GPU is acquired). */
function bufferUsage(usage: BufferPlan['usage']): GPUBufferUsageFlags {
  switch (usage) {
    case 'storage':
      return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    case 'uniform':
      return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    case 'readback':
      return GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  }
}

export class GpuModel {
  readonly table: ParamTable;
  readonly H: number;
  readonly plan: PlanSummary;
  private readonly kernels: KernelCache;
  /** Every buffer of the plan, in plan order, for destroy(). */
  private readonly allocated: GPUBuffer[] = [];
  private readonly mem: ModelBuffers;
  private readonly forwardList: Dispatch[] = [];
  private readonly lossList: Dispatch[] = [];
  private readonly backwardList: Dispatch[] = [];
  private readonly optimizerList: Dispatch[] = [];
  /** Pending loss readback per ring slot. */
  private readonly pendingStats: (Promise<StepStats> | null)[] = new Array<Promise<StepStats> | null>(
    READBACK_RING,
  ).fill(null);
  /** Host image of the uniform buffer: packed as the dispatches are recorded, uploaded once, patched in place. */
  private readonly uniformHost: DataView;
  private uniformsUsed = 0;
  private readonly plannedUniforms: number;
  /** Uniform slots rewritten after recording: the gradient norm's two (clip) and AdamW's (every step). */
  private gradNormSlots: [number, number] = [0, 0];
  private adamwSlot = 0;
  /** AdamW's uniform fields, rewritten by each step (no allocation per step). */
  private readonly adamwValues: UniformValues<typeof ADAMW_STEP>;
  /** Host copies of the (H, B, T) targets and weights: a step fills them instead of allocating. */
  private readonly hostTargets: Int32Array;
  private readonly hostWeights: Float32Array;
  private stepsTaken = 0;
  private destroyed = false;

  /**
   * Plans and allocates everything for batches of at most B sequences of exactly T tokens, with the matmul kernels
   * of `matmul` (chooseMatmulVariant's choice for this device, or presetMatmulVariant where nothing was timed).
   * Throws PlanError before allocating anything if the plan exceeds the device's limits.
   */
  constructor(
    readonly device: GPUDevice,
    readonly cfg: ModelConfig,
    readonly B: number,
    readonly T: number,
    readonly matmul: MatmulVariant,
  ) {
    if (T > cfg.blockSize) throw new Error(`sequence length ${T} exceeds blockSize ${cfg.blockSize}`);
    this.plan = checkPlan(cfg, B, T, device.limits);
    this.table = paramTable(cfg);
    this.H = 1 + cfg.extraHeads;
    this.kernels = new KernelCache(device);
    this.mem = this.allocate(planBuffers(cfg, B, T));
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
      this.recordForward();
      this.recordLoss();
      this.recordBackward();
      this.recordOptimizer();
      if (this.uniformsUsed !== this.plannedUniforms) {
        throw new Error(
          `the model recorded ${this.uniformsUsed} uniform blocks, the plan has ${this.plannedUniforms} (plan.ts, uniformSlots)`,
        );
      }
    } catch (e) {
      this.destroy(); // a model that failed to build holds no memory
      throw e;
    }
    this.device.queue.writeBuffer(this.mem.uniforms, 0, this.uniformHost.buffer as ArrayBuffer);
    this.setGradClip(1.0);
  }

  // ---- buffers and bindings ------------------------------------------------------------------------------------
  /** Create every planned buffer and name each by what it holds. */
  private allocate(plan: BufferPlan[]): ModelBuffers {
    const made = new Map<string, GPUBuffer>();
    for (const b of plan) {
      const buffer = this.device.createBuffer({
        label: b.name,
        size: Math.max(16, b.elements * 4),
        usage: bufferUsage(b.usage),
      });
      made.set(b.name, buffer);
      this.allocated.push(buffer);
    }
    const get = (name: string): GPUBuffer => {
      const b = made.get(name);
      if (!b) throw new Error(`the plan has no buffer ${name}`);
      return b;
    };
    const { nLayer: L, extraHeads: K_ } = this.cfg;
    const block = (l: number): BlockActs => {
      // Record<BlockActivation, GPUBuffer> from the list of its keys.
      return Object.fromEntries(BLOCK_ACTIVATIONS.map((a) => [a, get(blockActivationName(l, a))])) as BlockActs;
    };
    const head = (h: number): HeadActs => ({
      lnf: get(`head${h}.lnf`),
      lnfMean: get(`head${h}.lnfMean`),
      lnfRstd: get(`head${h}.lnfRstd`),
      dres: h > 0 ? get(`head${h}.dres`) : null,
    });
    return {
      params: get('params'),
      grads: get('grads'),
      adamM: get('adam.m'),
      adamV: get('adam.v'),
      decayMask: get('decayMask'),
      gradPartials: get('gradPartials'),
      tokens: get('tokens'),
      targets: get('targets'),
      weights: get('weights'),
      encoded: get('encoded'),
      blocks: Array.from({ length: L + K_ }, (_, l) => block(l)),
      heads: Array.from({ length: 1 + K_ }, (_, h) => head(h)),
      logits: get('logits'),
      losses: get('losses'),
      lossPartials: get('lossPartials'),
      stats: get('stats'),
      matmulAux: get('matmulAux'),
      dres: get('dres'),
      dln: get('dln'),
      datty: get('datty'),
      dqkv: get('dqkv'),
      dpreatt: get('dpreatt'),
      dfc: get('dfc'),
      uniforms: get('uniforms'),
      evalStaging: get('evalStaging'),
      statsReadback: Array.from({ length: READBACK_RING }, (_, i) => get(`statsReadback${i}`)),
    };
  }
  private param(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.mem.params, offset: s.offset * 4, size: s.size * 4 };
  }
  private grad(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.mem.grads, offset: s.offset * 4, size: s.size * 4 };
  }
  private logitsOf(h: number): Binding {
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    return { buffer: this.mem.logits, offset: h * stride * 4, size: this.B * this.T * this.cfg.vocabSize * 4 };
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

  /**
   * The next slot of the uniform buffer, packed with `values` by the kernel's struct (checked against its source);
   * returns the slot and its binding.
   */
  private uniform<F extends string>(
    def: KernelDef,
    layout: UniformLayout<F>,
    values: Record<F, number>,
  ): { slot: number; binding: Binding } {
    checkUniformLayout(def, layout);
    const slot = this.uniformsUsed++;
    if (slot >= this.plannedUniforms)
      throw new Error(
        `${def.label}: more uniform blocks than the plan's ${this.plannedUniforms} (plan.ts, uniformSlots)`,
      );
    packUniform(layout, values, this.uniformHost, slot * UNIFORM_SLOT_BYTES);
    return { slot, binding: { buffer: this.mem.uniforms, offset: slot * UNIFORM_SLOT_BYTES, size: layout.bytes } };
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

  // ---- op launchers: each forward has its backward beside it --------------------------------------------------
  private dispatch<F extends string>(
    list: Dispatch[],
    def: KernelDef,
    layout: UniformLayout<F>,
    values: Record<F, number>,
    bindings: Binding[],
    wg: [number, number, number],
  ): number {
    const { slot, binding } = this.uniform(def, layout, values);
    list.push(this.kernels.dispatch(def, [binding, ...bindings], wg));
    return slot;
  }

  /** out (M,N) = op(A)·op(B) [+ bias] [+= out], then the GELU epilogue that flags name, on aux. */
  private matmulOp(
    list: Dispatch[],
    M: number,
    N: number,
    K_: number,
    a: Binding,
    b: Binding,
    bias: Binding | null,
    out: Binding,
    flags: Omit<MatmulFlags, 'bias'>,
    aux: Binding | null = null,
  ): void {
    // The kernel depends on the shape (vec4 kernels where the contiguous dimensions allow, see matmulKernel).
    const { def, workgroups } = matmulKernel({ ...flags, bias: !!bias }, M, N, K_, this.matmul);
    this.dispatch(
      list,
      def,
      MATMUL_DIMS,
      { M, N, K: K_, _pad: 0 },
      [a, b, bias ?? this.mem.stats, out, aux ?? this.mem.matmulAux],
      workgroups,
    );
  }

  /** Linear forward: out (M,OC) = inp (M,IC) · W (OC,IC)ᵀ + b. */
  private linearForward(inp: Binding, m: ModuleParams, out: Binding, M: number, IC: number, OC: number): void {
    this.matmulOp(this.forwardList, M, OC, IC, inp, this.param(m.weight), this.param(m.bias), out, { transB: true });
  }
  /** c_fc and its GELU in one kernel: pre (M,OC) = inp (M,IC) · W (OC,IC)ᵀ + b, post (M,OC) = gelu(pre). */
  private linearGeluForward(
    inp: Binding,
    m: ModuleParams,
    pre: Binding,
    post: Binding,
    M: number,
    IC: number,
    OC: number,
  ): void {
    this.matmulOp(
      this.forwardList,
      M,
      OC,
      IC,
      inp,
      this.param(m.weight),
      this.param(m.bias),
      pre,
      { transB: true, gelu: true },
      post,
    );
  }
  /**
   * dinp (M,IC) = dout (M,OC) · W; dW (OC,IC) += doutᵀ · inp; db (OC) += Σ_rows dout. With geluPre (the (M,IC)
   * pre-activation whose GELU was this Linear's input), dinp comes out already times gelu'(geluPre): the gradient
   * with respect to that pre-activation.
   */
  private linearBackward(
    dout: Binding,
    inp: Binding,
    m: ModuleParams,
    dinp: Binding,
    M: number,
    IC: number,
    OC: number,
    geluPre: Binding | null = null,
  ): void {
    const list = this.backwardList;
    this.matmulOp(list, M, IC, OC, dout, this.param(m.weight), null, dinp, { geluGrad: !!geluPre }, geluPre);
    this.matmulOp(list, OC, IC, M, dout, inp, null, this.grad(m.weight), { transA: true, accumulate: true });
    this.dispatch(list, K.biasBackward, BIAS_BACKWARD_DIMS, { M, N: OC }, [dout, this.grad(m.bias)], grid1d(OC));
  }

  /** LayerNorm forward over N rows of width C: out (N,C), mean (N), rstd (N). */
  private layernormForward(
    inp: Binding,
    m: ModuleParams,
    out: Binding,
    mean: Binding,
    rstd: Binding,
    N: number,
    C: number,
  ): void {
    this.dispatch(
      this.forwardList,
      K.layernormForward,
      LAYERNORM_DIMS,
      { N, C },
      [inp, this.param(m.weight), this.param(m.bias), out, mean, rstd],
      grid1d(N),
    );
  }
  /** LayerNorm backward: dinp += …, dweight/dbias += … (see layernorm_backward.wgsl). */
  private layernormBackward(
    dout: Binding,
    inp: Binding,
    mean: Binding,
    rstd: Binding,
    m: ModuleParams,
    dinp: Binding,
    N: number,
    C: number,
  ): void {
    const bind = [dout, inp, this.param(m.weight), mean, rstd, dinp, this.grad(m.weight), this.grad(m.bias)];
    this.dispatch(this.backwardList, K.layernormDinput, LAYERNORM_DIMS, { N, C }, bind, grid1d(N));
    this.dispatch(this.backwardList, K.layernormDparams, LAYERNORM_DIMS, { N, C }, bind, grid1d(C));
  }

  private attentionUniform(): UniformValues<typeof ATTENTION_DIMS> {
    const { nEmbd: C, nHead: NH, attention } = this.cfg;
    return { B: this.B, T: this.T, C, NH, causal: attention === 'causal' ? 1 : 0, scale: 1 / Math.sqrt(C / NH) };
  }
  /** Attention forward: qkv (B,T,3C) → att (B,NH,T,T), out (B,T,C). */
  private attentionForward(qkv: GPUBuffer, att: GPUBuffer, out: GPUBuffer): void {
    const { B, T } = this;
    const { nEmbd: C, nHead: NH } = this.cfg;
    for (const [def, wg] of attentionKernels(B, T, C, NH).forward)
      this.dispatch(this.forwardList, def, ATTENTION_DIMS, this.attentionUniform(), [qkv, att, out], wg);
  }
  /** Attention backward: dout (B,T,C) → dqkv (B,T,3C), via dpreatt (B,NH,T,T). */
  private attentionBackward(qkv: GPUBuffer, att: GPUBuffer, dout: GPUBuffer, dqkv: GPUBuffer): void {
    const { B, T } = this;
    const { nEmbd: C, nHead: NH } = this.cfg;
    const bind = [qkv, att, dout, this.mem.dpreatt, dqkv];
    for (const [def, wg] of attentionKernels(B, T, C, NH).backward)
      this.dispatch(this.backwardList, def, ATTENTION_DIMS, this.attentionUniform(), bind, wg);
  }

  // ---- the model -------------------------------------------------------------------------------------------------
  /** One pre-LN block: res3 = res2 + mlp(ln_2(res2)), res2 = resIn + attn(ln_1(resIn)). All (B,T,C) but noted. */
  private blockForward(p: BlockParams, resIn: GPUBuffer, a: BlockActs): void {
    const N = this.B * this.T;
    const C = this.cfg.nEmbd;
    const fw = this.forwardList;
    this.layernormForward(resIn, p.ln1, a.ln1, a.ln1Mean, a.ln1Rstd, N, C);
    this.linearForward(a.ln1, p.cAttn, a.qkv, N, C, 3 * C); // (B,T,3C)
    this.attentionForward(a.qkv, a.att, a.atty);
    this.linearForward(a.atty, p.attnProj, a.attproj, N, C, C);
    this.dispatch(fw, K.residualForward, RESIDUAL_DIMS, { N: N * C }, [resIn, a.attproj, a.res2], grid1d(N * C));
    this.layernormForward(a.res2, p.ln2, a.ln2, a.ln2Mean, a.ln2Rstd, N, C);
    this.linearGeluForward(a.ln2, p.cFc, a.fch, a.fchGelu, N, C, 4 * C); // (B,T,4C)
    this.linearForward(a.fchGelu, p.mlpProj, a.fcproj, N, 4 * C, C);
    this.dispatch(fw, K.residualForward, RESIDUAL_DIMS, { N: N * C }, [a.res2, a.fcproj, a.res3], grid1d(N * C));
  }

  /**
   * Backward of a block, in exactly the reverse order of blockForward. On entry dres holds ∂loss/∂res3; the two
   * residual connections pass it through unchanged and the layernorm backwards add their parts, so on exit dres
   * holds ∂loss/∂resIn.
   */
  private blockBackward(p: BlockParams, resIn: GPUBuffer, a: BlockActs, dres: GPUBuffer): void {
    const N = this.B * this.T;
    const C = this.cfg.nEmbd;
    const { dfc, dln, datty, dqkv } = this.mem;
    // dfc comes out as ∂loss/∂fch: the GELU's backward is the epilogue of c_proj's dinp product.
    this.linearBackward(dres, a.fchGelu, p.mlpProj, dfc, N, 4 * C, C, a.fch);
    this.linearBackward(dfc, a.ln2, p.cFc, dln, N, C, 4 * C);
    this.layernormBackward(dln, a.res2, a.ln2Mean, a.ln2Rstd, p.ln2, dres, N, C);
    this.linearBackward(dres, a.atty, p.attnProj, datty, N, C, C);
    this.attentionBackward(a.qkv, a.att, datty, dqkv);
    this.linearBackward(dqkv, a.ln1, p.cAttn, dln, N, C, 3 * C);
    this.layernormBackward(dln, resIn, a.ln1Mean, a.ln1Rstd, p.ln1, dres, N, C);
  }

  /** The trunk's output z (B,T,C): the last trunk block's res3. */
  private trunkOutput(): GPUBuffer {
    return this.block(this.cfg.nLayer - 1).res3;
  }
  /** Activations of block l: trunk blocks 0..L−1, then head k's block at L+k−1. */
  private block(l: number): BlockActs {
    const b = this.mem.blocks[l];
    if (!b) throw new Error(`no block ${l}`);
    return b;
  }
  private head(h: number): HeadActs {
    const a = this.mem.heads[h];
    if (!a) throw new Error(`no head ${h}`);
    return a;
  }
  /** Input of trunk block l: the embeddings for l = 0, else the previous block's output. */
  private blockInput(l: number): GPUBuffer {
    return l === 0 ? this.mem.encoded : this.block(l - 1).res3;
  }
  /** Input of head h's ln_f: the trunk output z for h = 0, the extra block's output for h ≥ 1. */
  private headInput(h: number): GPUBuffer {
    return h === 0 ? this.trunkOutput() : this.block(this.cfg.nLayer + h - 1).res3;
  }

  private recordForward(): void {
    const { B, T } = this;
    const { nEmbd: C, vocabSize: V, nLayer: L } = this.cfg;
    const N = B * T;
    const { wte, wpe, lnF } = MODEL_PARAMS;
    this.dispatch(
      this.forwardList,
      K.encoderForward,
      ENCODER_DIMS,
      { B, T, C, V },
      [this.mem.tokens, this.param(wte), this.param(wpe), this.mem.encoded],
      grid1d(N * C),
    );
    for (let l = 0; l < L; l++) this.blockForward(blockParams(blockPrefix(l)), this.blockInput(l), this.block(l));
    for (let k = 1; k < this.H; k++)
      this.blockForward(blockParams(headPrefix(k)), this.trunkOutput(), this.block(L + k - 1));
    for (let h = 0; h < this.H; h++) {
      const { lnf, lnfMean, lnfRstd } = this.head(h);
      this.layernormForward(this.headInput(h), lnF, lnf, lnfMean, lnfRstd, N, C);
      // lm_head, tied to wte: logits (BT,V) = lnf (BT,C) · wte (V,C)ᵀ
      this.matmulOp(this.forwardList, N, V, C, lnf, this.param(wte), null, this.logitsOf(h), { transB: true });
    }
  }

  private recordLoss(): void {
    const rows = this.H * this.B * this.T;
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    const { logits, targets, weights, losses, lossPartials, stats } = this.mem;
    this.dispatch(
      this.lossList,
      K.crossentropy,
      CROSSENTROPY_DIMS,
      { BT: this.B * this.T, V: this.cfg.vocabSize, H: this.H, headStride: stride },
      [logits, targets, weights, losses],
      grid1d(rows),
    );
    const parts = Math.ceil(rows / REDUCE_CHUNK);
    const bind = [losses, lossPartials, stats];
    this.dispatch(
      this.lossList,
      reduceKernel('partial', false),
      REDUCE_DIMS,
      { N: rows, chunk: REDUCE_CHUNK, slot: STAT_LOSS, clip: 0 },
      bind,
      [parts, 1, 1],
    );
    this.dispatch(
      this.lossList,
      reduceKernel('finalize', false),
      REDUCE_DIMS,
      { N: parts, chunk: REDUCE_CHUNK, slot: STAT_LOSS, clip: 0 },
      bind,
      [1, 1, 1],
    );
  }

  private recordBackward(): void {
    const { B, T } = this;
    const { nEmbd: C, vocabSize: V, nLayer: L } = this.cfg;
    const N = B * T;
    const { dres, dln } = this.mem;
    const { wte, wpe, lnF } = MODEL_PARAMS;
    // Heads in reverse order of the forward pass: extra heads K..1, then head 0. Each lm_head backward writes
    // ∂/∂lnf and adds the tied unembedding's gradient into dwte.
    for (let h = this.H - 1; h >= 0; h--) {
      const head = this.head(h);
      this.matmulOp(this.backwardList, N, C, V, this.logitsOf(h), this.param(wte), null, dln, {});
      this.matmulOp(this.backwardList, V, C, N, this.logitsOf(h), head.lnf, null, this.grad(wte), {
        transA: true,
        accumulate: true,
      });
      this.layernormBackward(dln, this.headInput(h), head.lnfMean, head.lnfRstd, lnF, head.dres ?? dres, N, C);
      if (head.dres) {
        const hd = head.dres;
        this.blockBackward(blockParams(headPrefix(h)), this.trunkOutput(), this.block(L + h - 1), hd);
        // The head's block read the trunk output z: its input gradient joins the trunk's residual gradient.
        this.dispatch(
          this.backwardList,
          K.residualAccumulate,
          RESIDUAL_DIMS,
          { N: N * C },
          [hd, hd, dres],
          grid1d(N * C),
        );
      }
    }
    for (let l = L - 1; l >= 0; l--)
      this.blockBackward(blockParams(blockPrefix(l)), this.blockInput(l), this.block(l), dres);
    const encBind = [this.mem.tokens, dres, this.grad(wte), this.grad(wpe)];
    this.dispatch(this.backwardList, K.wteGrad, ENCODER_DIMS, { B, T, C, V }, encBind, grid1d(V * C));
    this.dispatch(this.backwardList, K.wpeGrad, ENCODER_DIMS, { B, T, C, V }, encBind, grid1d(T * C));
  }

  private recordOptimizer(): void {
    const P = this.table.total;
    const parts = Math.ceil(P / REDUCE_CHUNK);
    const { grads, gradPartials, stats, params, adamM, adamV, decayMask } = this.mem;
    const bind = [grads, gradPartials, stats];
    // The clip threshold is per run: setGradClip() patches these two slots.
    const list = this.optimizerList;
    this.gradNormSlots = [
      this.dispatch(
        list,
        reduceKernel('partial', true),
        REDUCE_DIMS,
        { N: P, chunk: REDUCE_CHUNK, slot: STAT_NORM, clip: 1 },
        bind,
        [parts, 1, 1],
      ),
      this.dispatch(
        list,
        reduceKernel('finalize', true),
        REDUCE_DIMS,
        { N: parts, chunk: REDUCE_CHUNK, slot: STAT_NORM, clip: 1 },
        bind,
        [1, 1, 1],
      ),
    ];
    // Each step patches this slot with its learning rate and bias corrections.
    this.adamwSlot = this.dispatch(
      list,
      K.adamw,
      ADAMW_STEP,
      this.adamwValues,
      [params, grads, adamM, adamV, decayMask, stats],
      grid1d(P),
    );
  }
  /** Global-norm clipping threshold (0 disables). */
  setGradClip(clip: number): void {
    const P = this.table.total;
    const parts = Math.ceil(P / REDUCE_CHUNK);
    const [partial, finalize] = this.gradNormSlots;
    packUniform(
      REDUCE_DIMS,
      { N: P, chunk: REDUCE_CHUNK, slot: STAT_NORM, clip },
      this.uniformHost,
      partial * UNIFORM_SLOT_BYTES,
    );
    packUniform(
      REDUCE_DIMS,
      { N: parts, chunk: REDUCE_CHUNK, slot: STAT_NORM, clip },
      this.uniformHost,
      finalize * UNIFORM_SLOT_BYTES,
    );
    this.writeUniformSlot(partial, REDUCE_DIMS.bytes);
    this.writeUniformSlot(finalize, REDUCE_DIMS.bytes);
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
    if (this.destroyed) throw new Error('model destroyed');
    const slot = this.stepsTaken % READBACK_RING;
    const readback = this.mem.statsReadback[slot]!;
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
    packUniform(ADAMW_STEP, u, this.uniformHost, this.adamwSlot * UNIFORM_SLOT_BYTES);
    this.writeUniformSlot(this.adamwSlot, ADAMW_STEP.bytes);
    const enc = this.device.createCommandEncoder({ label: `step ${t}` });
    this.clearGradients(enc);
    const pass = enc.beginComputePass({ label: 'train step' });
    encodeDispatches(pass, this.forwardList);
    encodeDispatches(pass, this.lossList);
    encodeDispatches(pass, this.backwardList);
    encodeDispatches(pass, this.optimizerList);
    pass.end();
    enc.copyBufferToBuffer(this.mem.stats, 0, readback, 0, STATS_BYTES);
    this.device.queue.submit([enc.finish()]);
    this.stepsTaken = t;
    const pending = readback.mapAsync(GPUMapMode.READ).then(() => {
      // Read before unmap detaches the range; no copy of it.
      const s = new Float32Array(readback.getMappedRange(), 0, STATS_BYTES / 4);
      const stats = { step: t, loss: s[STAT_LOSS]!, gradNorm: s[STAT_NORM]!, finite: s[STAT_NORM + 2] === 1 };
      readback.unmap();
      this.pendingStats[slot] = null;
      return stats;
    });
    this.pendingStats[slot] = pending;
    return { stats: pending };
  }

  /** Forward and backward only (no update): loss and the gradients left in the grads buffer, for tests. */
  async lossAndGrads(batch: Batch): Promise<number> {
    this.writeBatch(batch);
    const enc = this.device.createCommandEncoder();
    this.clearGradients(enc);
    const pass = enc.beginComputePass();
    encodeDispatches(pass, this.forwardList);
    encodeDispatches(pass, this.lossList);
    encodeDispatches(pass, this.backwardList);
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
    encodeDispatches(pass, this.forwardList);
    pass.end();
    enc.copyBufferToBuffer(this.mem.logits, 0, staging, 0, H * stride * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange());
    const out = new Float32Array(H * n * T * V);
    for (let h = 0; h < H; h++) out.set(all.subarray(h * stride, h * stride + n * T * V), h * n * T * V);
    staging.unmap();
    return out;
  }

  /**
   * Wall time of each recorded dispatch of a training step, submitted alone `repeats` times (after a warm-up).
   * For the benchmark and for finding slow kernels; the inputs are whatever the last step left.
   */
  async profileStep(repeats = 3): Promise<{ label: string; phase: string; ms: number }[]> {
    const out: { label: string; phase: string; ms: number }[] = [];
    const phases: [string, Dispatch[]][] = [
      ['forward', this.forwardList],
      ['loss', this.lossList],
      ['backward', this.backwardList],
      ['optimizer', this.optimizerList],
    ];
    for (const [phase, list] of phases) {
      for (const d of list) {
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
