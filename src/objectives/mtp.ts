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

/**
 * `heads` is the number of heads in all (ObjectiveSpec's mtp.heads), at least 2: the next-token head and more.
 * `layout` 'gloeckle' gives every head, the next-token head included, a block of its own on the trunk (Gloeckle et
 * al.'s architecture), so that no head's loss reaches the trunk but through its own block. The engine's model has
 * a head on the trunk and extra heads of one block each; this layout uses `heads` extra heads and leaves the
 * trunk's own head unsupervised (its logits are computed and weigh nothing): extra head 1 is the next-token head,
 * extra head k predicts token t+k.
 */
export function multiTokenObjective(heads: number, layout?: 'gloeckle'): Objective {
  const first = layout === 'gloeckle' ? 1 : 0; // the model head that predicts the next token
  const H = heads + first; // the model's heads: its trunk head, then one per extra block
  const where =
    layout === 'gloeckle'
      ? 'each head its own block on the shared trunk (Gloeckle et al.)'
      : 'the next-token head on the trunk, the others one block each';
  return {
    name: 'mtp',
    description: `multi-token prediction: ${heads} heads in all, predicting tokens t+1…t+${heads}, ${where}; the next-token head decodes`,
    attention: 'causal',
    extraHeads: H - 1,
    seqLen: (task) => task.promptLength + task.targetLength - 1,
    makeBatch(task, examples) {
      const targets = examples.map((e) => e.target);
      return causalBatch(task, examples, targets, teacherForcedInputs(examples, targets), H, first);
    },
    async decode(task, examples, forward, teacherForced) {
      const known = teacherForced && { ordered: examples.map((e) => e.target), predictions: teacherForced.predictions };
      return { predictions: await greedyDecode(task, examples, forward, H, known, first) };
    },
    teacherForced(task, examples, forward) {
      const targets = examples.map((e) => e.target);
      return teacherForcedScores(task, examples, targets, teacherForcedInputs(examples, targets), forward, H, first);
    },
    // Each head at its own offset, from the teacher-forced pass: does head k know target[i] from k tokens back?
    probes: async (_task, _examples, _forward, teacherForced) => ({ heads: teacherForced.heads }),
  };
}
