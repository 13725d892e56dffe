// What one training or evaluation step feeds the model. Objectives build these; the engine consumes them.
//
// Legend: n = sequences in the batch, T = sequence length, H = 1 + extraHeads output heads, V = vocab size.
// Head 0 is the ordinary next-position head; head k (k >= 1) is the k-th extra multi-token head.

export interface Batch {
  /** Sequences in this batch; at most the batch size the model was planned for. */
  n: number;
  /** Sequence length; every sequence has exactly T tokens, and T is at most the model's blockSize. */
  T: number;
  /** Input token ids, (n, T). */
  tokens: Int32Array;
  /** Target token id per head and position, (H, n, T); any value (use -1) where the weight is 0. */
  targets: Int32Array;
  /**
   * Loss weight per head and position, (H, n, T). The loss is Σ weight·CE(logits, target) over all heads and
   * positions, so the objective decides the normalisation (e.g. 1/(n·#targets)); 0 excludes a position, and
   * masked diffusion puts 1/t on masked positions.
   */
  weights: Float32Array;
  /** How each row's cross-entropy is taken beyond its weight; absent: PLAIN_LOSS. */
  loss?: LossShape;
  /** The token-order head's soft targets: present exactly when the model has that head (ModelConfig.topHead). */
  top?: TopTargets;
}

/**
 * Soft targets for the token-order head (src/objectives/top.ts): at each position a distribution q over the
 * vocabulary, and a weight. The head's loss is Σ weight · ListNet(logits, q), ListNet(ŷ, q) = −Σ_v q_v·log
 * softmax(ŷ)_v = logsumexp(ŷ) − Σ_v q_v·ŷ_v, whose gradient with respect to ŷ is softmax(ŷ) − q. A row of weight 0
 * adds nothing and its q is not read.
 */
export interface TopTargets {
  /** (n, T, V), each row summing to 1 where its weight is not 0. */
  probs: Float32Array;
  /** (n, T). */
  weights: Float32Array;
}

/**
 * The shape of a batch's loss, the same for every row: a GpuModel's lanes share one loss dispatch, so its lanes'
 * batches must agree on it (src/lab/run.ts stacks only lanes that do).
 *   exclude: a token the softmax leaves out: it gets no probability and no gradient (MDLM's SUBS
 *            parameterisation: [MASK] is never predicted, in training as in decoding); −1 for none.
 *   focalGamma: HKUNLP's token reweighting, each row's ℓ → (1−e^{−ℓ})^γ·ℓ, differentiated through; 0 for ℓ itself.
 */
export interface LossShape {
  exclude: number;
  focalGamma: number;
}

export const PLAIN_LOSS: LossShape = { exclude: -1, focalGamma: 0 };

/** Whether two loss shapes are the same. */
export const sameLoss = (a: LossShape, b: LossShape): boolean =>
  a.exclude === b.exclude && a.focalGamma === b.focalGamma;

/**
 * A row's loss and the factor its softmax gradient (p − onehot) is scaled by, for its cross-entropy ℓ under γ
 * (shaders/common/crossentropy_bindings.wgsl, focal_loss, computes the same in f32).
 */
export function focalLoss(l: number, gamma: number): { loss: number; slope: number } {
  if (gamma === 0) return { loss: l, slope: 1 };
  if (!(l > 0)) return { loss: 0, slope: 0 };
  const e = Math.exp(-l);
  const q = -Math.expm1(-l);
  const qg = q ** gamma;
  return { loss: qg * l, slope: qg + (gamma * l * e * qg) / q };
}

/** Allocate a zeroed batch (targets -1) for H heads. */
export function emptyBatch(n: number, T: number, H: number): Batch {
  return {
    n,
    T,
    tokens: new Int32Array(n * T),
    targets: new Int32Array(H * n * T).fill(-1),
    weights: new Float32Array(H * n * T),
  };
}

/**
 * A model's forward pass as the decoders and evaluators see it: token ids (n, T) in, logits (H, n, T, V) out.
 * The GPU model and the CPU reference both provide one, so every decoder is tested without a GPU too.
 */
export type ForwardFn = (tokens: Int32Array, n: number, T: number) => Promise<Float32Array>;
