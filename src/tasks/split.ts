// Train/test separation shared by the generated tasks (path-star, addition): the test set is drawn first, then
// training examples are drawn from the same generator with every test key rejected, so the two never overlap.
import { Rng } from '../model/rng';
import type { Example } from './types';

export interface HeldOutSplit {
  test: Example[];
  sampleTrain(rng: Rng, n: number): Example[];
}

/**
 * A generated task's data.
 * - `draw` makes one random example; `key` is its canonical identity (two examples with the same key pose the
 *   same problem, e.g. the same graph with its edges listed in another order).
 * - The test set holds `testSize` distinct keys. The training set is a fixed list of `trainSize` examples sampled
 *   with replacement each step (as B&N), or, when trainSize is 0, fresh examples every step; either way test keys
 *   are rejected and redrawn.
 * - The caller guarantees that at most half the key space is held out, so rejection ends quickly; `maxTries` only
 *   turns a broken generator into an error instead of a hang.
 */
export function heldOutSplit(
  draw: (rng: Rng) => Example,
  key: (e: Example) => string,
  trainSize: number,
  testSize: number,
  seed: number,
): HeldOutSplit {
  const root = new Rng(seed);
  const testRng = root.fork();
  const trainRng = root.fork();

  const testKeys = new Set<string>();
  const test: Example[] = [];
  drawUntil(testRng, draw, testSize, (e) => {
    const k = key(e);
    if (testKeys.has(k)) return false;
    testKeys.add(k);
    test.push(e);
    return true;
  });

  const drawTrain = (rng: Rng, n: number): Example[] => {
    const out: Example[] = [];
    drawUntil(rng, draw, n, (e) => {
      if (testKeys.has(key(e))) return false;
      out.push(e);
      return true;
    });
    return out;
  };

  if (trainSize === 0) return { test, sampleTrain: drawTrain };
  const train = drawTrain(trainRng, trainSize);
  return {
    test,
    sampleTrain: (rng, n) => Array.from({ length: n }, () => train[rng.int(train.length)]!),
  };
}

function drawUntil(rng: Rng, draw: (rng: Rng) => Example, n: number, accept: (e: Example) => boolean): void {
  const maxTries = 100 * n + 1000;
  let got = 0;
  for (let tries = 0; got < n; tries++) {
    if (tries >= maxTries) throw new Error(`generator produced only ${got} of ${n} acceptable examples`);
    if (accept(draw(rng))) got++;
  }
}
