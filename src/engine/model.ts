// The GPT on the GPU: nanoGPT's model (src/model/reference.ts is its float64 twin) trained by WGSL kernels.
// Memory is planned once (plan.ts) and every dispatch of a training step is bound once, here, in the constructor;
// a step then writes its batch, replays the recorded dispatches in one command buffer and copies its loss to a
// readback ring that is read asynchronously, a few steps late.
//
// Legend: B batch, T sequence, C width, NH heads, hs = C/NH, V vocab, L trunk blocks, K extra heads, H = 1 + K.
import type { Batch } from '../model/batch';
import type { ModelConfig, TrainConfig } from '../model/config';
import { blockPrefix, headPrefix, paramTable, type ParamTable } from '../model/params';
import { encodeDispatches, grid1d, KernelCache, uniformData, type Binding, type Dispatch, type KernelDef } from './kernel';
import { attentionKernels, K, matmulKernel, reduceKernel, type MatmulFlags } from './kernels';
import { blockActivations, checkPlan, logitsHeadStride, planBuffers, REDUCE_CHUNK, type PlanSummary } from './plan';
import { matmulVariant, type MatmulVariant } from './matmul-variants';

/** Slots of the small stats buffer that each step copies back. */
const STAT_LOSS = 0;
const STAT_NORM = 4; // norm, clip scale, finite flag
/** Steps that may be in flight before a step waits for the oldest readback. */
const READBACK_RING = 4;

export interface StepStats {
  step: number;
  /** Σ weight·CE over the batch, before this step's update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the norm was NaN/Inf: the optimizer then skipped the step and left the weights unchanged. */
  finite: boolean;
}

interface BlockActs {
  [name: string]: GPUBuffer;
}

export class GpuModel {
  readonly table: ParamTable;
  readonly H: number;
  readonly plan: PlanSummary;
  private readonly kernels: KernelCache;
  private readonly buffers = new Map<string, GPUBuffer>();
  private readonly forwardList: Dispatch[] = [];
  private readonly lossList: Dispatch[] = [];
  private readonly backwardList: Dispatch[] = [];
  private readonly optimizerList: Dispatch[] = [];
  private readonly stepUniform: GPUBuffer;
  private readonly ring: { buffer: GPUBuffer; pending: Promise<StepStats> | null }[] = [];
  private readonly matmul: MatmulVariant;
  private stepsTaken = 0;
  private destroyed = false;

