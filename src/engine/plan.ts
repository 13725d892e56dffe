// Memory planned once, from the config, before anything is allocated: every buffer the GPU model will create, its
// size, and a check against the adapter's limits that names the limit and the largest config that would fit.
// Pure functions: the page, the command line and the tests can ask "does it fit?" without a GPU.
import type { ModelConfig } from '../model/config';
import { PARAM_ALIGN, paramTable } from '../model/params';

/** Legend: B batch, T sequence, C width, NH heads, V vocab, H = 1 + extraHeads, P parameter floats. */
export interface BufferPlan {
  name: string;
  /** 4-byte elements (f32, i32 or u32). */
  elements: number;
  /** Bound whole as one storage binding (so it must fit maxStorageBufferBindingSize). */
  boundWhole: boolean;
}

export const align = (n: number, a = PARAM_ALIGN): number => Math.ceil(n / a) * a;

/** Floats between the heads' logits in the shared logits buffer (aligned so each head binds at its own offset). */
export const logitsHeadStride = (B: number, T: number, V: number): number => align(B * T * V);

/** Elements per chunk of the first stage of the deterministic reductions (loss, gradient norm). */
export const REDUCE_CHUNK = 4096;

/** The activations one transformer block keeps for its backward pass, (name, elements). */
export function blockActivations(B: number, T: number, C: number, NH: number): [string, number][] {
  const BTC = B * T * C;
  return [
    ['ln1', BTC],
    ['ln1Mean', B * T],
    ['ln1Rstd', B * T],
    ['qkv', 3 * BTC],
    ['att', B * NH * T * T],
    ['atty', BTC],
    ['attproj', BTC],
    ['res2', BTC],
    ['ln2', BTC],
    ['ln2Mean', B * T],
    ['ln2Rstd', B * T],
    ['fch', 4 * BTC],
    ['fchGelu', 4 * BTC],
    ['fcproj', BTC],
    ['res3', BTC],
  ];
}

export function planBuffers(cfg: ModelConfig, B: number, T: number): BufferPlan[] {
  const P = paramTable(cfg).total;
  const C = cfg.nEmbd;
  const NH = cfg.nHead;
  const V = cfg.vocabSize;
  const H = 1 + cfg.extraHeads;
  const BTC = B * T * C;
  const out: BufferPlan[] = [
    { name: 'params', elements: P, boundWhole: true },
    { name: 'grads', elements: P, boundWhole: true },
    { name: 'adam.m', elements: P, boundWhole: true },
    { name: 'adam.v', elements: P, boundWhole: true },
    { name: 'decayMask', elements: Math.ceil(P / 32), boundWhole: true },
    { name: 'gradPartials', elements: Math.ceil(P / REDUCE_CHUNK), boundWhole: true },
    { name: 'tokens', elements: B * T, boundWhole: true },
    { name: 'targets', elements: H * B * T, boundWhole: true },
    { name: 'weights', elements: H * B * T, boundWhole: true },
    { name: 'encoded', elements: BTC, boundWhole: true },
  ];
  const blocks = cfg.nLayer + cfg.extraHeads;
  for (let l = 0; l < blocks; l++) {
    for (const [n, e] of blockActivations(B, T, C, NH)) out.push({ name: `block${l}.${n}`, elements: e, boundWhole: true });
  }
  for (let h = 0; h < H; h++) {
    out.push({ name: `head${h}.lnf`, elements: BTC, boundWhole: true });
    out.push({ name: `head${h}.lnfMean`, elements: B * T, boundWhole: true });
    out.push({ name: `head${h}.lnfRstd`, elements: B * T, boundWhole: true });
    if (h > 0) out.push({ name: `head${h}.dres`, elements: BTC, boundWhole: true });
  }
  const stride = logitsHeadStride(B, T, V);
  out.push(
    { name: 'logits', elements: H * stride, boundWhole: false },
    { name: 'losses', elements: H * B * T, boundWhole: true },
    { name: 'lossPartials', elements: Math.ceil((H * B * T) / REDUCE_CHUNK), boundWhole: true },
    { name: 'stats', elements: 16, boundWhole: true },
    // The matmul kernels' aux binding where no GELU epilogue uses it (it must not alias C).
    { name: 'matmulAux', elements: 4, boundWhole: true },
    { name: 'dres', elements: BTC, boundWhole: true },
    { name: 'dln', elements: BTC, boundWhole: true },
    { name: 'datty', elements: BTC, boundWhole: true },
    { name: 'dqkv', elements: 3 * BTC, boundWhole: true },
    { name: 'dpreatt', elements: B * NH * T * T, boundWhole: true },
    { name: 'dfc', elements: 4 * BTC, boundWhole: true },
    { name: 'evalStaging', elements: H * stride, boundWhole: false },
  );
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

function violation(cfg: ModelConfig, B: number, T: number, limits: DeviceLimitsLike): string | null {
  const s = summarizePlan(planBuffers(cfg, B, T));
  if (s.largestBinding.bytes > limits.maxStorageBufferBindingSize) return 'maxStorageBufferBindingSize';
  if (s.largestBuffer.bytes > limits.maxBufferSize) return 'maxBufferSize';
  return null;
}

/**
 * Throws PlanError when the plan does not fit the adapter, naming the limit, the offending buffer and the largest
 * batch size (or, failing that, width) that would fit; returns the plan's summary otherwise.
 */
export function checkPlan(cfg: ModelConfig, B: number, T: number, limits: DeviceLimitsLike): PlanSummary {
  const summary = summarizePlan(planBuffers(cfg, B, T));
  if (limits.maxStorageBuffersPerShaderStage < STORAGE_BUFFERS_NEEDED) {
    throw new PlanError(
      `This adapter allows ${limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage; the lab's ` +
        `kernels need ${STORAGE_BUFFERS_NEEDED} (maxStorageBuffersPerShaderStage). No model size changes that.`,
      'maxStorageBuffersPerShaderStage',
    );
  }
  const limit = violation(cfg, B, T, limits);
  if (!limit) return summary;
  const buf = limit === 'maxBufferSize' ? summary.largestBuffer : summary.largestBinding;
  const mib = (x: number) => `${(x / 2 ** 20).toFixed(1)} MiB`;
  let batchSize = 0;
  for (let b = B - 1; b >= 1; b--) {
    if (!violation(cfg, b, T, limits)) {
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
    if (!violation({ ...cfg, nEmbd: c }, 1, T, limits)) {
      msg += ` Even batch size 1 does not fit; the widest model that fits at batch size 1 has nEmbd ${c}.`;
      throw new PlanError(msg, limit, { batchSize: 1, nEmbd: c });
    }
  }
  throw new PlanError(msg + ' No smaller batch or width fits either; reduce the sequence length or vocabulary.', limit);
}

/**
 * Training FLOPs of one step: 3× the forward pass (forward + backward, the usual estimate), counting every matmul
 * (2 FLOPs per multiply-add) and attention's two T×T products at full size (the causal mask is not discounted).
 */
export function trainingFlopsPerStep(cfg: ModelConfig, B: number, T: number): number {
  return 3 * forwardFlops(cfg, B, T);
}

export function forwardFlops(cfg: ModelConfig, B: number, T: number): number {
  const C = cfg.nEmbd;
  const BT = B * T;
  const perBlock = 2 * BT * C * 3 * C + 2 * 2 * B * T * T * C + 2 * BT * C * C + 2 * 2 * BT * C * 4 * C;
  const heads = 1 + cfg.extraHeads;
  return (cfg.nLayer + cfg.extraHeads) * perBlock + heads * 2 * BT * C * cfg.vocabSize;
}
