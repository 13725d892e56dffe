// Scores of decoded targets against the true ones. Predictions and targets are in the task's natural target
// order; positions whose true target is the task's pad token (custom tasks) are ignored everywhere.
import type { Example } from '../tasks/types';

function checkShapes(preds: readonly (readonly number[])[], examples: readonly Example[]): void {
  if (preds.length !== examples.length) {
    throw new Error(`${preds.length} predictions for ${examples.length} examples`);
  }
}

/** Fraction of examples whose every non-pad target token is predicted exactly. */
export function exactMatch(preds: readonly (readonly number[])[], examples: readonly Example[], pad = -1): number {
  checkShapes(preds, examples);
  if (examples.length === 0) return NaN;
  let right = 0;
  examples.forEach((e, b) => {
    if (e.target.every((t, i) => t === pad || preds[b]![i] === t)) right++;
  });
  return right / examples.length;
}

/**
 * Accuracy at each target position over the examples whose target there is not pad; NaN at a position where every
 * example has pad (only possible for custom tasks evaluated on a subset).
 */
export function perPositionAccuracy(
  preds: readonly (readonly number[])[],
  examples: readonly Example[],
  pad = -1,
): number[] {
  checkShapes(preds, examples);
  const L = Math.max(0, ...examples.map((e) => e.target.length));
  const right = new Array<number>(L).fill(0);
  const counted = new Array<number>(L).fill(0);
  examples.forEach((e, b) => {
    e.target.forEach((t, i) => {
      if (t === pad) return;
      counted[i]!++;
      if (preds[b]![i] === t) right[i]!++;
    });
  });
  return right.map((r, i) => (counted[i]! > 0 ? r / counted[i]! : NaN));
}

/** Accuracy at the task's decision position (path-star: the token after the source); null if it has none. */
export function decisionTokenAccuracy(
  preds: readonly (readonly number[])[],
  examples: readonly Example[],
  decisionPosition: number | undefined,
  pad = -1,
): number | null {
  if (decisionPosition === undefined) return null;
  const acc = perPositionAccuracy(preds, examples, pad)[decisionPosition];
  return acc === undefined || Number.isNaN(acc) ? null : acc;
}

/**
 * Of the wrong predictions, the fraction the task still calls valid (path-star: a real path from the source down
 * some arm, just not the goal's — the model learned the graph but not the plan). null when the task has no such
 * check or nothing was wrong.
 */
export function validWrongFraction(
  preds: readonly (readonly number[])[],
  examples: readonly Example[],
  isValid: ((example: Example, predicted: number[]) => boolean) | undefined,
  pad = -1,
): number | null {
  checkShapes(preds, examples);
  if (!isValid) return null;
  let wrong = 0;
  let valid = 0;
  examples.forEach((e, b) => {
    const p = preds[b]!;
    if (e.target.every((t, i) => t === pad || p[i] === t)) return;
    wrong++;
    if (isValid(e, [...p])) valid++;
  });
  return wrong === 0 ? null : valid / wrong;
}

/**
 * Wilson score interval for a proportion: `successes` of `n` trials, at the normal quantile z (1.96: 95%). Unlike
 * p ± z·SE it stays inside [0, 1] and is not zero-width at 0 or n successes (Wilson 1927; Brown, Cai & DasGupta
 * 2001 recommend it for small n). Returns [lower, upper].
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (!(n > 0) || successes < 0 || successes > n) throw new Error(`wilsonInterval: ${successes} successes of ${n}`);
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Mean cross-entropy in nats over the non-pad target tokens, from each token's log-probability. */
export function meanCrossEntropy(
  logProbs: readonly (readonly number[])[],
  examples: readonly Example[],
  pad = -1,
): number {
  let sum = 0;
  let count = 0;
  examples.forEach((e, b) => {
    e.target.forEach((t, i) => {
      if (t === pad) return;
      sum -= logProbs[b]![i]!;
      count++;
    });
  });
  return count > 0 ? sum / count : NaN;
}
