// Multi-digit addition, the lab's positive control: the answer is the same either way and only the output order
// changes (Lee et al. 2024, "Teaching Arithmetic to Small Transformers": least-significant digit first lets each
// output digit depend only on digits already seen). `reversed` is the TASK's natural target order, unlike the
// `reverse` objective, which reverses whatever target a task has.
//
//   prompt   a+b=   with a and b zero-padded to `digits` digits          (2·digits + 2 tokens)
//   target   a+b    zero-padded to digits+1 digits, most-significant first, or least-significant first if reversed
//
// Token ids: digits 0–9 → 0–9, `+` → 10, `=` → 11, then the specials dummy 12, mask 13, pad 14.
import type { Rng } from '../model/rng';
import { joinTokens, SPECIAL_DISPLAY } from './display';
import { checkTaskField, TaskSpecError } from './spec-error';
import { heldOutSplit } from './split';
import type { AdditionSpec } from '../spec/types';
import type { Example, Task } from './types';

export type { AdditionSpec } from '../spec/types';

const PLUS = 10;
const EQUALS = 11;

/** Throws TaskSpecError naming the first bad field. */
export function validateAdditionSpec(spec: AdditionSpec): void {
  checkTaskField('task.digits', spec.digits);
  if (typeof spec.reversed !== 'boolean') {
    throw new TaskSpecError('task.reversed', `must be true or false, got ${JSON.stringify(spec.reversed)}`);
  }
  checkTaskField('task.trainSize', spec.trainSize);
  checkTaskField('task.testSize', spec.testSize);
  const pairs = 10 ** (2 * spec.digits);
  if (spec.testSize > pairs / 2) {
    throw new TaskSpecError(
      'task.testSize',
      `must be at most half the ${pairs} distinct ${spec.digits}-digit sums (${pairs / 2}), got ${spec.testSize}`,
    );
  }
}

/** Digits of a+b, most-significant first, digits+1 long; a and b are most-significant-first digit arrays. */
export function addDigits(a: readonly number[], b: readonly number[]): number[] {
  const sum = new Array<number>(a.length + 1);
  let carry = 0;
  for (let i = a.length - 1; i >= 0; i--) {
    const s = a[i]! + b[i]! + carry;
    sum[i + 1] = s % 10;
    carry = s >= 10 ? 1 : 0;
  }
  sum[0] = carry;
  return sum;
}

function drawSum(rng: Rng, digits: number, reversed: boolean): Example {
  // Digit by digit, so that any number of digits is uniform and exact (no float rounding past 2^53).
  const a = Array.from({ length: digits }, () => rng.int(10));
  const b = Array.from({ length: digits }, () => rng.int(10));
  const sum = addDigits(a, b);
  return { prompt: [...a, PLUS, ...b, EQUALS], target: reversed ? sum.reverse() : sum };
}

export function additionTask(spec: AdditionSpec, seed: number): Task {
  validateAdditionSpec(spec);
  const { digits, reversed } = spec;
  const split = heldOutSplit(
    (rng) => drawSum(rng, digits, reversed),
    (e) => e.prompt.join(','), // the prompt is the problem: a and b
    spec.trainSize,
    spec.testSize,
    seed,
  );
  const vocab = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '='];
  vocab.push(SPECIAL_DISPLAY.dummy, SPECIAL_DISPLAY.mask, SPECIAL_DISPLAY.pad);
  const special = { dummy: 12, mask: 13, pad: 14 };
  return {
    name: `addition ${digits}-digit${reversed ? ' (reversed output)' : ''}`,
    vocab,
    special,
    promptLength: 2 * digits + 2,
    targetLength: digits + 1,
    sampleTrain: split.sampleTrain,
    test: split.test,
    format: (tokens) => joinTokens(vocab, special.pad, tokens),
  };
}
