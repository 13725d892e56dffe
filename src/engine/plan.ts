// Memory planned once, from the config, before anything is allocated: every buffer the GPU model will create, its
// size, and a check against the adapter's limits that names the limit and the largest config that would fit.
// Pure functions: the page, the command line and the tests can ask "does it fit?" without a GPU.
import type { ModelConfig } from '../model/config';
import { align, lmHeadRows, paramTable } from '../model/params';
import { attentionKernels, lnStatsFloats, REDUCE_CHUNK, splitKBound, type StorageType } from './kernels';
import { THREAD_ROWS } from './reduction-variants';

/** Legend: B batch, T sequence, C width, NH heads, V vocab, L trunk blocks, K extra heads, H = 1 + K, P parameter floats. */
export interface BufferPlan {
  name: string;
  /** 4-byte elements (f32, i32 or u32; a half buffer's f16 values two to an element). */
  elements: number;
  /** Holds f16 values (HALF_ACTIVATIONS under f16 activation storage), read and written by kernels that convert. */
  half?: true;
  /** Bound whole as one storage binding (so it must fit maxStorageBufferBindingSize). */
  boundWhole: boolean;
  /** Storage for the kernels, the kernels' uniform blocks, or a buffer mapped to read results back. */
  usage: 'storage' | 'uniform' | 'readback';
}

/**
 * Rows of logits the loss takes per position: the H next-token heads, then the token-order head's (ModelConfig.
 * topHead), whose cross-entropy is ListNet's against soft targets (shaders/crossentropy.wgsl).
 */
export const lossHeads = (cfg: ModelConfig): number => 1 + cfg.extraHeads + (cfg.topHead ? 1 : 0);

/**
 * Floats between the heads' logits in the shared logits buffer: B·T rows of lmHeadRows(V) (the vocabulary padded to
 * a multiple of 4, model/params.ts), aligned so that each head binds at its own offset.
 */
export const logitsHeadStride = (B: number, T: number, V: number): number => align(B * T * lmHeadRows(V));

// Elements per chunk of the first stage of the deterministic reductions (loss, gradient norm): kernels.ts.
export { REDUCE_CHUNK };

/** The activations one transformer block keeps for its backward pass, in the order of its forward. */
export const BLOCK_ACTIVATIONS = [
  'ln1',
  'ln1Stats',
  'qkv',
  'att',
  'atty',
  'res2',
  'ln2',
  'ln2Stats',
  'fch',
  'fchGelu',
  'res3',
] as const;
export type BlockActivation = (typeof BLOCK_ACTIVATIONS)[number];
/** One value (a size, a buffer) per activation of a block. */
export type BlockActivations<V> = Record<BlockActivation, V>;

/** Elements of each activation of one block. */
export function blockActivations(B: number, T: number, C: number, NH: number): BlockActivations<number> {
  const BTC = B * T * C;
  return {
    ln1: BTC, // (B,T,C) ln_1(resIn)
    ln1Stats: lnStatsFloats(B * T), // (B,T) mean, then (B,T) rstd: see lnStatsFloats
    qkv: 3 * BTC, // (B,T,3C)
    att: B * NH * T * T, // (B,NH,T,T) softmax of the scores
    atty: BTC, // (B,T,C) attention output before c_proj
    res2: BTC, // (B,T,C) resIn + c_proj(atty), summed in c_proj's epilogue
    ln2: BTC, // (B,T,C)
    ln2Stats: lnStatsFloats(B * T),
    fch: 4 * BTC, // (B,T,4C) c_fc's output, GELU's input
    fchGelu: 4 * BTC, // (B,T,4C)
    res3: BTC, // (B,T,C) res2 + c_proj(fchGelu), the block's output
  };
}

/**
 * The activations a model with f16 activation storage keeps in half (`shader-f16`; chosen per adapter,
 * src/engine/activation-storage.ts): c_fc's output and its GELU, (B,T,4C) each, the two largest per token. Only
 * the matmuls read and write them (and a tnOnly variant's transposes), converting to f32 for every sum; the
 * residual stream, LayerNorm's and attention's activations and every gradient stay f32.
 */
