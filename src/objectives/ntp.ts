// Next-token prediction with teacher forcing: the standard objective whose failure on path-star B&N demonstrate.
// Training sees the true prefix, so later path tokens are predictable from the previous one (the "Clever Hans"
// cheat) and the one decision token gets too little signal.
import type { Objective } from './types';
import { causalBatch, greedyDecode, teacherForcedInputs, teacherForcedScores } from './causal';

export function nextTokenObjective(): Objective {
  return {
    name: 'ntp',
    description: 'next-token prediction: teacher-forced training, greedy left-to-right decoding',
    attention: 'causal',
    extraHeads: 0,
    seqLen: (task) => task.promptLength + task.targetLength - 1,
    makeBatch(task, examples) {
      const targets = examples.map((e) => e.target);
      return causalBatch(task, examples, targets, teacherForcedInputs(examples, targets), 1);
    },
    async decode(task, examples, forward, teacherForced) {
      const known = teacherForced && { ordered: examples.map((e) => e.target), predictions: teacherForced.predictions };
      return { predictions: await greedyDecode(task, examples, forward, 1, known) };
    },
    teacherForced(task, examples, forward) {
      const targets = examples.map((e) => e.target);
      return teacherForcedScores(task, examples, targets, teacherForcedInputs(examples, targets), forward, 1);
    },
  };
}
