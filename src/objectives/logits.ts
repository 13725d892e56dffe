// Reading a ForwardFn's output. Legend: H heads, n sequences, T positions, V vocabulary; logits are (H, n, T, V).
import type { ForwardFn } from '../model/batch';

/** The logits of one forward pass with their shape, so decoders index them by (head, sequence, position). */
export class Logits {
  private constructor(
    readonly data: Float32Array,
    readonly H: number,
    readonly n: number,
    readonly T: number,
    readonly V: number,
  ) {}

  /** Run the model on tokens (n, T) and check that it returned (H, n, T, V) logits. */
  static async of(forward: ForwardFn, tokens: Int32Array, n: number, T: number, H: number, V: number) {
    const data = await forward(tokens, n, T);
    if (data.length !== H * n * T * V) {
      throw new Error(
        `forward returned ${data.length} logits, expected H·n·T·V = ${H}·${n}·${T}·${V} = ${H * n * T * V}`,
      );
    }
    return new Logits(data, H, n, T, V);
  }

  /** Offset of logits[h, b, p, 0]. */
  private at(h: number, b: number, p: number): number {
    return ((h * this.n + b) * this.T + p) * this.V;
  }

  /** Most likely token at (head h, sequence b, position p); `exclude` is never chosen (diffusion's [MASK]). */
  argmax(h: number, b: number, p: number, exclude = -1): number {
    return this.confident(h, b, p, exclude).token;
  }

  /** Natural log of the softmax probability of `token` at (h, b, p), over the vocabulary without `exclude`. */
  logProb(h: number, b: number, p: number, token: number, exclude = -1): number {
    const o = this.at(h, b, p);
    let max = -Infinity;
    for (let v = 0; v < this.V; v++) if (v !== exclude) max = Math.max(max, this.data[o + v]!);
    let sum = 0;
    for (let v = 0; v < this.V; v++) if (v !== exclude) sum += Math.exp(this.data[o + v]! - max);
    return this.data[o + token]! - max - Math.log(sum);
  }

  /**
   * The argmax token and its softmax probability over the vocabulary without `exclude` (MDLM gives [MASK] zero
   * probability in its output distribution). Ties go to the lower token id.
   */
  confident(h: number, b: number, p: number, exclude = -1): { token: number; prob: number } {
    const o = this.at(h, b, p);
    let token = -1;
    let max = -Infinity;
    for (let v = 0; v < this.V; v++) {
      if (v === exclude) continue;
      const x = this.data[o + v]!;
      if (token < 0 || x > max) {
        max = x;
        token = v;
      }
    }
    let sum = 0;
    for (let v = 0; v < this.V; v++) if (v !== exclude) sum += Math.exp(this.data[o + v]! - max);
    return { token, prob: 1 / sum };
  }
}