export const HALF_ACTIVATIONS: readonly BlockActivation[] = ['fch', 'fchGelu'];

/** The name of block l's activation in the plan (blocks 0..L−1 are the trunk, L+k−1 the head block of head k). */
export const blockActivationName = (l: number, a: BlockActivation): string => `block${l}.${a}`;

/**
 * Bytes per uniform block in the model's one uniform buffer: each block starts at a multiple of 256, the largest
 * minUniformBufferOffsetAlignment WebGPU allows, so the layout is valid on every device.
 */
export const UNIFORM_SLOT_BYTES = 256;

/** Steps that may be in flight before a step waits for the oldest loss readback. */
export const READBACK_RING = 4;
/** Bytes of the stats buffer that each step copies back. */
export const STATS_BYTES = 64;

/**
 * Uniform blocks of a training step, one per dispatch that the GPU model may record (the model checks its count
 * against this): forward, the cross-entropy, backward, then the two of the loss's and gradient norm's sums, and
 * AdamW's. Per block, forward: 2
 * layernorms, 4 matmuls (the residual sums are c_proj's epilogues), the attention kernels; backward: 4 Linear
 * backwards of 3 (dinp, dW with db summed inside it, dW's split-K reduce; an unsplit dW needs no reduce: the
 * recording counts it as fused away), 2 layernorm backwards (one dispatch each), the attention backward's kernels. Per head: ln_f and lm_head forward; backward 2 matmuls, the dW's split-K reduce and a
 * layernorm backward; an extra head also adds its block's input gradient into the trunk's; then the embedding's
 * backward (dwte and dwpe in one dispatch). The transposes of the variants that run products over transposed
 * operands (kernels/, operandTransposes): a tnOnly variant's two per forward product (input and weight) and one per
 * dinp product (the output gradient), an nnWeightGrads variant's one per dW product (the output gradient); the other
 * variants' recordings count them as fused away. The token-order head adds its unembedding's three products: the
 * forward (with two transposes), the dinp (one) and the dW (its reduce and one transpose).
 */
export function uniformSlots(cfg: ModelConfig, B: number, T: number, lanes = 1): number {
  const blocks = cfg.nLayer + cfg.extraHeads;
  const H = 1 + cfg.extraHeads;
  // Every reduction variant runs attention in the same number of dispatches (test/gpu/attention.test.ts checks it),
  // so the count needs no device.
  const attention = attentionKernels(B, T, cfg.nEmbd, cfg.nHead, THREAD_ROWS);
  const blockForward = 2 + 4 + attention.forward.length; // layernorms, Linears (c_proj's add the residual)
  const blockBackward = 4 * 3 + 2 + attention.backward.length;
  const forwardTransposes = 2 * 4 * blocks + 2 * H; // each Linear's and each lm_head's input and weight
  const dinpTransposes = 4 * blocks + H; // each Linear's and each lm_head's output gradient
  const dwTransposes = 4 * blocks + H; // the same, for their dW products
  const forward = 1 + blocks * blockForward + H * 2 + forwardTransposes; // encoder, blocks, heads
  const loss = 1; // cross-entropy
  const backward = H * 4 + cfg.extraHeads + blocks * blockBackward + 1 + dinpTransposes + dwTransposes; // heads, blocks, embedding
  // The loss's and the gradient norm's sums (first stage, finalize), AdamW; stacked lanes first add their biases'
  // gradients into the rest (biasGrads).
  const optimizer = 3 + (lanes > 1 ? 1 : 0);
  const top = cfg.topHead ? 3 + 2 + 3 : 0;
  return forward + loss + backward + optimizer + top;
}

/**
 * The dW products of a training step, (OC, IC) over B·T rows: each block's c_attn, attn c_proj, c_fc and mlp
 * c_proj, and the tied lm_head's (V, C) over its padded rows (lmHeadRows). What the split-K scratch is sized for.
 */
