// What goes into a model and what comes out (GpuModel's options, its step statistics, forward requests): each lane's tokens (n, T), and the (L, H, B, T)
// targets and loss weights through host copies made once (no allocation per step); the logits a forward pass reads
// back, unpadded. Legend: model.ts.
import { PLAIN_LOSS, sameLoss, type Batch, type LossShape } from '../model/batch';
import { lmHeadRows } from '../model/params';
import { encodeDispatches, type Dispatch } from './pipelines';
import { writeFloats } from './model-buffers';
import { logitsHeadStride } from './plan';
import type { StorageType } from './kernels';
import type { MatmulVariant } from './matmul-variants';
import type { ReductionVariant } from './reduction-variants';

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

export interface InputShape {
  lanes: number;
  /** Heads: 1 + extra heads. */
  H: number;
  /** Heads of logits and loss per lane: H, and the token-order head's (plan.ts, lossHeads). */
  G: number;
  B: number;
  T: number;
  V: number;
}

export class ModelInputs {
  private readonly hostTargets: Int32Array;
  private readonly hostWeights: Float32Array;

  /** The token-order head's soft targets (L·B·T, V), where the model has that head. */
  private readonly hostTop: Float32Array;

  constructor(
    private readonly device: GPUDevice,
    private readonly buffers: { tokens: GPUBuffer; targets: GPUBuffer; weights: GPUBuffer; topProbs: GPUBuffer },
    readonly shape: InputShape,
  ) {
    const { lanes, G, B, T, V } = shape;
    this.hostTargets = new Int32Array(lanes * G * B * T);
    this.hostWeights = new Float32Array(lanes * G * B * T);
    this.hostTop = new Float32Array(G > shape.H ? lanes * B * T * V : 0);
  }

  /**
   * The input tokens (n, T) of a batch or a forward pass, into lane's rows; rows past n keep whatever tokens they
   * had.
   */
  writeTokens(tokens: Int32Array, n: number, lane = 0): void {
    const { B, T, V } = this.shape;
    if (n > B) throw new Error(`batch has ${n} sequences, model was planned for at most ${B}`);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t < 0 || t >= V) throw new Error(`token id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
    }
    if (tokens.length !== n * T) throw new Error(`expected n·T = ${n * T} tokens, got ${tokens.length}`);
    writeFloats(this.device, this.buffers.tokens, tokens, lane * B * T);
  }

  /**
   * Each lane's tokens, targets and weights (a frozen lane's null batch: no target, no loss, its rows keep whatever
   * tokens they had); returns the loss shape the lanes share (they share the loss's dispatch).
   */
  writeBatches(batches: readonly (Batch | null)[]): LossShape {
    const { lanes, H, G, B, T, V } = this.shape;
    const topHead = G > H;
    if (batches.length !== lanes)
      throw new Error(`a step of this model takes ${lanes} batch(es), one a lane; got ${batches.length}`);
    const shape = sharedLossShape(batches, this.shape.V);
    // Rows past n (a short batch) get no target and zero loss weight.
    const targets = this.hostTargets.fill(-1);
    const weights = this.hostWeights.fill(0);
    batches.forEach((batch, lane) => {
      if (!batch) return;
      if (batch.T !== T) throw new Error(`batch has sequence length ${batch.T}, model was planned for ${T}`);
      this.writeTokens(batch.tokens, batch.n, lane);
      if (batch.weights.length !== H * batch.n * T || batch.targets.length !== H * batch.n * T) {
        throw new Error(`targets/weights must have H·n·T = ${H * batch.n * T} entries`);
      }
      for (let h = 0; h < H; h++) {
        const at = (lane * G + h) * B * T;
        targets.set(batch.targets.subarray(h * batch.n * T, (h + 1) * batch.n * T), at);
        weights.set(batch.weights.subarray(h * batch.n * T, (h + 1) * batch.n * T), at);
      }
      if (!!batch.top !== topHead) throw new Error(`batch.top must be given exactly when the model has the TOP head`);
      if (batch.top) {
        // The token-order head's rows: weights as given (their targets are not read), q into the lane's rows.
        if (batch.top.weights.length !== batch.n * T || batch.top.probs.length !== batch.n * T * V)
          throw new Error(`top.weights and top.probs must have n·T = ${batch.n * T} and n·T·V entries`);
        weights.set(batch.top.weights, (lane * G + H) * B * T);
        this.hostTop.set(batch.top.probs, lane * B * T * V);
      }
    });
    writeFloats(this.device, this.buffers.targets, targets);
    writeFloats(this.device, this.buffers.weights, weights);
    if (topHead) writeFloats(this.device, this.buffers.topProbs, this.hostTop);
    return shape;
  }
}

/** The loss shape of the lanes' batches (a frozen lane's null batch has none), which must be one, and valid. */
export function sharedLossShape(batches: readonly (Batch | null)[], V: number): LossShape {
  const shapes = batches.flatMap((b) => (b ? [b.loss ?? PLAIN_LOSS] : []));
  const shape = shapes[0] ?? PLAIN_LOSS;
  if (!shapes.every((s) => sameLoss(s, shape))) {
    throw new Error('the lanes of one model must share a loss shape (excluded token, focal γ): they share its loss');
  }
  if (!(Number.isInteger(shape.exclude) && shape.exclude >= -1 && shape.exclude < V)) {
    throw new Error(`the loss's excluded token must be −1 or in [0, ${V}), got ${shape.exclude}`);
  }
  if (!(Number.isFinite(shape.focalGamma) && (shape.focalGamma === 0 || shape.focalGamma >= 1))) {
    throw new Error(`the loss's focal γ must be 0 (none) or at least 1, got ${shape.focalGamma}`);
  }
  return shape;
}

