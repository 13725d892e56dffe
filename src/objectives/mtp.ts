// Multi-token prediction (Gloeckle et al. 2024, "Better & Faster Large Language Models via Multi-token
// Prediction"): a shared trunk with n output heads in all, the next-token head included, as Gloeckle et al. and
// the TOP paper count them ("4 heads" = next token + 3). Head k (0-based) at position p predicts token p+1+k; the
// loss is the sum over heads of each head's mean cross-entropy. Only head 0 (the next-token head) generates.
// Heads 1…n−1 are one extra transformer block each on the trunk's output, sharing ln_f and the unembedding.
//
// Head k is supervised only where its position has seen the whole prompt (p ≥ P−1, i.e. target[i] for i ≥ k):
// earlier positions cannot know the goal, so their targets would be noise. See causal.ts for the layout.
import { causalBatch, greedyDecode, teacherForcedInputs, teacherForcedScores } from './causal';
import type { Objective } from './types';

/** `heads` is the number of heads in all (ObjectiveSpec's mtp.heads), at least 2: the next-token head and more. */
export function multiTokenObjective(heads: number): Objective {
  const H = heads;
  return {
    name: 'mtp',
    description: `multi-token prediction: ${heads} heads in all, predicting tokens t+1…t+${heads}; the next-token head decodes`,
    attention: 'causal',
    extraHeads: heads - 1,
    seqLen: (task) => task.promptLength + task.targetLength - 1,
    makeBatch(task, examples) {
      const targets = examples.map((e) => e.target);
      return causalBatch(task, examples, targets, teacherForcedInputs(examples, targets), H);
    },
    async decode(task, examples, forward, teacherForced) {
      const known = teacherForced && { ordered: examples.map((e) => e.target), predictions: teacherForced.predictions };
      return { predictions: await greedyDecode(task, examples, forward, H, known) };
    },
    teacherForced(task, examples, forward) {
      const targets = examples.map((e) => e.target);
      return teacherForcedScores(task, examples, targets, teacherForcedInputs(examples, targets), forward, H);
    },
    // Each head at its own offset, from the teacher-forced pass: does head k know target[i] from k tokens back?
    probes: async (_task, _examples, _forward, teacherForced) => ({ heads: teacherForced.heads }),
  };
}
