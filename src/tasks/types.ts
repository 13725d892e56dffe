// A task is a seeded generator of prompt→target examples over a small token vocabulary.
import type { Rng } from '../model/rng';

export interface Example {
  /** Prompt token ids (given, never predicted). */
  prompt: number[];
  /** Target token ids in their natural order (objectives may reorder or mask them). */
  target: number[];
}

/** Extra tokens every task reserves so that every objective can run on it. */
export interface SpecialTokens {
  /** Fills unused positions (custom tasks with variable lengths). */
  pad: number;
  /** Teacherless training's dummy input token (B&N's `$`). */
  dummy: number;
  /** Masked diffusion's absorbing [MASK] token. */
  mask: number;
}

export interface Task {
  /** Short name for display and checkpoints, e.g. `path-star G(3,3,30)`. */
  name: string;
  /** Display string of each token id; its length is the vocabulary size. */
  vocab: string[];
  special: SpecialTokens;
  /** Every prompt has exactly this many tokens (custom tasks pad on the left with `pad`). */
  promptLength: number;
  /** Every target has exactly this many tokens (custom tasks pad on the right with `pad`). */
  targetLength: number;
  /**
   * Index into the target of the one hard decision, if the task has one (path-star: 1, the token after the
   * source, which is a copy). Reported on its own as the decision-token accuracy.
   */
  decisionPosition?: number;
  /** Training examples for one step: a fixed training set is sampled, fresh examples are generated. */
  sampleTrain(rng: Rng, n: number): Example[];
  /** The held-out test set; never overlaps the training set. */
  test: Example[];
  /** Task-specific check of a wrong prediction, e.g. path-star: is it at least a valid path in the graph? */
  isValid?(example: Example, predicted: number[]): boolean;
  /** Human-readable rendering of an example, for the page and the command line. */
  format(tokens: number[]): string;
}