  /**
   * Plans and allocates everything for batches of at most B sequences of exactly T tokens. Throws PlanError before
   * allocating anything if the plan exceeds the device's limits.
   */
  constructor(
    readonly device: GPUDevice,
    readonly cfg: ModelConfig,
    readonly B: number,
    readonly T: number,
  ) {
    if (T > cfg.blockSize) throw new Error(`sequence length ${T} exceeds blockSize ${cfg.blockSize}`);
    this.plan = checkPlan(cfg, B, T, device.limits);
    this.table = paramTable(cfg);
    this.H = 1 + cfg.extraHeads;
    this.kernels = new KernelCache(device);
    this.matmul = matmulVariant(device);
    for (const b of planBuffers(cfg, B, T)) {
      const staging = b.name === 'evalStaging';
      this.buffers.set(
        b.name,
        device.createBuffer({
          label: b.name,
          size: Math.max(16, b.elements * 4),
          usage: staging
            ? GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST
            : GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        }),
      );
    }
    for (let i = 0; i < READBACK_RING; i++) {
      const buffer = device.createBuffer({ label: `statsReadback${i}`, size: 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.ring.push({ buffer, pending: null });
    }
    this.stepUniform = device.createBuffer({ label: 'adamw.step', size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.writeDecayMask();
    this.recordForward();
    this.recordLoss();
    this.recordBackward();
    this.recordOptimizer();
  }

  // ---- buffers and bindings ------------------------------------------------------------------------------------
  private buf(name: string): GPUBuffer {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`no buffer ${name}`);
    return b;
  }
  private param(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.buf('params'), offset: s.offset * 4, size: s.size * 4 };
  }
  private grad(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.buf('grads'), offset: s.offset * 4, size: s.size * 4 };
  }
  private logitsOf(h: number): Binding {
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    return { buffer: this.buf('logits'), offset: h * stride * 4, size: this.B * this.T * this.cfg.vocabSize * 4 };
  }
  /** The kernels' uniform buffers, made once as the dispatch lists are built; destroy() frees them with the plan. */
  private readonly uniforms: GPUBuffer[] = [];
  private uniform(label: string, fields: { u32?: number[]; f32?: number[] }): GPUBuffer {
    const data = uniformData(fields);
    const u = this.device.createBuffer({ label: `${label}.uniform`, size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint8Array(u.getMappedRange()).set(new Uint8Array(data));
    u.unmap();
    this.uniforms.push(u);
    return u;
  }
  private blockActs(l: number): BlockActs {
    const acts: BlockActs = {};
    for (const [n] of blockActivations(1, 1, 1, 1)) acts[n] = this.buf(`block${l}.${n}`);
    return acts;
  }
  /** Write typed-array data at the start of a planned buffer (queue-ordered: safe while earlier steps run). */
  private upload(name: string, data: Float32Array | Int32Array | Uint32Array): void {
    this.device.queue.writeBuffer(this.buf(name), 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  }
  private writeDecayMask(): void {
    const mask = new Uint32Array(Math.ceil(this.table.total / 32));
    for (const s of this.table.specs) {
      if (!s.decay) continue;
      for (let i = s.offset; i < s.offset + s.size; i++) mask[i >>> 5]! |= 1 << (i & 31);
    }
    this.upload('decayMask', mask);
  }

  // ---- op launchers: each forward has its backward beside it --------------------------------------------------
  private dispatch(list: Dispatch[], def: KernelDef, uniform: { u32?: number[]; f32?: number[] }, bindings: Binding[], wg: [number, number, number]): void {
    list.push(this.kernels.dispatch(def, [this.uniform(def.label, uniform), ...bindings], wg));
  }

  /** out (M,N) = op(A)·op(B) [+ bias] [+= out], then the GELU epilogue that flags name, on aux. */
  private matmulOp(list: Dispatch[], M: number, N: number, K_: number, a: Binding, b: Binding, bias: Binding | null, out: Binding, flags: Omit<MatmulFlags, 'bias'>, aux: Binding | null = null): void {
    // The kernel depends on the shape (vec4 kernels where the contiguous dimensions allow, see matmulKernel).
    const { def, workgroups } = matmulKernel({ ...flags, bias: !!bias }, M, N, K_, this.matmul);
    this.dispatch(list, def, { u32: [M, N, K_, 0] }, [a, b, bias ?? this.buf('stats'), out, aux ?? this.buf('matmulAux')], workgroups);
  }

  /** Linear forward: out (M,OC) = inp (M,IC) · W (OC,IC)ᵀ + b. */
  private linearForward(inp: Binding, w: string, b: string, out: Binding, M: number, IC: number, OC: number): void {
    this.matmulOp(this.forwardList, M, OC, IC, inp, this.param(w), this.param(b), out, { transB: true });
  }
  /** c_fc and its GELU in one kernel: pre (M,OC) = inp (M,IC) · W (OC,IC)ᵀ + b, post (M,OC) = gelu(pre). */
  private linearGeluForward(inp: Binding, w: string, b: string, pre: Binding, post: Binding, M: number, IC: number, OC: number): void {
    this.matmulOp(this.forwardList, M, OC, IC, inp, this.param(w), this.param(b), pre, { transB: true, gelu: true }, post);
  }
  /**
   * dinp (M,IC) = dout (M,OC) · W; dW (OC,IC) += doutᵀ · inp; db (OC) += Σ_rows dout. With geluPre (the (M,IC)
   * pre-activation whose GELU was this Linear's input), dinp comes out already times gelu'(geluPre): the gradient
   * with respect to that pre-activation.
   */
  private linearBackward(dout: Binding, inp: Binding, w: string, b: string, dinp: Binding, M: number, IC: number, OC: number, geluPre: Binding | null = null): void {
    const list = this.backwardList;
    this.matmulOp(list, M, IC, OC, dout, this.param(w), null, dinp, { geluGrad: !!geluPre }, geluPre);
    this.matmulOp(list, OC, IC, M, dout, inp, null, this.grad(w), { transA: true, accumulate: true });
    this.dispatch(list, K.biasBackward, { u32: [M, OC] }, [dout, this.grad(b)], grid1d(OC));
  }

  /** LayerNorm forward over rows of width C: out, mean, rstd. */
  private layernormForward(inp: Binding, w: string, b: string, out: Binding, mean: Binding, rstd: Binding, N: number, C: number): void {
    this.dispatch(this.forwardList, K.layernormForward, { u32: [N, C] }, [inp, this.param(w), this.param(b), out, mean, rstd], grid1d(N));
  }
  /** LayerNorm backward: dinp += …, dweight/dbias += … (see layernorm_backward.wgsl). */
  private layernormBackward(dout: Binding, inp: Binding, mean: Binding, rstd: Binding, w: string, b: string, dinp: Binding, N: number, C: number): void {
    const bind = [dout, inp, this.param(w), mean, rstd, dinp, this.grad(w), this.grad(b)];
    this.dispatch(this.backwardList, K.layernormDinput, { u32: [N, C] }, bind, grid1d(N));
    this.dispatch(this.backwardList, K.layernormDparams, { u32: [N, C] }, bind, grid1d(C));
  }

  private attentionUniform(): { u32: number[]; f32: number[] } {
    const { nEmbd: C, nHead: NH, attention } = this.cfg;
    return { u32: [this.B, this.T, C, NH, attention === 'causal' ? 1 : 0], f32: [1 / Math.sqrt(C / NH)] };
  }
  /** Attention forward: qkv (B,T,3C) → att (B,NH,T,T), out (B,T,C). */
  private attentionForward(qkv: GPUBuffer, att: GPUBuffer, out: GPUBuffer): void {
    const { B, T } = this;
    const { nEmbd: C, nHead: NH } = this.cfg;
    for (const [def, wg] of attentionKernels(B, T, C, NH).forward) this.dispatch(this.forwardList, def, this.attentionUniform(), [qkv, att, out], wg);
  }
  /** Attention backward: dout (B,T,C) → dqkv (B,T,3C), via dpreatt (B,NH,T,T). */
  private attentionBackward(qkv: GPUBuffer, att: GPUBuffer, dout: GPUBuffer, dqkv: GPUBuffer): void {
    const { B, T } = this;
    const { nEmbd: C, nHead: NH } = this.cfg;
    const bind = [qkv, att, dout, this.buf('dpreatt'), dqkv];
    for (const [def, wg] of attentionKernels(B, T, C, NH).backward) this.dispatch(this.backwardList, def, this.attentionUniform(), bind, wg);
  }

  // ---- the model -------------------------------------------------------------------------------------------------
  /** One pre-LN block: res3 = res2 + mlp(ln_2(res2)), res2 = resIn + attn(ln_1(resIn)). */
  private blockForward(prefix: string, resIn: GPUBuffer, a: BlockActs): void {
    const N = this.B * this.T;
    const C = this.cfg.nEmbd;
    const fw = this.forwardList;
    this.layernormForward(resIn, prefix + 'ln_1.weight', prefix + 'ln_1.bias', a.ln1!, a.ln1Mean!, a.ln1Rstd!, N, C);
    this.linearForward(a.ln1!, prefix + 'attn.c_attn.weight', prefix + 'attn.c_attn.bias', a.qkv!, N, C, 3 * C);
    this.attentionForward(a.qkv!, a.att!, a.atty!);
    this.linearForward(a.atty!, prefix + 'attn.c_proj.weight', prefix + 'attn.c_proj.bias', a.attproj!, N, C, C);
    this.dispatch(fw, K.residualForward, { u32: [N * C] }, [resIn, a.attproj!, a.res2!], grid1d(N * C));
    this.layernormForward(a.res2!, prefix + 'ln_2.weight', prefix + 'ln_2.bias', a.ln2!, a.ln2Mean!, a.ln2Rstd!, N, C);
    this.linearGeluForward(a.ln2!, prefix + 'mlp.c_fc.weight', prefix + 'mlp.c_fc.bias', a.fch!, a.fchGelu!, N, C, 4 * C);
    this.linearForward(a.fchGelu!, prefix + 'mlp.c_proj.weight', prefix + 'mlp.c_proj.bias', a.fcproj!, N, 4 * C, C);
    this.dispatch(fw, K.residualForward, { u32: [N * C] }, [a.res2!, a.fcproj!, a.res3!], grid1d(N * C));
  }

  /**
   * Backward of a block, in exactly the reverse order of blockForward. On entry dres holds ∂loss/∂res3; the two
   * residual connections pass it through unchanged and the layernorm backwards add their parts, so on exit dres
   * holds ∂loss/∂resIn.
   */
  private blockBackward(prefix: string, resIn: GPUBuffer, a: BlockActs, dres: GPUBuffer): void {
    const N = this.B * this.T;
    const C = this.cfg.nEmbd;
    const dfc = this.buf('dfc');
    const dln = this.buf('dln');
    const datty = this.buf('datty');
    const dqkv = this.buf('dqkv');
    // dfc comes out as ∂loss/∂fch: the GELU's backward is the epilogue of c_proj's dinp product.
    this.linearBackward(dres, a.fchGelu!, prefix + 'mlp.c_proj.weight', prefix + 'mlp.c_proj.bias', dfc, N, 4 * C, C, a.fch!);
    this.linearBackward(dfc, a.ln2!, prefix + 'mlp.c_fc.weight', prefix + 'mlp.c_fc.bias', dln, N, C, 4 * C);
    this.layernormBackward(dln, a.res2!, a.ln2Mean!, a.ln2Rstd!, prefix + 'ln_2.weight', prefix + 'ln_2.bias', dres, N, C);
    this.linearBackward(dres, a.atty!, prefix + 'attn.c_proj.weight', prefix + 'attn.c_proj.bias', datty, N, C, C);
    this.attentionBackward(a.qkv!, a.att!, datty, dqkv);
    this.linearBackward(dqkv, a.ln1!, prefix + 'attn.c_attn.weight', prefix + 'attn.c_attn.bias', dln, N, C, 3 * C);
    this.layernormBackward(dln, resIn, a.ln1Mean!, a.ln1Rstd!, prefix + 'ln_1.weight', prefix + 'ln_1.bias', dres, N, C);
  }

  /** Input of head h's ln_f: the trunk output z for h = 0, the extra block's output for h ≥ 1. */
  private headInput(h: number): GPUBuffer {
    return this.buf(`block${h === 0 ? this.cfg.nLayer - 1 : this.cfg.nLayer + h - 1}.res3`);
  }

  private recordForward(): void {
    const { B, T } = this;
    const { nEmbd: C, vocabSize: V, nLayer: L } = this.cfg;
    const N = B * T;
    this.dispatch(this.forwardList, K.encoderForward, { u32: [B, T, C, V] }, [this.buf('tokens'), this.param('transformer.wte.weight'), this.param('transformer.wpe.weight'), this.buf('encoded')], grid1d(N * C));
    for (let l = 0; l < L; l++) {
      this.blockForward(blockPrefix(l), l === 0 ? this.buf('encoded') : this.buf(`block${l - 1}.res3`), this.blockActs(l));
    }
    const z = this.buf(`block${L - 1}.res3`);
    for (let k = 1; k < this.H; k++) this.blockForward(headPrefix(k), z, this.blockActs(L + k - 1));
    for (let h = 0; h < this.H; h++) {
      const lnf = this.buf(`head${h}.lnf`);
      this.layernormForward(this.headInput(h), 'transformer.ln_f.weight', 'transformer.ln_f.bias', lnf, this.buf(`head${h}.lnfMean`), this.buf(`head${h}.lnfRstd`), N, C);
      // lm_head, tied to wte: logits (BT,V) = lnf (BT,C) · wte (V,C)ᵀ
      this.matmulOp(this.forwardList, N, V, C, lnf, this.param('transformer.wte.weight'), null, this.logitsOf(h), { transB: true });
    }
  }

  private recordLoss(): void {
    const rows = this.H * this.B * this.T;
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    this.dispatch(this.lossList, K.crossentropy, { u32: [this.B * this.T, this.cfg.vocabSize, this.H, stride] }, [this.buf('logits'), this.buf('targets'), this.buf('weights'), this.buf('losses')], grid1d(rows));
    const parts = Math.ceil(rows / REDUCE_CHUNK);
    const u = { u32: [rows, REDUCE_CHUNK, STAT_LOSS], f32: [0] };
    this.dispatch(this.lossList, reduceKernel('partial', false), u, [this.buf('losses'), this.buf('lossPartials'), this.buf('stats')], [parts, 1, 1]);
    this.dispatch(this.lossList, reduceKernel('finalize', false), { ...u, u32: [parts, REDUCE_CHUNK, STAT_LOSS] }, [this.buf('losses'), this.buf('lossPartials'), this.buf('stats')], [1, 1, 1]);
  }

  private recordBackward(): void {
    const { B, T } = this;
    const { nEmbd: C, vocabSize: V, nLayer: L } = this.cfg;
    const N = B * T;
    const dres = this.buf('dres');
    const dln = this.buf('dln');
    const wte = 'transformer.wte.weight';
    // Heads in reverse order of the forward pass: extra heads K..1, then head 0. Each lm_head backward writes
    // ∂/∂lnf and adds the tied unembedding's gradient into dwte.
    for (let h = this.H - 1; h >= 0; h--) {
      const lnf = this.buf(`head${h}.lnf`);
      this.matmulOp(this.backwardList, N, C, V, this.logitsOf(h), this.param(wte), null, dln, {});
      this.matmulOp(this.backwardList, V, C, N, this.logitsOf(h), lnf, null, this.grad(wte), { transA: true, accumulate: true });
      const target = h === 0 ? dres : this.buf(`head${h}.dres`);
      this.layernormBackward(dln, this.headInput(h), this.buf(`head${h}.lnfMean`), this.buf(`head${h}.lnfRstd`), 'transformer.ln_f.weight', 'transformer.ln_f.bias', target, N, C);
      if (h > 0) {
        const hd = this.buf(`head${h}.dres`);
        this.blockBackward(headPrefix(h), this.buf(`block${L - 1}.res3`), this.blockActs(L + h - 1), hd);
        // The head's block read the trunk output z: its input gradient joins the trunk's residual gradient.
        this.dispatch(this.backwardList, K.residualAccumulate, { u32: [N * C] }, [hd, hd, dres], grid1d(N * C));
      }
    }
    for (let l = L - 1; l >= 0; l--) {
      this.blockBackward(blockPrefix(l), l === 0 ? this.buf('encoded') : this.buf(`block${l - 1}.res3`), this.blockActs(l), dres);
    }
    const encBind = [this.buf('tokens'), dres, this.grad(wte), this.grad('transformer.wpe.weight')];
    this.dispatch(this.backwardList, K.wteGrad, { u32: [B, T, C, V] }, encBind, grid1d(V * C));
    this.dispatch(this.backwardList, K.wpeGrad, { u32: [B, T, C, V] }, encBind, grid1d(T * C));
  }

  private recordOptimizer(): void {
    const P = this.table.total;
    const parts = Math.ceil(P / REDUCE_CHUNK);
    const bind = [this.buf('grads'), this.buf('gradPartials'), this.buf('stats')];
    // The clip threshold is per run; it is patched into these uniforms by setGradClip().
    this.gradNormUniforms = [this.uniformMutable('gradnorm.partial'), this.uniformMutable('gradnorm.finalize')];
    this.optimizerList.push(this.kernels.dispatch(reduceKernel('partial', true), [this.gradNormUniforms[0], ...bind], [parts, 1, 1]));
    this.optimizerList.push(this.kernels.dispatch(reduceKernel('finalize', true), [this.gradNormUniforms[1], ...bind], [1, 1, 1]));
    this.setGradClip(1.0);
    this.optimizerList.push(
      this.kernels.dispatch(K.adamw, [this.stepUniform, this.buf('params'), this.buf('grads'), this.buf('adam.m'), this.buf('adam.v'), this.buf('decayMask'), this.buf('stats')], grid1d(P)),
    );
  }
  private gradNormUniforms: GPUBuffer[] = [];
  private uniformMutable(label: string): GPUBuffer {
    const u = this.device.createBuffer({ label, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.uniforms.push(u);
    return u;
  }
  /** Global-norm clipping threshold (0 disables). */
  setGradClip(clip: number): void {
    const P = this.table.total;
    const parts = Math.ceil(P / REDUCE_CHUNK);
    this.device.queue.writeBuffer(this.gradNormUniforms[0]!, 0, uniformData({ u32: [P, REDUCE_CHUNK, STAT_NORM], f32: [clip] }));
    this.device.queue.writeBuffer(this.gradNormUniforms[1]!, 0, uniformData({ u32: [parts, REDUCE_CHUNK, STAT_NORM], f32: [clip] }));
  }

  // ---- public API ------------------------------------------------------------------------------------------------
  /** Upload parameters laid out by the parameter table; resets the optimizer unless told otherwise. */
  setParams(params: Float32Array, opts: { keepOptimizer?: boolean } = {}): void {
    if (params.length !== this.table.total) throw new Error(`expected ${this.table.total} parameter floats, got ${params.length}`);
    this.upload('params', params);
    if (!opts.keepOptimizer) {
      const zeros = new Float32Array(this.table.total);
      this.device.queue.writeBuffer(this.buf('adam.m'), 0, zeros);
      this.device.queue.writeBuffer(this.buf('adam.v'), 0, zeros);
      this.stepsTaken = 0;
    }
  }

  /** Restore AdamW's moments and step count (for exact resume). */
  setOptimizerState(m: Float32Array, v: Float32Array, steps: number): void {
    this.upload('adam.m', m);
    this.upload('adam.v', v);
    this.stepsTaken = steps;
  }

  get steps(): number {
    return this.stepsTaken;
  }

  async getParams(): Promise<Float32Array> {
    return this.read('params', this.table.total);
  }
  async getGrads(): Promise<Float32Array> {
    return this.read('grads', this.table.total);
  }
  async getOptimizerState(): Promise<{ m: Float32Array; v: Float32Array; steps: number }> {
    return { m: await this.read('adam.m', this.table.total), v: await this.read('adam.v', this.table.total), steps: this.stepsTaken };
  }

  /** Copy a buffer back (tests, checkpoints). Allocates a staging buffer: not for the training loop. */
  async read(name: string, elements: number, offset = 0): Promise<Float32Array> {
    const staging = this.device.createBuffer({ size: elements * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.buf(name), offset * 4, staging, 0, elements * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Host copies of the (H, B, T) targets and weights, made once: a step fills them instead of allocating. */
  private hostTargets: Int32Array | null = null;
  private hostWeights: Float32Array | null = null;

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
    this.upload('tokens', tokens);
  }

  private writeBatch(batch: Batch): void {
    const { B, T, H } = this;
    if (batch.T !== T) throw new Error(`batch has sequence length ${batch.T}, model was planned for ${T}`);
    this.writeTokens(batch.tokens, batch.n);
    if (batch.weights.length !== H * batch.n * T || batch.targets.length !== H * batch.n * T) {
      throw new Error(`targets/weights must have H·n·T = ${H * batch.n * T} entries`);
    }
    // Rows past n (a short batch) get no target and zero loss weight.
    const targets = (this.hostTargets ??= new Int32Array(H * B * T)).fill(-1);
    const weights = (this.hostWeights ??= new Float32Array(H * B * T)).fill(0);
    for (let h = 0; h < H; h++) {
      targets.set(batch.targets.subarray(h * batch.n * T, (h + 1) * batch.n * T), h * B * T);
      weights.set(batch.weights.subarray(h * batch.n * T, (h + 1) * batch.n * T), h * B * T);
    }
    this.upload('targets', targets);
    this.upload('weights', weights);
  }

  /**
   * One optimizer step: forward, loss, backward, gradient norm and clipping, AdamW — recorded into one command
   * buffer. Resolves once submitted, with `stats`: a promise for the step's loss that resolves when its readback
   * arrives. It only waits itself when READBACK_RING earlier steps are still unread.
   */
  async step(batch: Batch, lr: number, train: TrainConfig): Promise<{ stats: Promise<StepStats> }> {
    if (this.destroyed) throw new Error('model destroyed');
    const slot = this.ring[this.stepsTaken % READBACK_RING]!;
    if (slot.pending) await slot.pending;
    this.writeBatch(batch);
    const t = this.stepsTaken + 1;
    this.device.queue.writeBuffer(
      this.stepUniform,
      0,
      uniformData({ u32: [this.table.total, STAT_NORM], f32: [lr, train.beta1, train.beta2, train.eps, train.weightDecay, 1 - train.beta1 ** t, 1 - train.beta2 ** t] }),
    );
    const enc = this.device.createCommandEncoder({ label: `step ${t}` });
    enc.clearBuffer(this.buf('grads'));
    enc.clearBuffer(this.buf('dres'));
    for (let h = 1; h < this.H; h++) enc.clearBuffer(this.buf(`head${h}.dres`));
    const pass = enc.beginComputePass({ label: 'train step' });
    encodeDispatches(pass, this.forwardList);
    encodeDispatches(pass, this.lossList);
    encodeDispatches(pass, this.backwardList);
    encodeDispatches(pass, this.optimizerList);
    pass.end();
    enc.copyBufferToBuffer(this.buf('stats'), 0, slot.buffer, 0, 64);
    this.device.queue.submit([enc.finish()]);
    this.stepsTaken = t;
    const stepIndex = t;
    const pending = slot.buffer.mapAsync(GPUMapMode.READ).then(() => {
      const s = new Float32Array(slot.buffer.getMappedRange().slice(0));
      slot.buffer.unmap();
      slot.pending = null;
      return { step: stepIndex, loss: s[STAT_LOSS]!, gradNorm: s[STAT_NORM]!, finite: s[STAT_NORM + 2] === 1 };
    });
    slot.pending = pending;
    return { stats: pending };
  }

  /** Forward and backward only (no update): loss and the gradients left in the grads buffer, for tests. */
  async lossAndGrads(batch: Batch): Promise<number> {
    this.writeBatch(batch);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(this.buf('grads'));
    enc.clearBuffer(this.buf('dres'));
    for (let h = 1; h < this.H; h++) enc.clearBuffer(this.buf(`head${h}.dres`));
    const pass = enc.beginComputePass();
    encodeDispatches(pass, this.forwardList);
    encodeDispatches(pass, this.lossList);
    encodeDispatches(pass, this.backwardList);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    return (await this.read('stats', 1))[0]!;
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
    const staging = this.buf('evalStaging');
    const enc = this.device.createCommandEncoder({ label: 'forward' });
    const pass = enc.beginComputePass();
    encodeDispatches(pass, this.forwardList);
    pass.end();
    enc.copyBufferToBuffer(this.buf('logits'), 0, staging, 0, H * stride * 4);
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
    await Promise.all(this.ring.map((s) => s.pending));
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    this.destroyed = true;
    for (const b of this.buffers.values()) b.destroy();
    for (const r of this.ring) r.buffer.destroy();
    for (const u of this.uniforms) u.destroy();
    this.stepUniform.destroy();
  }
}