export function weightGradShapes(cfg: ModelConfig): [number, number][] {
  const C = cfg.nEmbd;
  return [
    [3 * C, C],
    [C, C],
    [4 * C, C],
    [C, 4 * C],
    [lmHeadRows(cfg.vocabSize), C],
  ];
}

/**
 * Floats of the transposed operands (kernels/, operandTransposes): the largest input or output gradient of a
 * product, B·T rows of width at most max(4C, Vp) (c_fc's output, mlp.c_proj's input, the logits over the padded
 * vocabulary Vp = lmHeadRows(V)), and the largest weight, C·max(4C, Vp). Planned for every variant, as the split-K
 * scratch is, so that the plan does not depend on the device; the variants that transpose nothing leave it unused.
 */
export function transposeScratch(cfg: ModelConfig, B: number, T: number): { operand: number; weight: number } {
  const width = Math.max(4 * cfg.nEmbd, lmHeadRows(cfg.vocabSize));
  return { operand: B * T * width, weight: cfg.nEmbd * width };
}

/**
 * Floats of the split-K scratch: the partial products (S,OC,IC) and the bias gradient's partial sums (S,OC) of
 * the largest split dW product. Sized by splitKBound, the most slices any variant can use, so that the plan does not
 * depend on the variant (the CPU adapters' variants never split and leave it unused).
 */
export function splitKScratch(cfg: ModelConfig, B: number, T: number): { partials: number; biasPartials: number } {
  let partials = 0;
  let biasPartials = 0;
  for (const [OC, IC] of weightGradShapes(cfg)) {
    const S = splitKBound(OC, IC, B * T);
    if (S === 1) continue;
    partials = Math.max(partials, S * OC * IC);
    biasPartials = Math.max(biasPartials, S * OC);
  }
  return { partials, biasPartials };
}

/**
 * Floats between two stacked lanes' step statistics in the stats buffer (and its readbacks): STATS_BYTES each.
 */
export const STATS_LANE = STATS_BYTES / 4;

/**
 * Every buffer of a model at batch B and sequence T, with HALF_ACTIVATIONS stored as `activations` says. With
 * `lanes` > 1, of that many models of this shape stacked in the same dispatches (src/engine/model.ts): their
 * activations are one model's at batch lanes·B (each lane's B sequences after the last's), and each lane has its
 * own parameters, gradients, moments, logits, statistics and scratch, lane after lane.
 */
