// A training step of the GPT as dispatches, recorded once per model: every kernel of the forward pass, the loss, the
// backward pass (in exactly the reverse order, each op's backward beside its forward) and the optimizer, bound to
// the model's planned buffers, with each dispatch's uniform packed into its slot of the host image of the uniform
// buffer. GpuModel (model.ts) replays the four lists every step and patches the few uniforms that change.
//
// Legend: B batch, T sequence, C width, NH heads, hs = C/NH, V vocab, Vp = lmHeadRows(V) (V padded to a multiple of
// 4, the lm_head's rows), L trunk blocks, K extra heads, H = 1 + K, G = H and the token-order head's (plan.ts,
// lossHeads).
import { blockParams, blockPrefix, headPrefix, lmHeadRows, MODEL_PARAMS, type BlockParams } from '../model/params';
import { encodeDispatches, grid1d, type Dispatch } from './pipelines';
import {
  adamwKernel,
  crossentropyKernel,
  encoderBackwardKernel,
  encoderForwardKernel,
  KERNELS,
  reduceFinalize,
  reducePartials,
} from './kernels';
import { STAT_LOSS, STAT_NORM, type BlockActs, type HeadActs } from './model-buffers';
import type { RecordingTarget } from './model-bindings';
import { OpRecorder } from './model-ops';
import { logitsHeadStride, REDUCE_CHUNK } from './plan';
import {
  ADAMW_STEP,
  CROSSENTROPY_DIMS,
  NO_COLUMN,
  ENCODER_DIMS,
  REDUCE_DIMS,
  RESIDUAL_DIMS,
  type UniformValues,
} from './uniforms';

/** The recorded step: five dispatch lists, and the uniform slots a step or a setting patches later. */
export interface StepRecording {
  forward: Dispatch[];
  /** The cross-entropy: per-position losses, and dlogits in place of the logits. */
  loss: Dispatch[];
  backward: Dispatch[];
  /** The loss's and the gradient norm's sums, together (shaders/reduce.wgsl): first stage, then finalize. */
  sums: Dispatch[];
  optimizer: Dispatch[];
  /** The sums' two dispatches, which share their uniform's values (the clip threshold: GpuModel.setGradClip). */
  sumsSlots: [number, number];
  sumsValues: UniformValues<typeof REDUCE_DIMS>;
  /** AdamW's (learning rate and bias corrections: every step). */
  adamwSlot: number;
  /** The cross-entropy's, and its values, which a batch's loss shape patches (GpuModel, writeBatches). */
  lossSlot: number;
  lossValues: UniformValues<typeof CROSSENTROPY_DIMS>;
}

