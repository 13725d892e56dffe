// A training objective turns examples into batches (inputs, per-head targets, per-position loss weights) and
// decodes a trained model's predictions. One model architecture serves all objectives: only the attention mode
// and the number of extra heads differ.
import type { Batch, ForwardFn } from '../model/batch';
import type { AttentionMode } from '../model/config';
import type { Rng } from '../model/rng';
import type { Example, Task } from '../tasks/types';

export type ObjectiveName = 'ntp' | 'reverse' | 'teacherless' | 'mtp' | 'diffusion';

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
}

export interface Objective {
  name: ObjectiveName;
  /** One-line description for the page and --help. */
  description: string;
  attention: AttentionMode;
  /** Extra multi-token heads the model needs (mtp: n-1 if n heads in total, see its docs). */
  extraHeads: number;
  /** Sequence length the model sees for this task. */
  seqLen(task: Task): number;
  /** Fill a training batch from examples; rng drives any randomness (diffusion's masking). */
  makeBatch(task: Task, examples: Example[], rng: Rng): Batch;
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
}
