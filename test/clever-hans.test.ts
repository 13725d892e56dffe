// The Clever Hans view's words: it says what is on screen, never a signature that is not there.
import { describe, expect, test } from 'vitest';
import { cleverHansText, laneReading, pathStarRoles } from '../src/ui/results/clever-hans-text';

// G(2,5,·): target positions s d c c g.
const ev = (tf: number[], exactMatch = 0.5) => ({ exactMatch, perPosition: { teacherForced: tf, freeRunning: tf } });

describe('laneReading on G(2,5)', () => {
  test('copies not learned: says so, and that the signature appears once they are', () => {
    // The seed the science issue reports: decision 0.13, copies 0.20 and 0.21 under teacher forcing.
    const r = laneReading('ntp', 2, 5, ev([1, 0.13, 0.2, 0.21, 1], 0));
    expect(r).toMatch(/has not learned the edge look-up yet/);
    expect(r).toMatch(/20%, 21% at c, 13% at d/);
    expect(r).not.toMatch(/The Clever Hans signature:/);
    // One copy learned and the other not is not the signature either.
    expect(laneReading('ntp', 2, 5, ev([1, 0.5, 1, 0.94, 1]))).toMatch(/not learned the edge look-up/);
  });

  test('copies learned, decision near chance: the signature', () => {
    expect(laneReading('ntp', 2, 5, ev([1, 0.5, 0.99, 1, 1]))).toMatch(/^The Clever Hans signature/);
    expect(laneReading('mtp', 2, 5, ev([1, 0.62, 0.96, 0.97, 1]))).toMatch(/^The Clever Hans signature/);
  });

  test('copies learned, decision above chance: planning, or on the way', () => {
    expect(laneReading('ntp', 2, 5, ev([1, 0.98, 1, 1, 1], 0.97))).toMatch(/learned the decision as well/);
    expect(laneReading('ntp', 2, 5, ev([1, 0.8, 1, 1, 1], 0.7))).toMatch(/above chance without solving/);
  });

  test('no reading where these positions are not a left-to-right path with copies', () => {
    for (const kind of ['reverse', 'teacherless', 'diffusion'] as const)
      expect(laneReading(kind, 2, 5, ev([1, 0.5, 1, 1, 1]))).toBeNull();
    expect(laneReading('ntp', 3, 3, ev([1, 0.33, 1]))).toBeNull(); // G(3,3): no copy after the decision
  });
});

test('the roles and the task text', () => {
  expect(pathStarRoles(5)).toEqual(['s', 'd', 'c', 'c', 'g']);
  expect(cleverHansText(2, 5)).toMatch(/Positions? 2 and 3 \(c\)/);
  expect(cleverHansText(3, 3)).toMatch(/no Clever Hans contrast can appear/);
});