export function planBuffers(
  cfg: ModelConfig,
  B1: number,
  T: number,
  activations: StorageType = 'f32',
  lanes = 1,
): BufferPlan[] {
  const L = lanes;
  const B = L * B1; // the stacked batch
  const P1 = paramTable(cfg).total;
  const P = L * P1;
  const C = cfg.nEmbd;
  const NH = cfg.nHead;
  const V = cfg.vocabSize;
  const H = 1 + cfg.extraHeads;
  const G = lossHeads(cfg); // the logits' and the loss's heads: H, and the token-order head's
  const BTC = B * T * C;
  const storage = (name: string, elements: number, boundWhole = true): BufferPlan => ({
    name,
    elements,
    boundWhole,
    usage: 'storage',
  });
  const out: BufferPlan[] = [
    storage('params', P),
    storage('grads', P),
    // Stacked lanes: the gradients of the biases and of wpe, apart from the rest (grads), because a kernel that
    // writes two of a lane's gradients binds each across every lane, and two writable bindings of one buffer must
    // not overlap (WebGPU). Added into grads before the sums; one lane writes grads alone.
    storage('biasGrads', L > 1 ? P : 4),
    storage('adam.m', P),
    storage('adam.v', P),
    storage('decayMask', Math.ceil(P1 / 32)), // one table's, shared by the lanes
    storage('gradPartials', L * Math.ceil(P1 / REDUCE_CHUNK)),
    storage('tokens', B * T),
    storage('targets', G * B * T),
    storage('weights', G * B * T),
    // The token-order head's soft targets (B,T,V), every lane's rows; a placeholder without that head.
    storage('topProbs', cfg.topHead ? B * T * V : 4),
    storage('encoded', BTC),
  ];
  const blocks = cfg.nLayer + cfg.extraHeads;
  const acts = blockActivations(B, T, C, NH);
  for (let l = 0; l < blocks; l++) {
    for (const a of BLOCK_ACTIVATIONS) {
      const name = blockActivationName(l, a);
      if (activations === 'f16' && HALF_ACTIVATIONS.includes(a))
        out.push({ ...storage(name, Math.ceil(acts[a] / 2)), half: true });
      else out.push(storage(name, acts[a]));
    }
  }
  for (let h = 0; h < H; h++) {
    out.push(storage(`head${h}.lnf`, BTC), storage(`head${h}.lnfStats`, lnStatsFloats(B * T)));
    if (h > 0) out.push(storage(`head${h}.dres`, BTC));
  }
  // Logits lane-major (lane, head, B1·T, Vp): each lane's heads are its own rows of the cross-entropy.
  const stride = logitsHeadStride(B1, T, V);
  const splitK = splitKScratch(cfg, B1, T);
  const transposed = transposeScratch(cfg, B1, T);
  out.push(
    storage('logits', L * G * stride, false),
    storage('losses', G * B * T),
    storage('lossPartials', L * Math.ceil((G * B1 * T) / REDUCE_CHUNK)),
    storage('stats', L * STATS_LANE),
    // The matmul kernels' aux binding where no GELU epilogue uses it (it must not alias C).
    storage('matmulAux', 4),
    storage('dres', BTC),
    storage('dln', BTC),
    storage('datty', BTC),
    storage('dqkv', 3 * BTC),
    storage('dpreatt', B * NH * T * T),
    storage('dfc', 4 * BTC),
    // The split-K dW products' partial products and partial bias sums (kernels/, matmulSplitK).
    storage('splitKPartials', L * splitK.partials),
    storage('splitKBiasPartials', L * splitK.biasPartials),
    // The transposed operands (operandTransposes): an input or output gradient, and a weight (transposeScratch).
    storage('transposedOperand', L * transposed.operand),
    storage('transposedWeight', L * transposed.weight),
    // Every kernel's uniform block, one slot each, bound at its slot's offset.
    {
      name: 'uniforms',
      elements: (uniformSlots(cfg, B1, T, L) * UNIFORM_SLOT_BYTES) / 4,
      boundWhole: false,
      usage: 'uniform',
    },
    // forwardLanes' readback: a lane's logits per lane asked.
    { name: 'evalStaging', elements: L * G * stride, boundWhole: false, usage: 'readback' },
  );
  for (let i = 0; i < READBACK_RING; i++)
    out.push({ name: `statsReadback${i}`, elements: L * STATS_LANE, boundWhole: false, usage: 'readback' });
  return out;
}

export interface PlanSummary {
  totalBytes: number;
  parameterBytes: number;
  /** Bytes of the largest buffer that is bound whole (checked against maxStorageBufferBindingSize). */
  largestBinding: { name: string; bytes: number };
  largestBuffer: { name: string; bytes: number };
}

export function summarizePlan(plan: BufferPlan[]): PlanSummary {
  let totalBytes = 0;
  let largestBinding = { name: '', bytes: 0 };
  let largestBuffer = { name: '', bytes: 0 };
  for (const b of plan) {
    const bytes = b.elements * 4;
    totalBytes += bytes;
    if (b.boundWhole && bytes > largestBinding.bytes) largestBinding = { name: b.name, bytes };
    if (bytes > largestBuffer.bytes) largestBuffer = { name: b.name, bytes };
  }
  const parameterBytes = plan.find((b) => b.name === 'params')!.elements * 4;
  return { totalBytes, parameterBytes, largestBinding, largestBuffer };
}

/** Storage buffers the busiest kernel binds at once (layernorm backward); checked against the adapter. */
export const STORAGE_BUFFERS_NEEDED = 8;

export interface DeviceLimitsLike {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
}

export class PlanError extends Error {
  constructor(
    message: string,
    readonly limit: string,
    readonly suggestion?: { batchSize?: number; nEmbd?: number },
  ) {
    super(message);
    this.name = 'PlanError';
  }
}

