// Multi-token prediction (Gloeckle et al. 2024, "Better & Faster Large Language Models via Multi-token
// Prediction"): a shared trunk with 1 + `heads` output heads; head k at position p predicts token p+1+k, and the
// loss is the sum over heads. Only head 0 (the next-token head) generates. See causal.ts for the layout: head k's
// target at position P−1+i−k is target[i], each head weighted 1/(n·L_eff) where defined.
import { causalBatch, greedyDecode, teacherForcedArgmax, teacherForcedInputs } from './causal';
import type { Objective } from './types';

/** `heads` is the number of EXTRA heads beyond the next-token head (ObjectiveSpec's mtp.heads). */
export function multiTokenObjective(heads: number): Objective {
  const H = 1 + heads;
  return {
    name: 'mtp',
    description: `multi-token prediction: next-token head plus ${heads} heads for tokens t+2…t+${heads + 1}, head 0 decodes`,
    attention: 'causal',
    extraHeads: heads,
    seqLen: (task) => task.promptLength + task.targetLength - 1,
    makeBatch(task, examples) {
      const targets = examples.map((e) => e.target);
      return causalBatch(task, examples, targets, teacherForcedInputs(examples, targets), H);
    },
    async decode(task, examples, forward) {
      return { predictions: await greedyDecode(task, examples, forward, H) };
    },
    teacherForcedPredictions(task, examples, forward) {
      const targets = examples.map((e) => e.target);
      return teacherForcedArgmax(task, examples, teacherForcedInputs(examples, targets), forward, H);
    },
  };
}
