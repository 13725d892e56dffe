// Next-token prediction on the reversed target (B&N's "reverse" encoding): on path-star the model emits goal first,
// then each parent of the previous node, a look-up that teacher forcing does teach. Predictions are un-reversed to
// the task's natural order before scoring.
//
// Only the non-pad part of a target is reversed; padding stays at the end, so that a variable-length custom target
// is still a prefix and its pad positions (weight 0) come after everything the model generates. Un-reversing a
// prediction therefore uses each example's target length (its count of non-pad tokens) — the one thing the decoder
// reads from the target, and only for custom tasks with targets of different lengths.
import type { Example, Task } from '../tasks/types';
import { causalBatch, greedyDecode, targetTokens, teacherForcedInputs, teacherForcedScores } from './causal';
import type { Objective } from './types';

/** The target in training order: its non-pad tokens reversed, padding kept at the end. */
export function reverseTarget(target: readonly number[], pad: number): number[] {
  const len = targetTokens(target, pad);
  return [...target.slice(0, len).reverse(), ...target.slice(len)];
}

/** A prediction in training order back to natural order, for an example whose target has `len` non-pad tokens. */
function unreverse(predicted: readonly number[], len: number): number[] {
  return [...predicted.slice(0, len).reverse(), ...predicted.slice(len)];
}

function reversedTargets(task: Task, examples: Example[]): number[][] {
  return examples.map((e) => reverseTarget(e.target, task.special.pad));
}

export function reverseObjective(): Objective {
  return {
    name: 'reverse',
    description: 'next-token prediction on the reversed target (goal first), un-reversed for scoring',
    attention: 'causal',
    extraHeads: 0,
    seqLen: (task) => task.promptLength + task.targetLength - 1,
    makeBatch(task, examples) {
      const targets = reversedTargets(task, examples);
      return causalBatch(task, examples, targets, teacherForcedInputs(examples, targets), 1);
    },
    async decode(task, examples, forward, teacherForced) {
      const pad = task.special.pad;
      const len = (b: number) => targetTokens(examples[b]!.target, pad);
      // The teacher-forced argmaxes back in training order (un-reversing is its own inverse).
      const known = teacherForced && {
        ordered: reversedTargets(task, examples),
        predictions: teacherForced.predictions.map((p, b) => unreverse(p, len(b))),
      };
      const reversed = await greedyDecode(task, examples, forward, 1, known);
      return { predictions: reversed.map((p, b) => unreverse(p, len(b))) };
    },
    async teacherForced(task, examples, forward) {
      const targets = reversedTargets(task, examples);
      const r = await teacherForcedScores(task, examples, targets, teacherForcedInputs(examples, targets), forward, 1);
      const natural = (rows: number[][]) =>
        rows.map((p, b) => unreverse(p, targetTokens(examples[b]!.target, task.special.pad)));
      return { predictions: natural(r.predictions), logProbs: natural(r.logProbs) };
    },
    // Goal first: at natural position i the true tokens after i are its inputs, so its teacher forcing is goal-side.
    probes: async (_task, _examples, _forward, teacherForced) => ({ goalSide: teacherForced.predictions }),
  };
}
