// The Clever Hans view's words: it says what is on screen, never a signature that is not there.
import { describe, expect, test } from 'vitest';
import {
  cleverHansText,
  laneReading,
  pathStarRoles,
  probeReading,
  probeRows,
} from '../src/ui/results/clever-hans-text';

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

describe('the probes under a lane', () => {
  const probes = (p: Partial<{ goalSide: number[]; singleMask: number[]; heads: (number | null)[][] }>) => ({
    goalSide: null,
    singleMask: null,
    heads: null,
    ...p,
  });

  test('rows: one per probe the lane ran, none for results saved before the probes', () => {
    expect(probeRows(undefined)).toEqual([]);
    expect(probeRows(probes({}))).toEqual([]);
    const rows = probeRows(probes({ goalSide: [1, 0.5, 1, 1, 1], singleMask: [1, 0.9, 1, 1, 1] }));
    expect(rows.map((r) => r.name)).toEqual(['goal side', 'one masked']);
    const heads = probeRows(
      probes({
        heads: [
          [1, 0.5, 1, 1, 1],
          [null, 0.2, 0.5, 0.6, 1],
        ],
      }),
    );
    expect(heads.map((r) => [r.name, r.accuracy[0]])).toEqual([
      ['head 1', 1],
      ['head 2', null],
    ]);
  });

  test('goal side learned but decoding fails: the look-ups are learned, the order of decoding is not', () => {
    const r = probeReading(2, 5, { exactMatch: 0.47, probes: probes({ goalSide: [1, 0.97, 0.99, 1, 1] }) });
    expect(r).toMatch(/look-ups are learned, the order of decoding is not/);
    expect(probeReading(2, 5, { exactMatch: 0.95, probes: probes({ goalSide: [1, 0.97, 0.99, 1, 1] }) })).toMatch(
      /plans from the goal back/,
    );
  });

  test('goal side near chance: the look-up is not learned', () => {
    const r = probeReading(2, 5, { exactMatch: 0.01, probes: probes({ goalSide: [1, 0.26, 0.27, 0.3, 1] }) });
    expect(r).toMatch(/found only 26% of the time: the look-up from the goal's side is not learned yet/);
  });

  test('a next-token head below chance at the decision is named; nothing to say otherwise', () => {
    expect(probeReading(4, 3, { exactMatch: 0, probes: probes({ heads: [[1, 0, 1]] }) })).toBeNull(); // path of 3
    expect(
      probeReading(2, 5, {
        exactMatch: 0,
        probes: probes({
          heads: [
            [1, 0.02, 1, 1, 1],
            [null, 0.5],
          ],
        }),
      }),
    ).toMatch(/below chance at the decision \(2% against 50%\)/);
    expect(probeReading(2, 5, { exactMatch: 0, probes: probes({ heads: [[1, 0.5, 1, 1, 1]] }) })).toBeNull();
    // An untrained head is below chance everywhere: nothing to read into its decision.
    expect(probeReading(2, 5, { exactMatch: 0, probes: probes({ heads: [[0, 0, 0, 0, 0]] }) })).toBeNull();
    expect(probeReading(2, 5, { exactMatch: 0 })).toBeNull();
  });
});