/**
 * Each request's logits (H, n, T, V) from the staging copy `all` of the requested lanes' logits, one lane (G
 * heads) after another, each head `stride` floats apart in rows of Vp = lmHeadRows(V) (the lm_head's padded vocabulary).
 */
export function unpackLogits(
  all: Float32Array,
  requests: readonly { n: number }[],
  { H, G, T, V }: Pick<InputShape, 'H' | 'G' | 'T' | 'V'>,
  stride: number,
): Float32Array[] {
  const Vp = lmHeadRows(V);
  return requests.map(({ n }, i) => {
    const out = new Float32Array(H * n * T * V);
    for (let h = 0; h < H; h++)
      for (let r = 0; r < n * T; r++) {
        const from = (i * G + h) * stride + r * Vp;
        out.set(all.subarray(from, from + V), (h * n * T + r) * V);
      }
    return out;
  });
}

/**
 * One forward pass (the recorded `forward` dispatches) on each request's sequences, in its lane's rows: the logits
 * of every head, (H, n, T, V) a request. The staging buffer holds a lane's logits per request (plan.ts). One pass
 * runs every lane's rows whatever it is asked (a lane not asked runs on the tokens its rows hold).
 */
export async function forwardLogits(
  device: GPUDevice,
  inputs: ModelInputs,
  forward: Dispatch[],
  mem: { logits: GPUBuffer; evalStaging: GPUBuffer },
  requests: readonly { lane: number; tokens: Int32Array; n: number }[],
): Promise<Float32Array[]> {
  const { B, T, G, V } = inputs.shape;
  if (requests.length === 0) return [];
  const seen = new Set<number>();
  for (const { lane } of requests) {
    if (seen.has(lane)) throw new Error(`forward: lane ${lane} asked twice in one pass`);
    seen.add(lane);
  }
  // The forward pass reads no targets or weights. writeTokens checks each request's count and tokens.
  for (const { lane, tokens, n } of requests) inputs.writeTokens(tokens, n, lane);
  const stride = logitsHeadStride(B, T, V);
  const laneBytes = G * stride * 4; // a lane's logits, the token-order head's (never read back) included
  const staging = mem.evalStaging;
  const enc = device.createCommandEncoder({ label: 'forward' });
  const pass = enc.beginComputePass();
  encodeDispatches(pass, forward);
  pass.end();
  requests.forEach(({ lane }, i) =>
    enc.copyBufferToBuffer(mem.logits, lane * laneBytes, staging, i * laneBytes, laneBytes),
  );
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, requests.length * laneBytes);
  const all = new Float32Array(staging.getMappedRange(0, requests.length * laneBytes));
  const outs = unpackLogits(all, requests, inputs.shape, stride);
  staging.unmap();
  return outs;
}
