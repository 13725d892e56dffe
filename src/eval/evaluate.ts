// Evaluate one objective's model on examples: free-running decoding (what the model would answer) and the
// teacher-forced analog (what it predicts given the true earlier tokens), scored per position. The contrast is the
// lab's point: under next-token training on path-star the teacher-forced accuracy is ~1 everywhere except the
// decision token, which stays near 1/degree (B&N 2024).
import type { ForwardFn } from '../model/batch';
import type { Objective, ProbePredictions } from '../objectives/types';
import type { Example, Task } from '../tasks/types';
import {
  decisionTokenAccuracy,
  exactMatch,
  meanCrossEntropy,
  perPositionAccuracy,
  validWrongFraction,
  wilsonInterval,
} from './metrics';

export interface Evaluation {
  /** Fraction of examples decoded exactly right (pad positions ignored). */
  exactMatch: number;
  /** 95% Wilson interval of exactMatch over the `examples` evaluated. */
  exactMatchInterval: [number, number];
  /** Number of examples evaluated. */
  examples: number;
  /**
   * Held-out cross-entropy, nats per target token, of the objective's teacher-forced prediction (the true earlier
   * tokens in its own order; see Objective.teacherForced), unweighted: one scale for every objective, unlike their
   * training losses (a sum over multi-token heads, diffusion's ELBO weights).
   */
  heldOutLoss: number;
  /** Free-running accuracy at the task's decision position; null if the task has none. */
  decisionTokenAccuracy: number | null;
  perPosition: { teacherForced: number[]; freeRunning: number[] };
  /** Fraction of wrong predictions that the task calls valid; null if it cannot tell or nothing was wrong. */
  validWrongFraction: number | null;
  /** Decoded target per example, in the task's natural order. */
  predictions: number[][];
  /** Iterative decoders only: the step at which each target position was committed. */
  commitStep?: number[][];
  /** Accuracy per target position under the objective's probes (Probes). */
  probes: Probes;
}

/**
 * Accuracy per target position (natural order) under the probes that tell "cannot look up" from "cannot decode";
 * null where the objective cannot run the probe (Objective.probes).
 * - goalSide: the true target tokens after i given (diffusion: revealed; reverse: its own teacher forcing).
 * - singleMask: diffusion, only i masked.
 * - heads: multi-token heads, heads[k][i] head k's accuracy at target[i] from k tokens further back (null for i < k).
 */
export interface Probes {
  goalSide: number[] | null;
  singleMask: number[] | null;
  heads: (number | null)[][] | null;
}

/** A probe's accuracy per position, or null where the objective did not run it (no predictions). */
function probeAccuracy(preds: number[][], examples: Example[], pad: number): number[] | null {
  if (preds.length === 0) return null;
  return perPositionAccuracy(preds, examples, pad);
}

/** Head k's accuracy per position; null at i < k, where no position of head k predicts target[i]. */
function headAccuracy(preds: number[][], examples: Example[], k: number, pad: number): (number | null)[] {
  return perPositionAccuracy(preds, examples, pad).map((a, i) => (i < k ? null : a));
}

/** Sequences per forward call when the caller does not say (the engine passes the batch size it planned for). */
export const DEFAULT_EVAL_BATCH = 256;

/**
 * Decode and score the examples, calling forward with at most `maxBatch` sequences at a time. Every objective's
 * decoder and teacher-forced pass run n sequences per forward call, so chunking the examples bounds it.
 */
export async function evaluate(
  task: Task,
  objective: Objective,
  examples: Example[],
  forward: ForwardFn,
  maxBatch = DEFAULT_EVAL_BATCH,
): Promise<Evaluation> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new Error(`maxBatch must be a whole number >= 1, got ${maxBatch}`);
  if (examples.length === 0) throw new Error('evaluate needs at least one example');
  const predictions: number[][] = [];
  const teacherForced: number[][] = [];
  const logProbs: number[][] = [];
  const commitSteps: number[][] = [];
  const probed: Required<ProbePredictions> = { goalSide: [], singleMask: [], heads: [] };
  let iterative = false;
  for (let start = 0; start < examples.length; start += maxBatch) {
    const chunk = examples.slice(start, start + maxBatch);
    // Teacher forcing first: a causal decoder skips the passes whose argmaxes this one already computed (the
    // same predictions, fewer forward passes; Objective.decode).
    const tf = await objective.teacherForced(task, chunk, forward);
    teacherForced.push(...tf.predictions);
    logProbs.push(...tf.logProbs);
    const p = objective.probes ? await objective.probes(task, chunk, forward, tf) : {};
    if (p.goalSide) probed.goalSide.push(...p.goalSide);
    if (p.singleMask) probed.singleMask.push(...p.singleMask);
    p.heads?.forEach((rows, k) => (probed.heads[k] ??= []).push(...rows));
    const decoded = await objective.decode(task, chunk, forward, tf);
    predictions.push(...decoded.predictions);
    if (decoded.commitStep) {
      iterative = true;
      commitSteps.push(...decoded.commitStep);
    }
  }
  const pad = task.special.pad;
  const em = exactMatch(predictions, examples, pad);
  const result: Evaluation = {
    exactMatch: em,
    exactMatchInterval: wilsonInterval(Math.round(em * examples.length), examples.length),
    examples: examples.length,
    heldOutLoss: meanCrossEntropy(logProbs, examples, pad),
    decisionTokenAccuracy: decisionTokenAccuracy(predictions, examples, task.decisionPosition, pad),
    perPosition: {
      teacherForced: perPositionAccuracy(teacherForced, examples, pad),
      freeRunning: perPositionAccuracy(predictions, examples, pad),
    },
    validWrongFraction: validWrongFraction(predictions, examples, task.isValid?.bind(task), pad),
    predictions,
    probes: {
      goalSide: probeAccuracy(probed.goalSide, examples, pad),
      singleMask: probeAccuracy(probed.singleMask, examples, pad),
      heads: probed.heads.length === 0 ? null : probed.heads.map((rows, k) => headAccuracy(rows, examples, k, pad)),
    },
  };
  if (iterative) result.commitStep = commitSteps;
  return result;
}