function violation(
  cfg: ModelConfig,
  B: number,
  T: number,
  limits: DeviceLimitsLike,
  activations: StorageType,
  lanes: number,
): string | null {
  const s = summarizePlan(planBuffers(cfg, B, T, activations, lanes));
  if (s.largestBinding.bytes > limits.maxStorageBufferBindingSize) return 'maxStorageBufferBindingSize';
  if (s.largestBuffer.bytes > limits.maxBufferSize) return 'maxBufferSize';
  return null;
}

/**
 * Throws PlanError when the plan does not fit the adapter, naming the limit, the offending buffer and the largest
 * batch size (or, failing that, width) that would fit; returns the plan's summary otherwise.
 */
export function checkPlan(
  cfg: ModelConfig,
  B: number,
  T: number,
  limits: DeviceLimitsLike,
  activations: StorageType = 'f32',
  lanes = 1,
): PlanSummary {
  const summary = summarizePlan(planBuffers(cfg, B, T, activations, lanes));
  if (limits.maxStorageBuffersPerShaderStage < STORAGE_BUFFERS_NEEDED) {
    throw new PlanError(
      `This adapter allows ${limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage; the lab's ` +
        `kernels need ${STORAGE_BUFFERS_NEEDED} (maxStorageBuffersPerShaderStage). No model size changes that.`,
      'maxStorageBuffersPerShaderStage',
    );
  }
  const limit = violation(cfg, B, T, limits, activations, lanes);
  if (!limit) return summary;
  const buf = limit === 'maxBufferSize' ? summary.largestBuffer : summary.largestBinding;
  const mib = (x: number) => `${(x / 2 ** 20).toFixed(1)} MiB`;
  let batchSize = 0;
  for (let b = B - 1; b >= 1; b--) {
    if (!violation(cfg, b, T, limits, activations, lanes)) {
      batchSize = b;
      break;
    }
  }
  let msg =
    `This model needs a ${mib(buf.bytes)} buffer (${buf.name}) but the adapter's ${limit} is ` +
    `${mib(limit === 'maxBufferSize' ? limits.maxBufferSize : limits.maxStorageBufferBindingSize)}.`;
  if (batchSize > 0) {
    msg += ` The largest batch size that fits is ${batchSize}.`;
    throw new PlanError(msg, limit, { batchSize });
  }
  const step = cfg.nHead * 4;
  for (let c = cfg.nEmbd - step; c >= step; c -= step) {
    if (!violation({ ...cfg, nEmbd: c }, 1, T, limits, activations, lanes)) {
      msg += ` Even batch size 1 does not fit; the widest model that fits at batch size 1 has nEmbd ${c}.`;
      throw new PlanError(msg, limit, { batchSize: 1, nEmbd: c });
    }
  }
  throw new PlanError(msg + ' No smaller batch or width fits either; reduce the sequence length or vocabulary.', limit);
}

/**
 * Training FLOPs of one step: 3× the forward pass (forward + backward, the usual estimate), counting every matmul
 * (2 FLOPs per multiply-add) and attention's two T×T products at full size (the causal mask is not discounted), and
 * the token-order head's unembedding, which only training computes.
 */
export function trainingFlopsPerStep(cfg: ModelConfig, B: number, T: number): number {
  const top = cfg.topHead ? 2 * B * T * cfg.nEmbd * cfg.vocabSize : 0;
  return 3 * (forwardFlops(cfg, B, T) + top);
}

export function forwardFlops(cfg: ModelConfig, B: number, T: number): number {
  const C = cfg.nEmbd;
  const BT = B * T;
  const perBlock = 2 * BT * C * 3 * C + 2 * 2 * B * T * T * C + 2 * BT * C * C + 2 * 2 * BT * C * 4 * C;
  const heads = 1 + cfg.extraHeads;
  return (cfg.nLayer + cfg.extraHeads) * perBlock + heads * 2 * BT * C * cfg.vocabSize;
}
