// The op launchers of a recorded training step (model-record.ts): each op's forward beside its backward, as
// llm.c writes them, each a dispatch of one kernel with its uniform packed into the next slot of the host image of
// the uniform buffer and its buffers bound once. Shapes in comments (legend: model.ts).
import type { ModelConfig } from '../model/config';
import { lmHeadRows, MODEL_PARAMS, type ModuleParams, type ParamTable } from '../model/params';
import type { Binding, Dispatch, KernelCache, KernelDef } from './pipelines';
import {
  attentionKernels,
  layernormKernels,
  layernormMatmulKernel,
  lnRstdAt,
  matmulDims,
  matmulKernel,
  matmulSplitK,
  ONE_ROW_LANE,
  splitKSlices,
  operandTransposes,
  transposedLanes,
  transposeKernel,
  type LaneStrides,
  type MatmulStorage,
  type RowLanes,
  type StorageType,
  type MatmulFlags,
  type Shape2,
} from './kernels';
import type { MatmulVariant } from './matmul-variants';
import type { ReductionVariant } from './reduction-variants';
import type { ModelBuffers } from './model-buffers';
import { logitsHeadStride, STATS_LANE, UNIFORM_SLOT_BYTES } from './plan';
import {
  ADAMW_STEP,
  ATTENTION_DIMS,
  checkUniformLayout,
  CROSSENTROPY_DIMS,
  LAYERNORM_DIMS,
  MATMUL_DIMS,
  packUniform,
  REDUCE_DIMS,
  SPLITK_REDUCE_DIMS,
  TRANSPOSE_DIMS,
  type UniformLayout,
  type UniformValues,
} from './uniforms';

/** What the model needs to record a step: its shape, its buffers and kernels, and the uniform image to pack into. */
export interface RecordingTarget {
  cfg: ModelConfig;
  /** Sequences per lane. */
  B: number;
  /**
   * Models of this shape stacked in the same dispatches (1: one model): their rows along the batch, L·B sequences in
   * all, and their parameters, gradients, moments, logits and statistics lane after lane (plan.ts, planBuffers).
   */
  lanes: number;
  T: number;
  H: number;
  table: ParamTable;
  mem: ModelBuffers;
  kernels: KernelCache;
  matmul: MatmulVariant;
  /**
   * How the row reductions of LayerNorm, cross-entropy and attention's softmax run (one invocation or one workgroup
   * per row).
   */
  reduction: ReductionVariant;
  /** Host image of the uniform buffer, plannedUniforms slots of UNIFORM_SLOT_BYTES. */
  uniformHost: DataView;
  plannedUniforms: number;
  /** AdamW's uniform fields (each step rewrites them and its slot). */
  adamwValues: UniformValues<typeof ADAMW_STEP>;
}

/**
 * A LayerNorm whose output is a product's A operand: its input x (N,C), its module's parameters, and its statistics
 * buffer (mean (N), then rstd at lnRstdAt(N): kernels/). matmulOp records it with the product (fused where it can).
 */
export interface LayerNormInput {
  x: Binding;
  m: ModuleParams;
  stats: GPUBuffer;
}

/** Records dispatches into five lists (forward, loss, backward, sums, optimizer) through the op launchers below. */
export class OpRecorder {
  readonly forwardList: Dispatch[] = [];
  readonly lossList: Dispatch[] = [];
  readonly backwardList: Dispatch[] = [];
  readonly sumsList: Dispatch[] = [];
  readonly optimizerList: Dispatch[] = [];
  uniformsUsed = 0;
  /**
   * Dispatches the plan counts that this variant's recording does not need (a LayerNorm fused into its product, the
   * transposes and split-K reduces of other variants): the plan is the same for every variant, so that a spec is
   * checked without a device.
   */
  uniformsFusedAway = 0;
  sumsSlots: [number, number] = [0, 0];
  sumsValues: UniformValues<typeof REDUCE_DIMS> = { N0: 0, N1: 0, chunk: 0, slot0: 0, slot1: 0, clip: 0 };
  adamwSlot = 0;
  lossSlot = 0;
  lossValues: UniformValues<typeof CROSSENTROPY_DIMS> = {
    BT: 0,
    V: 0,
    Vp: 0,
    H: 0,
    headStride: 0,
    exclude: 0,
    focalGamma: 0,
  };
  protected readonly cfg: ModelConfig;
  protected readonly B: number;
  protected readonly L: number;
  /** The stacked lanes as the row-wise, reduction and optimizer kernels take them. */
  protected readonly rowLanes: RowLanes;
  protected readonly T: number;
  protected readonly H: number;
  protected readonly table: ParamTable;
  protected readonly mem: ModelBuffers;
  protected readonly kernels: KernelCache;
  protected readonly matmul: MatmulVariant;
  protected readonly reduction: ReductionVariant;
  protected readonly uniformHost: DataView;
  protected readonly plannedUniforms: number;
  protected readonly adamwValues: UniformValues<typeof ADAMW_STEP>;