/** A training step's dispatch lists in the order they run: what the step, its tests and its profile walk. */
export const STEP_PHASES = ['forward', 'loss', 'backward', 'sums', 'optimizer'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/** Record every dispatch of a training step; throws if the uniforms used differ from the plan's count. */
export function recordStep(target: RecordingTarget): StepRecording {
  const r = new Recorder(target);
  r.recordForward();
  r.recordLoss();
  r.recordBackward();
  r.recordSums();
  r.recordOptimizer();
  if (r.uniformsUsed + r.uniformsFusedAway !== target.plannedUniforms) {
    throw new Error(
      `the model recorded ${r.uniformsUsed} uniform blocks and fused ${r.uniformsFusedAway} away, the plan has ` +
        `${target.plannedUniforms} (plan.ts, uniformSlots)`,
    );
  }
  return {
    forward: r.forwardList,
    loss: r.lossList,
    backward: r.backwardList,
    sums: r.sumsList,
    optimizer: r.optimizerList,
    sumsSlots: r.sumsSlots,
    sumsValues: r.sumsValues,
    adamwSlot: r.adamwSlot,
    lossSlot: r.lossSlot,
    lossValues: r.lossValues,
  };
}

/** The GPT's structure over the op launchers: blocks, heads, loss and optimizer, in forward and backward order. */
class Recorder extends OpRecorder {
  /** One pre-LN block: res3 = res2 + mlp(ln_2(res2)), res2 = resIn + attn(ln_1(resIn)). All (B,T,C) but noted. */
  private blockForward(p: BlockParams, resIn: GPUBuffer, a: BlockActs): void {
    const N = this.B * this.T;
    const C = this.cfg.nEmbd;
    // qkv (B,T,3C) = c_attn(ln1), ln1 = ln_1(resIn) (B,T,C) recorded with it (fused where the variant can)
    this.linearForward(a.ln1, p.cAttn, a.qkv, N, C, 3 * C, null, { x: resIn, m: p.ln1, stats: a.ln1Stats });
    this.attentionForward(a.qkv, a.att, a.atty);
    this.linearForward(a.atty, p.attnProj, a.res2, N, C, C, { residual: resIn }); // res2 = resIn + c_proj(atty)
    // fch (B,T,4C) = c_fc(ln2), fchGelu = gelu(fch), ln2 = ln_2(res2)
    this.linearForward(
      a.ln2,
      p.cFc,
      a.fch,
      N,
      C,
      4 * C,
      { gelu: a.fchGelu },
      { x: a.res2, m: p.ln2, stats: a.ln2Stats },
    );
    this.linearForward(a.fchGelu, p.mlpProj, a.res3, N, 4 * C, C, { residual: a.res2 }); // res3 = res2 + c_proj(fchGelu)
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
    this.layernormBackward(dln, a.res2, a.ln2Stats, p.ln2, dres, N, C);
    this.linearBackward(dres, a.atty, p.attnProj, datty, N, C, C);
    this.attentionBackward(a.qkv, a.att, datty, dqkv);
    this.linearBackward(dqkv, a.ln1, p.cAttn, dln, N, C, 3 * C);
    this.layernormBackward(dln, resIn, a.ln1Stats, p.ln1, dres, N, C);
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

  recordForward(): void {
    const { B, T } = this;
    const { nEmbd: C, vocabSize: V, nLayer: L } = this.cfg;
    const N = B * T;
    const { wte, wpe, lnF } = MODEL_PARAMS;
    const [encoder, encoderGrid] = encoderForwardKernel(this.L * B, T, C, this.rowLanes);
    this.dispatch(
      this.forwardList,
      encoder,
      ENCODER_DIMS,
      { B: this.L * B, T, C, V },
      [this.mem.tokens, this.param(wte), this.param(wpe), this.mem.encoded],
      encoderGrid,
    );
    for (let l = 0; l < L; l++) this.blockForward(blockParams(blockPrefix(l)), this.blockInput(l), this.block(l));
    for (let k = 1; k < this.H; k++)
      this.blockForward(blockParams(headPrefix(k)), this.trunkOutput(), this.block(L + k - 1));
    const Vp = lmHeadRows(V);
    for (let h = 0; h < this.H; h++) {
      const { lnf, lnfStats } = this.head(h);
      // lm_head, tied to wte: logits (BT,Vp) = lnf (BT,C) · wte (Vp,C)ᵀ, the pad columns 0; lnf = ln_f(head input)
      // recorded with it (fused where the variant can)
      const ln = { x: this.headInput(h), m: lnF, stats: lnfStats };
      const wte = this.lmHead(this.mem.params);
      this.matmulOp(this.forwardList, N, Vp, C, lnf, wte, null, this.logitsOf(h), { transB: true }, null, ln);
    }
    if (this.cfg.topHead) {
      // The token-order head reads head 0's ln_f output, as the lm_head does: its logits, the H-th head's,
      // (BT,Vp) = lnf (BT,C) · top_head (Vp,C)ᵀ, the pad columns 0.
      const top = this.lmHead(this.mem.params, MODEL_PARAMS.topHead);
      this.matmulOp(this.forwardList, N, Vp, C, this.head(0).lnf, top, null, this.logitsOf(this.H), { transB: true });
    }
  }

  recordLoss(): void {
    // Stacked lanes' logits are lane-major (model-ops.ts, logitsOf), so their L·G heads are just more heads, and
    // each lane's targets, weights and losses (G, B·T) follow the last lane's. A lane's head H, where the model has
    // the token-order head, takes ListNet against the soft targets (topProbs).
    const heads = this.L * this.G;
    const rows = heads * this.B * this.T;
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    const { logits, targets, weights, losses, topProbs } = this.mem;
    const [crossentropy, wg] = crossentropyKernel(rows, this.reduction);
    // The plain loss until a batch asks for another shape (GpuModel, writeBatches, patches this slot).
    this.lossValues = {
      BT: this.B * this.T,
      V: this.cfg.vocabSize,
      Vp: lmHeadRows(this.cfg.vocabSize),
      H: heads,
      headStride: stride,
      exclude: NO_COLUMN,
      laneHeads: this.G,
      softHead: this.cfg.topHead ? this.H : NO_COLUMN,
      focalGamma: 0,
    };
    this.lossSlot = this.dispatch(
      this.lossList,
      crossentropy,
      CROSSENTROPY_DIMS,
      this.lossValues,
      [logits, targets, weights, losses, topProbs],
      wg,
    );
  }

  recordBackward(): void {
    const { B, T } = this;
    const { nEmbd: C, vocabSize: V, nLayer: L } = this.cfg;
    const N = B * T;
    const { dres, dln } = this.mem;
    const { wte, wpe, lnF } = MODEL_PARAMS;
    // Heads in reverse order of the forward pass: extra heads K..1, then head 0. Each lm_head backward writes
    // ∂/∂lnf and adds the tied unembedding's gradient into dwte. The pad columns of dlogits are 0, so the pad rows'
    // gradient (Vp,C) is 0 and they add nothing to ∂/∂lnf.
    const Vp = lmHeadRows(V);
    for (let h = this.H - 1; h >= 0; h--) {
      const head = this.head(h);
      this.matmulOp(this.backwardList, N, C, Vp, this.logitsOf(h), this.lmHead(this.mem.params), null, dln, {});
      this.weightGrad(this.backwardList, Vp, C, N, this.logitsOf(h), head.lnf, this.lmHead(this.mem.grads), null);
      if (h === 0 && this.cfg.topHead) {
        // The token-order head read the same ln_f output: its ∂/∂lnf is added to the lm_head's (dln +=
        // dtop (BT,Vp) · top_head (Vp,C)), and its dW (Vp,C) += dtopᵀ · lnf.
        const [dtop, top] = [this.logitsOf(this.H), MODEL_PARAMS.topHead];
        this.matmulOp(this.backwardList, N, C, Vp, dtop, this.lmHead(this.mem.params, top), null, dln, {
          accumulate: true,
        });
        this.weightGrad(this.backwardList, Vp, C, N, dtop, head.lnf, this.lmHead(this.mem.grads, top), null);
      }
      this.layernormBackward(dln, this.headInput(h), head.lnfStats, lnF, head.dres ?? dres, N, C);
      if (head.dres) {
        const hd = head.dres;
        this.blockBackward(blockParams(headPrefix(h)), this.trunkOutput(), this.block(L + h - 1), hd);
        // The head's block read the trunk output z: its input gradient joins the trunk's residual gradient.
        this.dispatch(
          this.backwardList,
          KERNELS.residualAccumulate,
          RESIDUAL_DIMS,
          { N: this.L * N * C },
          [hd, hd, dres],
          grid1d(this.L * N * C),
        );
      }
    }
    for (let l = L - 1; l >= 0; l--)
      this.blockBackward(blockParams(blockPrefix(l)), this.blockInput(l), this.block(l), dres);
    const encBind = [this.mem.tokens, dres, this.grad(wte), this.biasGrad(wpe)];
    const [encoder, encoderGrid] = encoderBackwardKernel(T, C, V, this.rowLanes);
    this.dispatch(this.backwardList, encoder, ENCODER_DIMS, { B: this.L * B, T, C, V }, encBind, encoderGrid);
  }

  /**
   * The loss Σ weight·CE over the H·B·T positions into stats[STAT_LOSS], and the global gradient norm over the P
   * parameters with its clip scale and finite flag into stats[STAT_NORM..]: two sums that do not wait for each
   * other, so both run in each of the reduction's two dispatches.
   */
  recordSums(): void {
    const { losses, grads, biasGrads, lossPartials, gradPartials, stats } = this.mem;
    const bind = [losses, grads, lossPartials, gradPartials, stats];
    if (this.L > 1) {
      // Stacked lanes: the biases' gradients join the rest (each element is zero in one of the two buffers).
      const N = this.L * this.table.total;
      const add = [biasGrads, biasGrads, grads];
      this.dispatch(this.sumsList, KERNELS.residualAccumulate, RESIDUAL_DIMS, { N }, add, grid1d(N));
    }
    // Each lane's: its losses and its gradients (stacked lanes: one sum of each per lane, results STATS_LANE apart).
    const N0 = this.G * this.B * this.T; // every loss head's rows, the token-order head's included
    const N1 = this.table.total;
    // The clip threshold is per run: setGradClip() patches both slots.
    const dims = { N0, N1, chunk: REDUCE_CHUNK, slot0: STAT_LOSS, slot1: STAT_NORM, clip: 1 };
    this.sumsValues = dims;
    const [partial, partialGrid] = reducePartials(N0, N1, this.reduction, this.rowLanes);
    const [finalize, finalizeGrid] = reduceFinalize(this.rowLanes);
    this.sumsSlots = [
      this.dispatch(this.sumsList, partial, REDUCE_DIMS, dims, bind, partialGrid),
      this.dispatch(this.sumsList, finalize, REDUCE_DIMS, dims, bind, finalizeGrid),
    ];
  }

  recordOptimizer(): void {
    const { grads, stats, params, adamM, adamV, decayMask } = this.mem;
    const list = this.optimizerList;
    // Each step patches this slot with its learning rate and bias corrections. One thread per 4 parameters (the
    // table aligns every slot to PARAM_ALIGN floats, so P is a multiple of 4), over every lane's.
    const [adamw, grid] = adamwKernel(this.table.total, this.rowLanes);
    this.adamwSlot = this.dispatch(
      list,
      adamw,
      ADAMW_STEP,
      this.adamwValues,
      [params, grads, adamM, adamV, decayMask, stats],
      grid,
    );
  }
}

/**
 * Wall time of each recorded dispatch of a training step, submitted alone `repeats` times (after a warm-up), in
 * step order. For the benchmark and for finding slow kernels; the inputs are whatever the last step left.
 */
export async function profileRecording(
  device: GPUDevice,
  recording: StepRecording,
  repeats: number,
): Promise<{ label: string; phase: string; ms: number }[]> {
  const out: { label: string; phase: string; ms: number }[] = [];
  for (const phase of STEP_PHASES) {
    for (const d of recording[phase]) {
      const run = async (n: number) => {
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        for (let i = 0; i < n; i++) encodeDispatches(pass, [d]);
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      };
      await run(1);
      const t0 = performance.now();
      await run(repeats);
      out.push({ label: d.label, phase, ms: (performance.now() - t0) / repeats });
    }
  }
  return out;
}
