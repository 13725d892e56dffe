// Teacherless training (B&N §5): every target input is replaced by the dummy token `$`, so the model cannot lean on
// the true previous token and must predict the whole path from the prompt alone; it is decoded in one parallel
// forward pass. Same sequence length and target positions as next-token prediction.
//
// Sequence (T = P+L−1):  prompt ++ [$]·(L−1);  head 0 at position P−1+i predicts target[i].
import type { ForwardFn } from '../model/batch';
import type { Example, Task } from '../tasks/types';
import { causalBatch, teacherForcedScores } from './causal';
import type { Objective } from './types';

function dummyInputs(task: Task, examples: Example[]): number[][] {
  const dummies = new Array<number>(task.targetLength - 1).fill(task.special.dummy);
  return examples.map((e) => [...e.prompt, ...dummies]);
}

export function teacherlessObjective(): Objective {
  const onePass = (task: Task, examples: Example[], forward: ForwardFn) =>
    teacherForcedScores(
      task,
      examples,
      examples.map((e) => e.target),
      dummyInputs(task, examples),
      forward,
      1,
    );
  return {
    name: 'teacherless',
    description: 'teacherless (B&N): target inputs replaced by $, whole target predicted in one pass',
    attention: 'causal',
    extraHeads: 0,
    seqLen: (task) => task.promptLength + task.targetLength - 1,
    makeBatch(task, examples) {
      const targets = examples.map((e) => e.target);
      return causalBatch(task, examples, targets, dummyInputs(task, examples), 1);
    },
    async decode(task, examples, forward) {
      return { predictions: (await onePass(task, examples, forward)).predictions };
    },
    // With no true-prefix input there is nothing to teacher-force: the one-pass prediction is the answer.
    teacherForced: onePass,
  };
}
