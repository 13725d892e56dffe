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
