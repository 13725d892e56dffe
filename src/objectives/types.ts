// A training objective turns examples into batches (inputs, per-head targets, per-position loss weights) and
// decodes a trained model's predictions. One model architecture serves all objectives: only the attention mode
// and the number of extra heads differ.
import type { Batch, ForwardFn, LossShape } from '../model/batch';
import type { AttentionMode } from '../model/config';
import type { Rng } from '../model/rng';
import type { Example, Task } from '../tasks/types';

export type ObjectiveName = 'ntp' | 'reverse' | 'teacherless' | 'mtp' | 'diffusion' | 'top';

export interface DecodeResult {
  /** Predicted target per example, in the task's natural target order (reverse un-reverses). */
  predictions: number[][];
  /**
   * For iterative decoders (diffusion): for each example, the step at which each target position was committed
   * (0-based), so the page can replay the unmasking order.
   */
  commitStep?: number[][];
}

/** What the model predicts at each target position given the true earlier tokens (see Objective.teacherForced). */
export interface TeacherForced {
  /** Argmax per example and target position, natural order. */
  predictions: number[][];
  /**
   * Natural log of the probability the model gives the true token there, per example and position (natural order;
   * 0 at pad targets). Its negative mean is the held-out cross-entropy that every lane reports on one scale.
   */
  logProbs: number[][];
  /**
   * Multi-token heads only: heads[k][b][i] is head k's argmax for target[i] (natural order) from the same pass,
   * made at the position k tokens before head 0's, with the true tokens up to there as input; −1 where i < k (no
   * position of that head has seen the whole prompt and predicts target[i]).
   */
  heads?: number[][][];
}

/**
 * Argmaxes per example and target position (natural order) under the probes that tell "cannot look up" from
 * "cannot decode" (see Objective.probes); a probe an objective cannot run is absent.
 */
export interface ProbePredictions {
  /** Goal-side teacher forcing: at i, the true target tokens after i given (diffusion: revealed, i and left masked). */
  goalSide?: number[][];
  /** Diffusion: only position i masked, every other target token revealed. */
  singleMask?: number[][];
  /** Multi-token heads: TeacherForced.heads. */
  heads?: number[][][];
}

export interface Objective {
  name: ObjectiveName;
  /** One-line description for the page and --help. */
  description: string;
  attention: AttentionMode;
  /** Extra multi-token heads the model needs (mtp: n-1 if n heads in total, see its docs). */
  extraHeads: number;
  /**
   * Whether the model has the token-order head (top_head.weight, src/model/params.ts) and each batch carries its
   * soft targets (Batch.top); absent: false.
   */
  topHead?: boolean;
  /** Sequence length the model sees for this task. */
  seqLen(task: Task): number;
  /** Fill a training batch from examples; rng drives any randomness (diffusion's masking). */
  makeBatch(task: Task, examples: Example[], rng: Rng): Batch;
  /**
   * The shape of every batch's loss (Batch.loss: a token left out of the softmax, the focal γ); absent, or
   * undefined: the plain cross-entropy. Lanes stack on one model only where this agrees (src/lab/run.ts).
   */
  loss?(task: Task): LossShape | undefined;
  /**
   * Decode predictions for the examples' prompts without looking at their targets. `teacherForced`, where given, is
   * this objective's teacherForced result on the same examples: a causal decoder takes from it the argmaxes that a
   * decoding pass would recompute (every example's generated prefix equals its true one, so the pass would see what
   * the teacher-forced pass saw) and skips that pass. The predictions are the same with it or without it.
   */
  decode(task: Task, examples: Example[], forward: ForwardFn, teacherForced?: TeacherForced): Promise<DecodeResult>;
  /**
   * Per target position (natural order), the prediction and the true token's log-probability when the model is
   * given the true earlier target tokens in its own order (teacher forcing), one forward pass. For objectives with
   * no true-prefix input (teacherless) it is their one-pass prediction; for diffusion, the true tokens left of the
   * position are revealed and the rest masked (one pass per position).
   */
  teacherForced(task: Task, examples: Example[], forward: ForwardFn): Promise<TeacherForced>;
  /**
   * The probes this objective can run, given its teacherForced result on the same examples. A causal model cannot
   * be given the tokens after i, so next-token prediction, teacherless and the heads have no goal-side probe; the
   * reversed target's own teacher forcing is goal-side (its order puts every later token of the natural order
   * first). Absent: no probes.
   */
  probes?(task: Task, examples: Example[], forward: ForwardFn, teacherForced: TeacherForced): Promise<ProbePredictions>;
}
