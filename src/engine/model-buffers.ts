// The model's GPU memory by what it holds: every buffer of the plan (plan.ts), created once and named as the
// recording (model-record.ts) and the step (model.ts) use it. Shapes in comments (legend: model.ts).
import type { ModelConfig } from '../model/config';
import { BLOCK_ACTIVATIONS, blockActivationName, READBACK_RING, type BlockActivations, type BufferPlan } from './plan';

/** Slots of the small stats buffer that each step copies back. */
export const STAT_LOSS = 0;
export const STAT_NORM = 4; // norm, clip scale, finite flag
/** A lane frozen by the host (GpuModel.freezeLane): AdamW leaves it as it is. */
export const STAT_FROZEN = 8;

/** What one block's forward keeps for its backward (shapes: plan.ts, blockActivations). */
export type BlockActs = BlockActivations<GPUBuffer>;

/** What head h keeps: ln_f's output and statistics, and for an extra head the gradient into its block's output. */
export interface HeadActs {
  lnf: GPUBuffer; // (B,T,C)
  lnfStats: GPUBuffer; // (B,T) mean, then (B,T) rstd (kernels/, lnStatsFloats)
  dres: GPUBuffer | null; // (B,T,C), extra heads only; head 0's gradient flows into the trunk's dres
}

/** Every buffer of the plan, by what it holds. */
export interface ModelBuffers {
  params: GPUBuffer; // (P) the flat parameter buffer, laid out by the parameter table
  grads: GPUBuffer; // (P)
  biasGrads: GPUBuffer; // (L·P) stacked lanes: the biases' and wpe's gradients (plan.ts); (4) unused for one lane
  adamM: GPUBuffer; // (P)
  adamV: GPUBuffer; // (P)
  decayMask: GPUBuffer; // (P/32) one bit per parameter float: weight decay applies
  gradPartials: GPUBuffer; // (P/REDUCE_CHUNK) the gradient norm's first stage
  tokens: GPUBuffer; // (B,T) i32
  targets: GPUBuffer; // (G,B,T) i32, −1 where no target; G = lossHeads (plan.ts): H, and the TOP head's
  weights: GPUBuffer; // (G,B,T) loss weight per position
  topProbs: GPUBuffer; // (B,T,V) the token-order head's soft targets (plan.ts, lossHeads); a placeholder without it
  encoded: GPUBuffer; // (B,T,C) wte[tokens] + wpe
  blocks: BlockActs[]; // L trunk blocks, then the head blocks of heads 1..K
  heads: HeadActs[]; // H
  logits: GPUBuffer; // (G, B,T,V) heads logitsHeadStride floats apart; backward overwrites them with dlogits
  losses: GPUBuffer; // (G,B,T) weighted CE per position
  lossPartials: GPUBuffer; // (G·B·T/REDUCE_CHUNK)
  stats: GPUBuffer; // loss, gradient norm, clip scale, finite flag (STAT_*)
  matmulAux: GPUBuffer; // bound as the matmul kernels' aux where no GELU epilogue uses it
  dres: GPUBuffer; // (B,T,C) gradient of the residual stream
  dln: GPUBuffer; // (B,T,C)
  datty: GPUBuffer; // (B,T,C)
  dqkv: GPUBuffer; // (B,T,3C)
  dpreatt: GPUBuffer; // (B,NH,T,T)
  dfc: GPUBuffer; // (B,T,4C)
  splitKPartials: GPUBuffer; // (S,OC,IC) a split dW product's slices (plan.ts, splitKScratch)
  splitKBiasPartials: GPUBuffer; // (S,OC) and its bias gradient's
  transposedOperand: GPUBuffer; // a transposed input or output gradient (kernels/, operandTransposes; plan.ts)
  transposedWeight: GPUBuffer; // (IC,OC) and its transposed weight
  uniforms: GPUBuffer; // one UNIFORM_SLOT_BYTES slot per dispatch
  evalStaging: GPUBuffer; // (L, G, B,T,Vp) forwardLanes' readback, a lane's logits per lane asked
  statsReadback: GPUBuffer[]; // READBACK_RING copies of stats, read a few steps late
  half: ReadonlySet<GPUBuffer>; // the buffers that hold f16 values (plan.ts, HALF_ACTIVATIONS)
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

/**
 * Create every planned buffer (each also pushed to `allocated`, in plan order, so that the caller can free them all
 * even if this throws half way) and name each by what it holds.
 */
export function allocateBuffers(
  device: GPUDevice,
  cfg: ModelConfig,
  plan: BufferPlan[],
  allocated: GPUBuffer[],
): ModelBuffers {
  const made = new Map<string, GPUBuffer>();
  const half = new Set<GPUBuffer>();
  for (const b of plan) {
    const buffer = device.createBuffer({
      label: b.name,
      size: Math.max(16, b.elements * 4),
      usage: bufferUsage(b.usage),
    });
    made.set(b.name, buffer);
    if (b.half) half.add(buffer);
    allocated.push(buffer);
  }
  const get = (name: string): GPUBuffer => {
    const b = made.get(name);
    if (!b) throw new Error(`the plan has no buffer ${name}`);
    return b;
  };
  const { nLayer: L, extraHeads: K_ } = cfg;
  const block = (l: number): BlockActs => {
    // Record<BlockActivation, GPUBuffer> from the list of its keys.
    return Object.fromEntries(BLOCK_ACTIVATIONS.map((a) => [a, get(blockActivationName(l, a))])) as BlockActs;
  };
  const head = (h: number): HeadActs => ({
    lnf: get(`head${h}.lnf`),
    lnfStats: get(`head${h}.lnfStats`),
    dres: h > 0 ? get(`head${h}.dres`) : null,
  });
  return {
    params: get('params'),
    grads: get('grads'),
    biasGrads: get('biasGrads'),
    adamM: get('adam.m'),
    adamV: get('adam.v'),
    decayMask: get('decayMask'),
    gradPartials: get('gradPartials'),
    tokens: get('tokens'),
    targets: get('targets'),
    weights: get('weights'),
    topProbs: get('topProbs'),
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
    splitKPartials: get('splitKPartials'),
    splitKBiasPartials: get('splitKBiasPartials'),
    transposedOperand: get('transposedOperand'),
    transposedWeight: get('transposedWeight'),
    uniforms: get('uniforms'),
    evalStaging: get('evalStaging'),
    statsReadback: Array.from({ length: READBACK_RING }, (_, i) => get(`statsReadback${i}`)),
    half,
  };
}

/** Write typed-array data into a planned buffer at `at` 4-byte elements (queue-ordered: safe while earlier steps run). */
export function writeFloats(
  device: GPUDevice,
  buffer: GPUBuffer,
  data: Float32Array | Int32Array | Uint32Array,
  at = 0,
): void {
  device.queue.writeBuffer(buffer, at * 4, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
}

/**
 * Copy `elements` floats of a buffer from float `at` back (tests, checkpoints). Makes its own staging buffer and
 * destroys it, so concurrent reads never share one; not for the training loop.
 */
export async function readFloats(
  device: GPUDevice,
  buffer: GPUBuffer,
  elements: number,
  at = 0,
): Promise<Float32Array> {
  const staging = device.createBuffer({ size: elements * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, at * 4, staging, 0, elements * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}
