// The op launchers of a recorded training step (model-record.ts): each op's forward beside its backward, as
// llm.c writes them, each a dispatch of one kernel with its uniform packed into the next slot of the host image of
// the uniform buffer and its buffers bound once (model-bindings.ts). Shapes in comments (legend: model.ts).
import type { ModuleParams } from '../model/params';
import type { Binding, Dispatch } from './pipelines';
import {
  attentionKernels,
  layernormKernels,
  layernormMatmulKernel,
  lnRstdAt,
  matmulDims,
  splitKSlices,
  type LaneStrides,
  type MatmulFlags,
  type MatmulStorage,
} from './kernels';
import { StepBindings } from './model-bindings';
import { lowerProduct, type ProductOperand, type ProductScratch } from './product';
import { ATTENTION_DIMS, LAYERNORM_DIMS, MATMUL_DIMS, type UniformValues } from './uniforms';

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
export class OpRecorder extends StepBindings {
  // ---- op launchers: each forward has its backward beside it --------------------------------------------------
  /**
   * out (M,N) = op(A)·op(B) [+ bias] [+= out], then the epilogue that flags name (GELU or residual), with aux, as the
   * variant lowers it (product.ts, lowerProduct), into the planned scratch. The plan counts, for every variant, two
   * transposes for an nt product and one for the others, and for a dW product (`slices` given: kernels/split-k.ts)
   * the reduce of its slices; what this variant does not dispatch is counted as fused away. With ln, A is that
   * LayerNorm's output: the LayerNorm is recorded here too, fused into the product's kernel where the variant can
   * (one dispatch, which the plan counts as two).
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
    slices: number | null = null,
  ): void {
    const planned = 1 + (flags.transB ? 2 : 1) + (slices === null ? 0 : 1);
    const L = this.L;
    // Each operand's lane stride: A (M,K_), B (K_,N), C and aux (M,N) where they are activations.
    const lanes: LaneStrides = {
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
        this.uniformsFusedAway += planned; // the LayerNorm's dispatch, and the transposes no tiled kernel needs
        const bind = [ln.x, b, bias ?? this.mem.stats, out, aux ?? this.mem.matmulAux, params.range, ln.stats, a];
        this.dispatch(list, fused.def, MATMUL_DIMS, matmulDims(M, N, K_), bind, fused.workgroups);
        return;
      }
      this.layernormForward(list, ln, a, M, K_);
      storage.a = this.storageOf(a);
    }
    const { steps, scratch } = lowerProduct(
      { ...flags, bias: !!bias },
      M,
      N,
      K_,
      this.matmul,
      storage,
      lanes,
      slices ?? 1,
    );
    const { transposedOperand, transposedWeight, splitKPartials, splitKBiasPartials, matmulAux, stats } = this.mem;
    const bound: Record<ProductOperand, Binding> = {
      a,
      b,
      bias: bias ?? stats,
      c: out,
      aux: aux ?? matmulAux,
      aT: transposedOperand,
      bT: transposedWeight,
      partials: splitKPartials,
      biasPartials: splitKBiasPartials,
    };
    for (const [name, floats] of Object.entries(scratch) as [ProductScratch, number][]) {
      const buffer = bound[name] as GPUBuffer;
      if (floats * 4 > buffer.size)
        throw new Error(`matmul ${M}×${N}×${K_}: ${name} needs more than the planned scratch (plan.ts)`);
    }
    this.uniformsFusedAway += planned - steps.length;
    for (const s of steps)
      this.dispatch(
        list,
        s.def,
        s.layout,
        s.values,
        s.bind.map((o) => bound[o]),
        s.workgroups,
      );
  }

  /**
   * dW (OC,IC) += dout (M,OC)ᵀ · inp (M,IC), and db (OC) += Σ_rows dout where dbias is given (the dW kernels'
   * epilogue, MatmulFlags.biasGrad), split into slices of rows where the variant splits this shape
   * (kernels/split-k.ts, splitKSlices).
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
    this.matmulOp(list, OC, IC, M, dout, inp, null, dW, flags, dbias, null, splitKSlices(OC, IC, M, this.matmul));
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
