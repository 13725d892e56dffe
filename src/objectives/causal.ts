// The machinery shared by the objectives that read the prompt left to right and predict the target after it with a
// causal model: next-token (ntp), reversed target (reverse) and multi-token heads (mtp). Each arranges the target
// in its own training order; everything here works in that order.
//
// Legend: P = task.promptLength, L = task.targetLength, n = examples, H = 1 + extraHeads.
// Sequence (T = P+L−1):  prompt[0..P−1] ++ target[0..L−2]   (the last target token is never an input)
// Head k at position p predicts token p+1+k of prompt ++ target, where that token is a target token: target[i]
// is head k's target at position P−1+i−k. Head 0 is ordinary teacher forcing. A head is supervised only at
// positions p ≥ P−1, which have seen the whole prompt: before it, head k would have to name target[i] without
// having read the goal (path-star) or the operands (addition), an irreducible error whose gradient would only
// add noise to the shared trunk.
import type { Batch, ForwardFn } from '../model/batch';
import { emptyBatch } from '../model/batch';
import type { Example, Task } from '../tasks/types';
import { Logits } from './logits';
import type { TeacherForced } from './types';

/** Non-pad target tokens: the count each example's loss is averaged over. */
export function targetTokens(target: readonly number[], pad: number): number {
  let count = 0;
  for (const t of target) if (t !== pad) count++;
  return count;
}

/** Writes the rows (each exactly T tokens) into the (n, T) token matrix. */
function fillTokens(tokens: Int32Array, T: number, rows: number[][]): void {
  rows.forEach((row, b) => {
    if (row.length !== T) throw new Error(`row ${b} has ${row.length} tokens, expected ${T}`);
    tokens.set(row, b * T);
  });
}

/** The sequence the model sees during teacher forcing: the prompt, then all but the last (ordered) target token. */
function teacherForcedRow(prompt: readonly number[], ordered: readonly number[]): number[] {
  return [...prompt, ...ordered.slice(0, ordered.length - 1)];
}

/**
 * A causal training batch. `ordered[b]` is example b's target in the objective's order; head k gets target[i] at
 * position P−1+i−k with weight 1/(n·L_eff) (L_eff = non-pad target tokens), so each head's loss is the mean
 * cross-entropy over examples of each example's mean over its target tokens. Pad targets and positions that
 * would fall before the sequence start get weight 0. With `first` > 0 the heads before it are not supervised and
 * head `first`+k plays head k's part (multi-token heads in Gloeckle et al.'s layout: the trunk's own head unused).
 */
export function causalBatch(
  task: Task,
  examples: Example[],
  ordered: number[][],
  inputs: number[][],
  H: number,
  first = 0,
): Batch {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L - 1;
  const batch = emptyBatch(n, T, H);
  fillTokens(batch.tokens, T, inputs);
  const pad = task.special.pad;
  ordered.forEach((target, b) => {
    for (let h = first; h < H; h++) {
      const k = h - first; // the head's offset: it predicts token p+1+k
      const supervised = target.slice(k).filter((t) => t !== pad).length;
      if (supervised === 0) continue;
      const w = 1 / (n * supervised);
      for (let i = k; i < L; i++) {
        if (target[i] === pad) continue;
        const o = (h * n + b) * T + (P - 1 + i - k);
        batch.targets[o] = target[i]!;
        batch.weights[o] = w;
      }
    }
  });
  return batch;
}

/** Teacher-forcing inputs for ordered targets. */
export function teacherForcedInputs(examples: Example[], ordered: number[][]): number[][] {
  return examples.map((e, b) => teacherForcedRow(e.prompt, ordered[b]!));
}

/**
 * What the teacher-forced pass saw and predicted, in the objective's order: each example's true target (the
 * inputs after its prompt) and head 0's argmax at each target position.
 */
export interface TeacherForcedArgmax {
  ordered: number[][];
  predictions: number[][];
}

/**
 * Greedy free-running decoding with the next-token head (`head`, 0 unless the trunk's own head is unused): up to L
 * forward passes, each filling the next target position with the
 * argmax and feeding it back. Positions not yet generated hold pad (the attention is causal, so they are never
 * seen). Returns each example's generated target in the objective's order.
 *
 * With `known`, a pass is skipped while every example has generated exactly its true target so far: position
 * P−1+i then sees the same tokens as in the teacher-forced pass (the prompt and the true target[0..i−1]; the causal
 * mask hides the rest, and each sequence's logits depend on its own tokens only), so its argmax is the
 * teacher-forced one. The first pass is always skipped (it sees only the prompt); a model that decodes its whole
 * chunk right needs no pass at all. The result is the same as without `known`.
 */
export async function greedyDecode(
  task: Task,
  examples: Example[],
  forward: ForwardFn,
  H: number,
  known?: TeacherForcedArgmax,
  head = 0,
): Promise<number[][]> {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L - 1;
  const tokens = new Int32Array(n * T).fill(task.special.pad);
  examples.forEach((e, b) => tokens.set(e.prompt, b * T));
  const out = examples.map(() => new Array<number>(L));
  // Whether every example's generated target[0..i−1] is its true one (known only).
  let onTrack = !!known;
  for (let i = 0; i < L; i++) {
    const logits = onTrack ? null : await Logits.of(forward, tokens, n, T, H, task.vocab.length);
    for (let b = 0; b < n; b++) {
      const token = logits ? logits.argmax(head, b, P - 1 + i) : known!.predictions[b]![i]!;
      out[b]![i] = token;
      if (i < L - 1) tokens[b * T + P + i] = token;
      if (onTrack && token !== known!.ordered[b]![i]) onTrack = false;
    }
  }
  return out;
}

/**
 * The next-token head (head `first`) at every target position given the inputs (the true prefix in the objective's
 * order, or `$`s): one forward pass. Returns, in the objective's order, the argmax and the log-probability of `ordered[b][i]` (0 at pad),
 * and with several heads every head's argmax (TeacherForced.heads).
 */
export async function teacherForcedScores(
  task: Task,
  examples: Example[],
  ordered: number[][],
  inputs: number[][],
  forward: ForwardFn,
  H: number,
  first = 0,
): Promise<TeacherForced> {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L - 1;
  const pad = task.special.pad;
  const tokens = new Int32Array(n * T);
  fillTokens(tokens, T, inputs);
  const logits = await Logits.of(forward, tokens, n, T, H, task.vocab.length);
  // Head k's argmax for target[i] sits k positions before head 0's (−1 where i < k: before the prompt's end).
  const argmaxes = (k: number) =>
    examples.map((_, b) =>
      Array.from({ length: L }, (_, i) => (i < k ? -1 : logits.argmax(first + k, b, P - 1 + i - k))),
    );
  // Every supervised head's argmaxes; the next-token head's are the predictions (computed once).
  const heads = Array.from({ length: H - first }, (_, k) => argmaxes(k));
  return {
    predictions: heads[0]!,
    logProbs: ordered.map((target, b) =>
      target.map((t, i) => (t === pad ? 0 : logits.logProb(first, b, P - 1 + i, t))),
    ),
    ...(heads.length > 1 ? { heads } : {}),
  };
}