  constructor(t: RecordingTarget) {
    ({
      cfg: this.cfg,
      B: this.B,
      lanes: this.L,
      T: this.T,
      H: this.H,
      table: this.table,
      mem: this.mem,
      kernels: this.kernels,
      matmul: this.matmul,
      reduction: this.reduction,
      uniformHost: this.uniformHost,
      plannedUniforms: this.plannedUniforms,
      adamwValues: this.adamwValues,
    } = t);
    this.rowLanes =
      this.L === 1
        ? ONE_ROW_LANE
        : { lanes: this.L, rows: this.B * this.T, params: this.table.total, stats: STATS_LANE };
  }

  /** Bytes of a binding that starts at a lane's tensor of `floats` and reaches the same tensor of the last lane. */
  private acrossLanes(floats: number, laneFloats: number): number {
    return ((this.L - 1) * laneFloats + floats) * 4;
  }
  protected param(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.mem.params, offset: s.offset * 4, size: this.acrossLanes(s.size, this.table.total) };
  }
  /**
   * Floats between two lanes' copies of a bound operand (0 for one lane): a table apart in the parameters and
   * gradients, a lane's heads apart in the logits, `packed` (the operand's size) in the stacked activations, 0 for
   * a placeholder binding that no kernel reads.
   */
  protected laneStride(b: Binding, packed: number): number {
    if (this.L === 1) return 0;
    const buffer = 'buffer' in b ? b.buffer : b;
    if (buffer === this.mem.params || buffer === this.mem.grads || buffer === this.mem.biasGrads)
      return this.table.total;
    if (buffer === this.mem.logits) return this.H * logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    if (buffer === this.mem.stats || buffer === this.mem.matmulAux) return 0;
    return packed;
  }
  /** A LayerNorm's statistics buffer over N rows as its two halves (kernels/, lnRstdAt). */
  private lnStats(stats: GPUBuffer, N: number): { mean: Binding; rstd: Binding } {
    return {
      mean: { buffer: stats, offset: 0, size: N * 4 },
      rstd: { buffer: stats, offset: lnRstdAt(N) * 4, size: N * 4 },
    };
  }
  /**
   * A LayerNorm's weight and bias as one range of the parameter buffer, which the fused kernel binds as one, and
   * where the bias starts in it (floats): the table lays a module's bias out right after its weight's aligned slot.
   */
  private lnParams(m: ModuleParams): { range: Binding; biasAt: number } {
    const w = this.table.get(m.weight);
    const b = this.table.get(m.bias);
    if (b.offset < w.offset + w.size) throw new Error(`${m.bias} does not follow ${m.weight} in the parameter table`);
    const range = { buffer: this.mem.params, offset: w.offset * 4, size: (b.offset - w.offset + b.size) * 4 };
    return { range, biasAt: b.offset - w.offset };
  }
  protected grad(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.mem.grads, offset: s.offset * 4, size: this.acrossLanes(s.size, this.table.total) };
  }
  /**
   * The gradient of a bias (or of wpe): in grads, or for stacked lanes in biasGrads (same layout), so that a kernel
   * writing it beside a weight's gradient binds two buffers, not two overlapping ranges of one (plan.ts).
   */
  protected biasGrad(name: string): Binding {
    const g = this.grad(name);
    return this.L === 1 ? g : { ...g, buffer: this.mem.biasGrads };
  }
  /**
   * Head h's logits, (B·T, Vp) with Vp = lmHeadRows(V): the vocabulary padded to a multiple of 4. Stacked, the
   * logits are lane-major, (L, H, B·T, Vp) with heads logitsHeadStride apart: each lane's heads are its own rows.
   */
  protected logitsOf(h: number): Binding {
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    const size = this.acrossLanes(this.B * this.T * lmHeadRows(this.cfg.vocabSize), this.H * stride);
    return { buffer: this.mem.logits, offset: h * stride * 4, size };
  }
  /**
   * The tied lm_head's weight (or its gradient, in the grads buffer): wte (V,C) with its slot's zero rows up to
   * Vp = lmHeadRows(V), (Vp,C).
   */
  protected lmHead(buffer: GPUBuffer): Binding {
    const s = this.table.get(MODEL_PARAMS.wte);
    const floats = lmHeadRows(this.cfg.vocabSize) * this.cfg.nEmbd;
    return { buffer, offset: s.offset * 4, size: this.acrossLanes(floats, this.table.total) };
  }

  /**
   * The next slot of the uniform buffer, packed with `values` by the kernel's struct (checked against its source);
   * returns the slot and its binding.
   */
  protected uniform<F extends string>(
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
  /** How a bound buffer holds its values: f16 for the model's half activations (plan.ts, HALF_ACTIVATIONS). */
  protected storageOf(b: Binding): StorageType {
    return this.mem.half.has('buffer' in b ? b.buffer : b) ? 'f16' : 'f32';
  }
  // ---- op launchers: each forward has its backward beside it --------------------------------------------------
  protected dispatch<F extends string>(
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

  /**
   * out (M,N) = op(A)·op(B) [+ bias] [+= out], then the epilogue that flags name (GELU or residual), with aux. Where
   * the variant runs the product over transposed operands (operandTransposes: a tnOnly variant's nt and nn products,
   * an nnWeightGrads variant's dW products) it first copies A, and for nt B, transposed into the planned scratch; the
   * plan counts two (nt) or one (nn, dW) such dispatches for every variant. With ln, A is that LayerNorm's output:
   * the LayerNorm is recorded here too, fused into the product's kernel where the variant can (one dispatch, which
   * the plan counts as two).
   */
  protected matmulOp(
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
    ln: LayerNormInput | null = null,
  ): void {
    const planned = flags.transB ? 2 : 1;
    const L = this.L;
    // Each operand's lane stride: A (M,K_), B (K_,N), C and aux (M,N) where they are activations.
    let lanes: LaneStrides = {
      lanes: L,
      a: this.laneStride(ln ? ln.x : a, M * K_),
      b: this.laneStride(b, K_ * N),
      bias: bias ? this.laneStride(bias, N) : 0,
      c: this.laneStride(out, M * N),
      aux: aux ? this.laneStride(aux, M * N) : 0,
    };
    const storage: MatmulStorage = {
      a: this.storageOf(ln ? ln.x : a),
      b: this.storageOf(b),
      c: this.storageOf(out),
      aux: aux ? this.storageOf(aux) : 'f32',
    };
    if (ln) {
      // A = ln(x): one dispatch where the variant fuses the LayerNorm into this product's kernel, which writes A and
      // the statistics for the backward as the LayerNorm would; else the LayerNorm, then the product.
      const params = this.lnParams(ln.m);
      const at = { lnBiasAt: params.biasAt, lnRstdAt: lnRstdAt(M) };
      // (Stacked lanes record the LayerNorm apart: the fused kernel reads one lane's statistics and parameters.)
      const fused = L === 1 && layernormMatmulKernel({ ...flags, bias: !!bias }, M, N, K_, this.matmul, at, storage);
      if (fused) {
        this.uniformsFusedAway += 1 + planned; // the LayerNorm's dispatch, and the transposes no tiled kernel needs
        const bind = [ln.x, b, bias ?? this.mem.stats, out, aux ?? this.mem.matmulAux, params.range, ln.stats, a];
        this.dispatch(list, fused.def, MATMUL_DIMS, matmulDims(M, N, K_), bind, fused.workgroups);
        return;
      }
      this.layernormForward(list, ln, a, M, K_);
      storage.a = this.storageOf(a);
    }
    const t = operandTransposes(flags, M, N, K_, this.matmul);
    if (t) {
      // The copies are f32 whatever the operand's storage (an f16 activation converts on the way), and packed.
      a = this.transpose(list, a, this.mem.transposedOperand, t.a, lanes.a); // A as stored → its transpose
      storage.a = 'f32';
      if (t.b) {
        b = this.transpose(list, b, this.mem.transposedWeight, t.b, lanes.b); // B (N,K) → Bᵀ (K,N)
        storage.b = 'f32';
      }
      lanes = transposedLanes(lanes, t);
    }
    this.uniformsFusedAway += planned - (t ? (t.b ? 2 : 1) : 0);
    // The kernel depends on the shape (vec4 kernels where the contiguous dimensions allow, see matmulKernel).
    const { def, workgroups } = matmulKernel({ ...flags, bias: !!bias }, M, N, K_, this.matmul, storage, L);
    this.dispatch(
      list,
      def,
      MATMUL_DIMS,
      matmulDims(M, N, K_, lanes),
      [a, b, bias ?? this.mem.stats, out, aux ?? this.mem.matmulAux],
      workgroups,
    );
  }

  /**
   * dst (cols, rows) = srcᵀ for src (rows, cols), into a planned scratch that holds it (plan.ts, transposeScratch);
   * returns dst. Stacked, each lane's (srcLane floats apart in src) into its own packed copy.
   */
  private transpose(list: Dispatch[], src: Binding, dst: GPUBuffer, [rows, cols]: Shape2, srcLane: number): GPUBuffer {
    if (this.L * rows * cols * 4 > dst.size)
      throw new Error(`transpose of ${rows}×${cols}: more than the planned scratch (plan.ts, transposeScratch)`);
    const { def, workgroups } = transposeKernel(rows, cols, this.storageOf(src), this.L);
    this.dispatch(list, def, TRANSPOSE_DIMS, { rows, cols, srcLane }, [src, dst], workgroups);
    return dst;
  }

  /**
   * dW (OC,IC) += dout (M,OC)ᵀ · inp (M,IC), and db (OC) += Σ_rows dout where dbias is given (the dW kernels'
   * epilogue, MatmulFlags.biasGrad). Where the variant splits this shape (kernels/, splitKSlices) the rows are cut
   * into S slices whose partial products (and partial bias sums) go to the planned scratch, then one reduce adds them
   * into dW (and db). The plan counts that reduce for every dW product; an unsplit one counts it as fused away. (A split
   * one counts its planned transpose as fused away: no variant both splits and transposes, see operandTransposes.)
   */
  protected weightGrad(
    list: Dispatch[],
    OC: number,
    IC: number,
    M: number,
    dout: Binding,
    inp: Binding,
    dW: Binding,
    dbias: Binding | null,
  ): void {
    const flags = { transA: true, accumulate: true, biasGrad: !!dbias };
    const S = splitKSlices(OC, IC, M, this.matmul);
    if (S === 1) {
      this.matmulOp(list, OC, IC, M, dout, inp, null, dW, flags, dbias);
      this.uniformsFusedAway++;
      return;
    }
    const storage = { a: this.storageOf(dout), b: this.storageOf(inp), c: 'f32', aux: 'f32' } as const;
    // The lanes' operands, and their dW and db (matmulSplitK derives the scratch's lanes from them).
    const lanes: LaneStrides = {
      lanes: this.L,
      a: this.laneStride(dout, M * OC),
      b: this.laneStride(inp, M * IC),
      bias: 0,
      c: this.laneStride(dW, OC * IC),
      aux: dbias ? this.laneStride(dbias, OC) : 0,
    };
    const split = matmulSplitK(flags, OC, IC, M, this.matmul, S, storage, lanes); // throws for transposed operands
    this.uniformsFusedAway++; // its planned transpose
    const { splitKPartials, splitKBiasPartials, matmulAux, stats } = this.mem;
    if (split.scratch * 4 > splitKPartials.size || split.biasScratch * 4 > splitKBiasPartials.size)
      throw new Error(`dW ${OC}×${IC} over ${M} rows in ${S} slices: more than the planned scratch (plan.ts)`);
    const partial = [dout, inp, stats, splitKPartials, dbias ? splitKBiasPartials : matmulAux];
    this.dispatch(list, split.partial.def, MATMUL_DIMS, split.partial.dims, partial, split.partial.workgroups);
    const reduce = [splitKPartials, splitKBiasPartials, dW, dbias ?? matmulAux];
    this.dispatch(list, split.reduce.def, SPLITK_REDUCE_DIMS, split.reduce.dims, reduce, split.reduce.workgroups);
  }

  /**
   * Linear forward: out (M,OC) = inp (M,IC) · W (OC,IC)ᵀ + b, then an epilogue in the same kernel:
   *   { gelu: post }    c_fc: out keeps the pre-activation, post (M,OC) = gelu(out);
   *   { residual: res } c_proj: out = res (M,OC) + the product, the residual connection after the branch (its
   *                     backward is linearBackward's: the gradient of the sum stays in the residual-gradient buffer).
   * With ln, inp is that LayerNorm's output, recorded with the product (matmulOp).
   */
  protected linearForward(
    inp: Binding,
    m: ModuleParams,
    out: Binding,
    M: number,
    IC: number,
    OC: number,
    epilogue: { gelu: Binding } | { residual: Binding } | null = null,
    ln: LayerNormInput | null = null,
  ): void {
    const flags = {
      transB: true,
      gelu: !!epilogue && 'gelu' in epilogue,
      residual: !!epilogue && 'residual' in epilogue,
    };
    const aux = epilogue && ('gelu' in epilogue ? epilogue.gelu : epilogue.residual);
    this.matmulOp(this.forwardList, M, OC, IC, inp, this.param(m.weight), this.param(m.bias), out, flags, aux, ln);
  }
  /**
   * dinp (M,IC) = dout (M,OC) · W; dW (OC,IC) += doutᵀ · inp; db (OC) += Σ_rows dout (in dW's kernel). With
   * geluPre (the (M,IC) pre-activation whose GELU was this Linear's input), dinp comes out already times
   * gelu'(geluPre): the gradient with respect to that pre-activation.
   */
  protected linearBackward(
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
    // db in dW's epilogue (split, as partial sums that dW's reduce adds up, so that splitting costs no dispatch for
    // the bias).
    this.weightGrad(list, OC, IC, M, dout, inp, this.grad(m.weight), this.biasGrad(m.bias));
  }

  /** LayerNorm forward over N rows of width C: out (N,C) = ln(x), and its statistics mean (N), rstd (N). */
  private layernormForward(list: Dispatch[], ln: LayerNormInput, out: Binding, N1: number, C: number): void {
    const N = this.L * N1; // every lane's rows
    const [def, wg] = layernormKernels(N, C, this.reduction, this.rowLanes).forward;
    const { mean, rstd } = this.lnStats(ln.stats, N);
    const bind = [ln.x, this.param(ln.m.weight), this.param(ln.m.bias), out, mean, rstd];
    this.dispatch(list, def, LAYERNORM_DIMS, { N, C }, bind, wg);
  }
  /** LayerNorm backward: dinp += …, dweight/dbias += …, one dispatch (see layernorm_backward.wgsl). */
  protected layernormBackward(
    dout: Binding,
    inp: Binding,
    stats: GPUBuffer,
    m: ModuleParams,
    dinp: Binding,
    N1: number,
    C: number,
  ): void {
    const N = this.L * N1; // every lane's rows
    const { mean, rstd } = this.lnStats(stats, N);
    const bind = [dout, inp, this.param(m.weight), mean, rstd, dinp, this.grad(m.weight), this.biasGrad(m.bias)];
    const [def, wg] = layernormKernels(N, C, this.reduction, this.rowLanes).backward;
    this.dispatch(this.backwardList, def, LAYERNORM_DIMS, { N, C }, bind, wg);
  }

  protected attentionUniform(): UniformValues<typeof ATTENTION_DIMS> {
    const { nEmbd: C, nHead: NH, attention } = this.cfg;
    // Stacked lanes are more sequences: attention reads no parameters.
    const B = this.L * this.B;
    return { B, T: this.T, C, NH, causal: attention === 'causal' ? 1 : 0, scale: 1 / Math.sqrt(C / NH) };
  }
  /** Attention forward: qkv (B,T,3C) → att (B,NH,T,T), out (B,T,C). */
  protected attentionForward(qkv: GPUBuffer, att: GPUBuffer, out: GPUBuffer): void {
    const { T } = this;
    const B = this.L * this.B;
    const { nEmbd: C, nHead: NH } = this.cfg;
    for (const [def, wg] of attentionKernels(B, T, C, NH, this.reduction).forward)
      this.dispatch(this.forwardList, def, ATTENTION_DIMS, this.attentionUniform(), [qkv, att, out], wg);
  }
  /** Attention backward: dout (B,T,C) → dqkv (B,T,3C), via dpreatt (B,NH,T,T). */
  protected attentionBackward(qkv: GPUBuffer, att: GPUBuffer, dout: GPUBuffer, dqkv: GPUBuffer): void {
    const { T } = this;
    const B = this.L * this.B;
    const { nEmbd: C, nHead: NH } = this.cfg;
    const bind = [qkv, att, dout, this.mem.dpreatt, dqkv];
    for (const [def, wg] of attentionKernels(B, T, C, NH, this.reduction).backward)
      this.dispatch(this.backwardList, def, ATTENTION_DIMS, this.attentionUniform(), bind, wg);
  }
}
