import { describe, expect, it } from 'vitest';
import type { ForwardFn } from '../src/model/batch';
import { Rng } from '../src/model/rng';
import { diffusionBatch } from '../src/objectives/diffusion';
import {
  DEFAULT_OBJECTIVES,
  formatObjective,
  makeObjective,
  ObjectiveSpecError,
  parseObjectives,
} from '../src/objectives/index';
import type { Objective } from '../src/objectives/types';
import type { Example, Task } from '../src/tasks/types';

// A hand-made task: tokens a..f = 0..5, then dummy 6, mask 7, pad 8 (V = 9); P = 3, L = 3.
const V = 9;
const [DUMMY, MASK, PAD] = [6, 7, 8];
function handTask(P = 3, L = 3): Task {
  return {
    name: 'hand',
    vocab: ['a', 'b', 'c', 'd', 'e', 'f', '$', '_', '·'],
    special: { dummy: DUMMY, mask: MASK, pad: PAD },
    promptLength: P,
    targetLength: L,
    sampleTrain: () => [],
    test: [],
    format: (t) => t.join(' '),
  };
}
const task = handTask();
const ex: Example = { prompt: [0, 1, 2], target: [3, 4, 5] };
const ex2: Example = { prompt: [1, 1, 0], target: [5, 0, 2] };
const padded: Example = { prompt: [PAD, 0, 1], target: [3, 4, PAD] };
const obj = (name: string) => makeObjective(parseObjectives(name)[0]!);

/** Rows of an (n, T) or (H, n, T) array as plain arrays. */
function rows(a: ArrayLike<number>, T: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length; i += T) out.push(Array.from(a).slice(i, i + T));
  return out;
}

/**
 * An oracle model that knows the answers: at each position it looks at the sequence's prompt and what it has been
 * given so far, and says what the objective should predict there. `predict(b, tokens of row, p, head)` returns the
 * token to favour (or null for uniform logits) and a margin; logits are 0 except margin on that token.
 */
function oracle(
  H: number,
  predict: (row: number[], p: number, head: number) => { token: number; margin?: number } | null,
  calls: number[] = [],
): ForwardFn {
  return (tokens, n, T) => {
    calls.push(n);
    const logits = new Float32Array(H * n * T * V);
    const seqs = rows(tokens, T);
    for (let h = 0; h < H; h++) {
      for (let b = 0; b < n; b++) {
        for (let p = 0; p < T; p++) {
          const r = predict(seqs[b]!, p, h);
          if (r) logits[((h * n + b) * T + p) * V + r.token] = r.margin ?? 20;
        }
      }
    }
    return Promise.resolve(logits);
  };
}

const answers = new Map([ex, ex2, padded].map((e) => [e.prompt.join(','), e.target]));
const answerOf = (row: number[], P = 3) => answers.get(row.slice(0, P).join(','))!;

/**
 * The true conditional of a causal model trained on `order(target)`: at position p ≥ P−1 it predicts the next
 * ordered target token only if every earlier generated token is right, otherwise a wrong token (0), so free-running
 * decoding reaches the answer only by feeding its own predictions back correctly.
 */
function causalOracle(H: number, order: (t: number[]) => number[] = (t) => t, calls?: number[]): ForwardFn {
  return oracle(
    H,
    (row, p, head) => {
      const P = 3;
      if (head > 0) return { token: 1, margin: 50 }; // extra heads shout nonsense; decoding must use head 0
      if (p < P - 1) return null;
      const target = order(answerOf(row));
      const i = p - (P - 1);
      const prefixRight = target.slice(0, i).every((t, j) => t === PAD || row[P + j] === t);
      return { token: prefixRight ? target[i]! : 0 };
    },
    calls,
  );
}

describe('causal objectives: batches', () => {
  it('ntp: prompt ++ target[0..L-2], targets shifted by one, weight 1/(n·L)', () => {
    const b = obj('ntp').makeBatch(task, [ex, ex2], new Rng(1));
    expect([b.n, b.T]).toEqual([2, 5]);
    expect(rows(b.tokens, 5)).toEqual([
      [0, 1, 2, 3, 4],
      [1, 1, 0, 5, 0],
    ]);
    expect(rows(b.targets, 5)).toEqual([
      [-1, -1, 3, 4, 5],
      [-1, -1, 5, 0, 2],
    ]);
    const w = 1 / 6;
    expect(Array.from(b.weights)).toEqual([0, 0, w, w, w, 0, 0, w, w, w].map(Math.fround));
  });

  it('ntp: pad targets get weight 0 and the rest 1/(n·L_eff)', () => {
    const b = obj('ntp').makeBatch(task, [padded], new Rng(1));
    expect(Array.from(b.tokens)).toEqual([PAD, 0, 1, 3, 4]);
    expect(Array.from(b.targets)).toEqual([-1, -1, 3, 4, -1]);
    expect(Array.from(b.weights)).toEqual([0, 0, 0.5, 0.5, 0]);
  });

  it('reverse: the target reversed (pads stay at the end)', () => {
    let b = obj('reverse').makeBatch(task, [ex], new Rng(1));
    expect(Array.from(b.tokens)).toEqual([0, 1, 2, 5, 4]);
    expect(Array.from(b.targets)).toEqual([-1, -1, 5, 4, 3]);
    b = obj('reverse').makeBatch(task, [padded], new Rng(1));
    expect(Array.from(b.tokens)).toEqual([PAD, 0, 1, 4, 3]);
    expect(Array.from(b.targets)).toEqual([-1, -1, 4, 3, -1]);
  });

  it('teacherless: dummy inputs, same targets as ntp', () => {
    const b = obj('teacherless').makeBatch(task, [ex], new Rng(1));
    expect(Array.from(b.tokens)).toEqual([0, 1, 2, DUMMY, DUMMY]);
    expect(Array.from(b.targets)).toEqual([-1, -1, 3, 4, 5]);
    expect(Array.from(b.weights)).toEqual([0, 0, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
  });

  it('mtp:n has n heads in all; head k is supervised only at positions that have seen the whole prompt', () => {
    const o = obj('mtp:3');
    expect(o.extraHeads).toBe(2); // the next-token head and two more
    expect(o.attention).toBe('causal');
    const b = o.makeBatch(task, [ex], new Rng(1));
    expect(Array.from(b.tokens)).toEqual([0, 1, 2, 3, 4]);
    // P = 3: position 2 (the prompt's last token) is the first that has read the whole prompt. Head k at position
    // p predicts token p+1+k; head 1 at position 1 would have to name target[0] without having seen prompt[2].
    expect(rows(b.targets, 5)).toEqual([
      [-1, -1, 3, 4, 5],
      [-1, -1, 4, 5, -1],
      [-1, -1, 5, -1, -1],
    ]);
    // Each head's loss is its mean over the tokens it is asked for: 3, 2 and 1 of them.
    const [w3, w2] = [Math.fround(1 / 3), Math.fround(1 / 2)];
    expect(rows(b.weights, 5)).toEqual([
      [0, 0, w3, w3, w3],
      [0, 0, w2, w2, 0],
      [0, 0, 1, 0, 0],
    ]);
    // Positions before the prompt's end carry no weight for any head, on any example.
    const b2 = o.makeBatch(task, [ex, ex2, padded], new Rng(1));
    for (let h = 0; h < 3; h++)
      for (let e = 0; e < 3; e++) for (let p = 0; p < 2; p++) expect(b2.weights[(h * 3 + e) * 5 + p]).toBe(0);
    // A pad target is never supervised, and the heads' means count only real tokens.
    const bp = o.makeBatch(task, [padded], new Rng(1));
    expect(rows(bp.targets, 5)).toEqual([
      [-1, -1, 3, 4, -1],
      [-1, -1, 4, -1, -1],
      [-1, -1, -1, -1, -1],
    ]);
    expect(rows(bp.weights, 5)[1]).toEqual([0, 0, 1, 0, 0]);
  });

  it("top: ntp's batch, and at each supervised position q ∝ e^(−steps until each token next occurs)", () => {
    const o = obj('top');
    expect([o.extraHeads, o.topHead, o.attention]).toEqual([0, true, 'causal']);
    const repeat: Example = { prompt: [0, 1, 2], target: [3, 4, 3] };
    const b = o.makeBatch(task, [repeat, padded, ex], new Rng(1));
    const ntp = obj('ntp').makeBatch(task, [repeat, padded, ex], new Rng(1));
    expect([b.tokens, b.targets, b.weights]).toEqual([ntp.tokens, ntp.targets, ntp.weights]);
    // The TOP rows are weighted as ntp's: 1/(n·L_eff), pad targets 0.
    const [w3, w2] = [Math.fround(1 / 9), Math.fround(1 / 6)];
    expect(rows(b.top!.weights, 5)).toEqual([
      [0, 0, w3, w3, w3],
      [0, 0, w2, w2, 0],
      [0, 0, w3, w3, w3],
    ]);
    // Worked by hand: the softmax of W − dist over the tokens that occur, 0 elsewhere.
    const e1 = Math.exp(-1);
    const e2 = Math.exp(-2);
    const q = (b_: number, p: number) => Array.from(b.top!.probs.subarray((b_ * 5 + p) * V, (b_ * 5 + p + 1) * V));
    const near = (got: number[], want: number[]) => got.forEach((x, v) => expect(x, `v=${v}`).toBeCloseTo(want[v]!, 7));
    // target d e d: at d the next tokens are d (0 steps), e (1); d's second occurrence does not count again.
    near(q(0, 2), [0, 0, 0, 1 / (1 + e1), e1 / (1 + e1), 0, 0, 0, 0]);
    near(q(0, 3), [0, 0, 0, e1 / (1 + e1), 1 / (1 + e1), 0, 0, 0, 0]);
    near(q(0, 4), [0, 0, 0, 1, 0, 0, 0, 0, 0]);
    // target d e ·: the pad never counts, and its own position has no target (all 0).
    near(q(1, 2), [0, 0, 0, 1 / (1 + e1), e1 / (1 + e1), 0, 0, 0, 0]);
    near(q(1, 3), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    near(q(1, 4), new Array<number>(V).fill(0));
    // target d e f: three distances.
    const s = 1 + e1 + e2;
    near(q(2, 2), [0, 0, 0, 1 / s, e1 / s, e2 / s, 0, 0, 0]);
    // Positions before the prompt's end have no target.
    for (let b_ = 0; b_ < 3; b_++) for (const p of [0, 1]) expect(q(b_, p).every((x) => x === 0)).toBe(true);
  });

  it('seqLen and attention', () => {
    for (const name of ['ntp', 'reverse', 'teacherless', 'mtp', 'top']) expect(obj(name).seqLen(task)).toBe(5);
    expect(obj('diffusion').seqLen(task)).toBe(6);
    expect(obj('diffusion').attention).toBe('bidirectional');
  });
});

describe('causal objectives: decoding', () => {
  const examples = [ex, ex2];
  // Decoders must not read targets: give them garbage ones (same length, no pad).
  const blind = examples.map((e) => ({ prompt: e.prompt, target: [1, 1, 1] }));

  it('ntp decodes greedily with L passes, feeding predictions back', async () => {
    const calls: number[] = [];
    const r = await obj('ntp').decode(task, blind, causalOracle(1, undefined, calls));
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(calls).toEqual([2, 2, 2]);
    const tf = await obj('ntp').teacherForced(task, examples, causalOracle(1));
    expect(tf.predictions).toEqual([ex.target, ex2.target]);
    // The oracle's default margin is 20 on the right token among V = 9: log p = 20 − log(e²⁰ + 8).
    for (const row of tf.logProbs) for (const lp of row) expect(lp).toBeCloseTo(20 - Math.log(Math.exp(20) + 8), 9);
  });

  it('reverse generates goal first and un-reverses', async () => {
    const rev = (t: number[]) => [...t].reverse();
    const r = await obj('reverse').decode(task, blind, causalOracle(1, rev));
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect((await obj('reverse').teacherForced(task, examples, causalOracle(1, rev))).predictions).toEqual([
      ex.target,
      ex2.target,
    ]);
    // An ntp-order model decoded as reverse is wrong: the order matters.
    const wrong = await obj('reverse').decode(task, examples, causalOracle(1));
    expect(wrong.predictions).not.toEqual([ex.target, ex2.target]);
  });

  it("mtp:n:gloeckle gives every head a block: n extra heads, the trunk's own head unsupervised, and decodes with head 1", async () => {
    const o = obj('mtp:3:gloeckle');
    expect(o.extraHeads).toBe(3);
    const b = o.makeBatch(task, [ex], new Rng(1));
    // Model head 0 (the trunk's) weighs nothing; model head 1+k is head k of the plain layout, row for row.
    const plain = obj('mtp:3').makeBatch(task, [ex], new Rng(1));
    expect(rows(b.targets, 5)).toEqual([[-1, -1, -1, -1, -1], ...rows(plain.targets, 5)]);
    expect(rows(b.weights, 5)).toEqual([[0, 0, 0, 0, 0], ...rows(plain.weights, 5)]);
    // Decoding and teacher forcing read model head 1: an oracle that answers only there is decoded right.
    const viaHead1 = oracle(4, (row, p, head) => {
      if (head !== 1 || p < 2) return head === 0 ? { token: 1, margin: 50 } : null;
      const target = answerOf(row);
      const i = p - 2;
      const prefixRight = target.slice(0, i).every((t, j) => row[3 + j] === t);
      return { token: prefixRight ? target[i]! : 0 };
    });
    expect((await o.decode(task, blind, viaHead1)).predictions).toEqual([ex.target, ex2.target]);
    const tf = await o.teacherForced(task, [ex, ex2], viaHead1);
    expect(tf.predictions).toEqual([ex.target, ex2.target]);
    expect(tf.heads).toHaveLength(3); // heads 1..3 of the model: the next-token head and two more
    expect(formatObjective({ kind: 'mtp', heads: 3, layout: 'gloeckle' })).toBe('mtp:3:gloeckle');
  });

  it('mtp decodes with head 0 only', async () => {
    const r = await obj('mtp:3').decode(task, blind, causalOracle(3));
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    await expect(obj('mtp:3').decode(task, blind, causalOracle(1))).rejects.toThrow(/expected H·n·T·V = 3·2·5·9/);
  });

  it('with the teacher-forced argmaxes, the passes they already answer are skipped; the predictions are the same', async () => {
    // A causal model right everywhere but at ex2's second position (1 where the target says 0).
    const slip = (order: (t: number[]) => number[] = (t) => t, calls?: number[]) =>
      oracle(
        1,
        (row, p) => {
          if (p < 2) return null;
          const target = order(answerOf(row));
          const i = p - 2;
          if (row.slice(0, 3).join(',') === ex2.prompt.join(',') && i === 1) return { token: 1 };
          const prefixRight = target.slice(0, i).every((t, j) => t === PAD || row[3 + j] === t);
          return { token: prefixRight ? target[i]! : 0 };
        },
        calls,
      );
    for (const [name, order] of [
      ['ntp', (t: number[]) => t],
      ['reverse', (t: number[]) => [...t].reverse()],
    ] as const) {
      const o = obj(name);
      const plain: number[] = [];
      const want = await o.decode(task, examples, slip(order, plain));
      expect(plain, name).toEqual([2, 2, 2]);
      const tf = await o.teacherForced(task, examples, slip(order));
      const calls: number[] = [];
      const got = await o.decode(task, examples, slip(order, calls), tf);
      expect(got.predictions, name).toEqual(want.predictions);
      // Positions 0 and 1 from the teacher-forced pass; ex2's slip at 1 makes position 2 need a pass of its own.
      expect(calls, name).toEqual([2]);
    }
    // mtp decodes with head 0, whose argmaxes its teacher-forced pass holds too: a model right everywhere needs none.
    const mtp = obj('mtp:3');
    const mtpCalls: number[] = [];
    const tf3 = await mtp.teacherForced(task, examples, causalOracle(3));
    expect((await mtp.decode(task, examples, causalOracle(3, undefined, mtpCalls), tf3)).predictions).toEqual([
      ex.target,
      ex2.target,
    ]);
    expect(mtpCalls).toEqual([]);
    // ntp's wrong prediction is there in both: position 2 after the slip is the model's 0, not the target's 2.
    expect((await obj('ntp').decode(task, examples, slip())).predictions[1]).toEqual([5, 1, 0]);
    // Targets the decoder cannot know (blind) put nothing on track past the first position: only it is skipped.
    const calls: number[] = [];
    const tfBlind = await obj('ntp').teacherForced(task, blind, causalOracle(1));
    const r = await obj('ntp').decode(task, blind, causalOracle(1, undefined, calls), tfBlind);
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(calls).toEqual([2, 2]);
  });

  it('teacherless decodes in one pass from dummies', async () => {
    const calls: number[] = [];
    // Its oracle only reads the prompt, and checks it is given dummies, not its own guesses.
    const fwd = oracle(
      1,
      (row, p) => {
        if (p < 2) return null;
        if (row.slice(3).some((t) => t !== DUMMY)) return { token: 0 };
        return { token: answerOf(row)[p - 2]! };
      },
      calls,
    );
    const r = await obj('teacherless').decode(task, blind, fwd);
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(calls).toEqual([2]);
    expect((await obj('teacherless').teacherForced(task, examples, fwd)).predictions).toEqual(r.predictions);
  });

  it('an adversarial model that gets the decision wrong derails free-running but not teacher forcing', async () => {
    // Right given the true prefix, except target position 1 (the decision) always predicts 0.
    const fwd = oracle(1, (row, p) => {
      if (p < 2) return null;
      const t = answerOf(row);
      const i = p - 2;
      if (i === 1) return { token: 0 };
      return { token: t.slice(0, i).every((x, j) => row[3 + j] === x) ? t[i]! : 1 };
    });
    const o = obj('ntp');
    expect((await o.decode(task, [ex], fwd)).predictions).toEqual([[3, 0, 1]]);
    const tf = await o.teacherForced(task, [ex], fwd);
    expect(tf.predictions).toEqual([[3, 0, 5]]);
    // The decision's true token (4) gets a uniform share among the 8 others; the rest are confident.
    expect(tf.logProbs[0]![1]).toBeLessThan(tf.logProbs[0]![0]! - 1);
  });
});

describe('diffusion', () => {
  /** Per example of a batch: the masked target positions and the weight of each. */
  function masking(
    batch: { tokens: Int32Array; weights: Float32Array; targets: Int32Array; T: number },
    P: number,
    e: Example,
    b: number,
  ) {
    const T = batch.T;
    const masked = e.target.flatMap((_, i) => (batch.tokens[b * T + P + i] === MASK ? [i] : []));
    return { masked, weights: masked.map((i) => batch.weights[b * T + P + i]!) };
  }

  it('masks k of the L target tokens, k stratified over 1..L, each weighted 1/(n·k)', () => {
    const n = 8;
    const L = 40;
    const big = handTask(3, L);
    const examples = Array.from({ length: n }, (_, b) => ({
      prompt: [b % 6, 1, 2],
      target: Array.from({ length: L }, (_, i) => (i + b) % 6),
    }));
    const batch = obj('diffusion').makeBatch(big, examples, new Rng(3));
    const T = 3 + L;
    expect([batch.n, batch.T]).toEqual([n, T]);
    const ks: number[] = [];
    examples.forEach((e, b) => {
      const tok = Array.from(batch.tokens.slice(b * T, (b + 1) * T));
      expect(tok.slice(0, 3)).toEqual(e.prompt); // prompt never masked
      const w = Array.from(batch.weights.slice(b * T, (b + 1) * T));
      const tgt = Array.from(batch.targets.slice(b * T, (b + 1) * T));
      expect(w.slice(0, 3)).toEqual([0, 0, 0]);
      const { masked } = masking(batch, 3, e, b);
      const k = masked.length;
      expect(k).toBeGreaterThanOrEqual(1);
      ks.push(k);
      e.target.forEach((t, i) => {
        if (tok[3 + i] === MASK) {
          expect(tgt[3 + i]).toBe(t); // same position, not shifted
          expect(w[3 + i]).toBe(Math.fround(1 / (n * k)));
        } else {
          expect(tok[3 + i]).toBe(t);
          expect(w[3 + i]).toBe(0);
        }
      });
    });
    // Stratified: k_b = 1 + ⌊((u + b/n) mod 1)·L⌋, so the n counts are spread L/n apart.
    const sorted = [...ks].sort((a, b) => a - b);
    for (let i = 1; i < n; i++) expect(Math.abs(sorted[i]! - sorted[i - 1]! - L / n)).toBeLessThanOrEqual(1);
  });

  it("mdlm's sampled loss has the expectation of MDLM's continuous-time ELBO (numerical integral over t)", () => {
    // A made-up per-token loss that depends on the position and on which other tokens are masked, as a real
    // model's cross-entropy does.
    const L = 4;
    const t4 = handTask(3, L);
    const e: Example = { prompt: [0, 1, 2], target: [3, 4, 5, 0] };
    const f = (i: number, S: number[]) =>
      1 + i + 0.5 * S.length + (S.includes(i - 1) ? 0.7 : 0) + (S.includes(i + 1) ? 0.3 : 0);
    // MDLM (log-linear schedule): (1/L) ∫₀¹ (1/t) Σ_S t^|S| (1−t)^(L−|S|) Σ_{i∈S} f(i,S) dt, by Simpson's rule. The
    // integrand is a polynomial in t (every |S| ≥ 1 cancels the 1/t), so the rule is exact to rounding.
    const subsets = Array.from({ length: 2 ** L }, (_, m) => [0, 1, 2, 3].filter((i) => m & (1 << i))).filter(
      (S) => S.length > 0,
    );
    const integrand = (t: number) =>
      subsets.reduce(
        (a, S) => a + t ** (S.length - 1) * (1 - t) ** (L - S.length) * S.reduce((s, i) => s + f(i, S), 0),
        0,
      );
    const N = 2000;
    let integral = integrand(0) + integrand(1);
    for (let j = 1; j < N; j++) integral += (j % 2 ? 4 : 2) * integrand(j / N);
    const elbo = integral / (3 * N) / L;
    // Monte Carlo over batches of one example (then k is uniform on 1..L).
    const draws = 40_000;
    const rng = new Rng(11);
    let sum = 0;
    let sumSq = 0;
    for (let d = 0; d < draws; d++) {
      const batch = diffusionBatch(t4, [e], rng, 'mdlm');
      const { masked, weights } = masking(batch, 3, e, 0);
      const x = masked.reduce((a, i, j) => a + weights[j]! * f(i, masked), 0);
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / draws;
    const se = Math.sqrt((sumSq / draws - mean * mean) / draws);
    expect(Math.abs(mean - elbo)).toBeLessThan(4 * se);
    expect(se).toBeLessThan(0.02 * elbo); // the check has the resolution to see a bias of a few percent
  });

  it("mdlm's weights are bounded by 1/n, and each token has expected weight 1/(n·L)", () => {
    const L = 5;
    const t5 = handTask(3, L);
    const e: Example = { prompt: [0, 1, 2], target: [3, 4, 5, 0, 1] };
    const rng = new Rng(1);
    const n = 4;
    const perToken = new Array<number>(L).fill(0);
    const draws = 20_000;
    let maxW = 0;
    for (let d = 0; d < draws; d++) {
      const batch = diffusionBatch(t5, [e, e, e, e], rng, 'mdlm');
      for (let b = 0; b < n; b++) {
        const { masked, weights } = masking(batch, 3, e, b);
        masked.forEach((i, j) => {
          perToken[i]! += weights[j]!;
          maxW = Math.max(maxW, weights[j]!);
        });
      }
    }
    expect(maxW).toBeLessThanOrEqual(Math.fround(1 / n));
    for (const w of perToken) expect(Math.abs(w / draws - 1 / L) / (1 / L)).toBeLessThan(0.03);
  });

  it("hkunlp masks at rate (s+1)/20, weights each masked token α(20−s)/M, M the batch's masked tokens, and asks for its focal γ", () => {
    const L = 40;
    const big = handTask(3, L);
    const examples = Array.from({ length: 8 }, (_, b) => ({
      prompt: [b % 6, 1, 2],
      target: Array.from({ length: L }, (_, i) => (i + b) % 6),
    }));
    const o = makeObjective({ kind: 'diffusion', decodeSteps: 3, variant: 'hkunlp' });
    for (let seed = 0; seed < 20; seed++) {
      const batch = o.makeBatch(big, examples, new Rng(seed));
      expect(batch.loss).toEqual({ exclude: -1, focalGamma: 1 });
      const M = Array.from(batch.tokens).filter((t) => t === MASK).length;
      expect(M).toBeGreaterThan(0);
      examples.forEach((e, b) => {
        const { masked, weights } = masking(batch, 3, e, b);
        if (masked.length === 0) return; // nothing masked at a low rate: this example contributes 0
        // One weight per example, α(20−s)/M with α = 0.25: recover s, and check the masked fraction against rate
        // (s+1)/20.
        for (const w of weights) expect(w).toBe(weights[0]);
        const s = 20 - Math.round((weights[0]! * M) / 0.25);
        expect(weights[0]).toBe(Math.fround((0.25 * (20 - s)) / M));
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(20);
        const rate = (s + 1) / 20;
        expect(Math.abs(masked.length / L - rate)).toBeLessThan(4 * Math.sqrt((rate * (1 - rate)) / L) + 1e-9);
      });
    }
  });

  it('mdlm leaves [MASK] out of the training softmax (SUBS); mlmu and the causal objectives take the whole vocabulary', () => {
    const e = { prompt: [0, 1, 2], target: [3, 4, 5] };
    expect(obj('diffusion').makeBatch(task, [e], new Rng(1)).loss).toEqual({ exclude: MASK, focalGamma: 0 });
    const mlmu = makeObjective({ kind: 'diffusion', decodeSteps: 3, variant: 'mlmu' });
    expect(mlmu.makeBatch(task, [e], new Rng(1)).loss).toBeUndefined();
    for (const kind of ['ntp', 'reverse', 'teacherless'] as const) {
      expect(obj(kind).makeBatch(task, [e], new Rng(1)).loss).toBeUndefined();
    }
  });

  it('pad targets are always masked and carry no weight', () => {
    const o = obj('diffusion');
    for (let seed = 0; seed < 20; seed++) {
      const b = o.makeBatch(task, [padded], new Rng(seed));
      expect(b.tokens[5]).toBe(MASK);
      expect(b.weights[5]).toBe(0);
      expect(b.weights[3]! + b.weights[4]!).toBeGreaterThan(0);
    }
  });

  // Oracle: at a masked target position i it favours the true token with margin 1+i (rightmost most confident)
  // and puts a larger logit still on [MASK], which a decoder must never pick.
  const diffusionOracle = (calls: number[] = []) =>
    oracle(
      1,
      (row, p) => {
        if (p < 3 || row[p] !== MASK) return null;
        return { token: answerOf(row)[p - 3]!, margin: 1 + (p - 3) };
      },
      calls,
    );
  const withMaskLogit =
    (f: ForwardFn): ForwardFn =>
    async (tokens, n, T) => {
      const l = await f(tokens, n, T);
      for (let i = 0; i < n * T; i++) l[i * V + MASK] = 100;
      return l;
    };

  it('decodes by unmasking the most confident positions first', async () => {
    const blind = [ex, ex2].map((e) => ({ prompt: e.prompt, target: [1, 1, 1] }));
    const calls: number[] = [];
    let r = await makeObjective({ kind: 'diffusion', decodeSteps: 3, variant: 'mdlm' }).decode(
      task,
      blind,
      withMaskLogit(diffusionOracle(calls)),
    );
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(r.commitStep).toEqual([
      [2, 1, 0],
      [2, 1, 0],
    ]);
    expect(calls).toEqual([2, 2, 2]);
    // Two steps for three tokens: ceil(3/2) = 2 in the first step, then the last.
    r = await makeObjective({ kind: 'diffusion', decodeSteps: 2, variant: 'mdlm' }).decode(
      task,
      blind,
      diffusionOracle(),
    );
    expect(r.commitStep).toEqual([
      [1, 0, 0],
      [1, 0, 0],
    ]);
    // One step commits everything at once; more steps than tokens stop after L passes.
    r = await makeObjective({ kind: 'diffusion', decodeSteps: 1, variant: 'mdlm' }).decode(
      task,
      blind,
      diffusionOracle(),
    );
    expect(r.commitStep).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    calls.length = 0;
    r = await makeObjective({ kind: 'diffusion', decodeSteps: 10, variant: 'mdlm' }).decode(
      task,
      blind,
      diffusionOracle(calls),
    );
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(calls.length).toBe(3);
  });

  it("hkunlp decodes as HKUNLP's top-k decoder: every pass predicts every position and masks the least confident again", async () => {
    // At a masked position the true token with margin 1+i, except that position 0, with the whole target masked,
    // is confidently wrong (token 0, margin 9). A visible position holding its true token keeps it (margin 10); one
    // holding a wrong token predicts the true one, unsure (margin 0.1), so it scores lowest and is masked again.
    const fwd = (calls: number[]) =>
      oracle(
        1,
        (row, p) => {
          if (p < 3) return null;
          const i = p - 3;
          const truth = answerOf(row)[i]!;
          if (row[p] === MASK) {
            const allMasked = row.slice(3).every((t) => t === MASK);
            return i === 0 && allMasked ? { token: 0, margin: 9 } : { token: truth, margin: 1 + i };
          }
          return row[p] === truth ? { token: truth, margin: 10 } : { token: truth, margin: 0.1 };
        },
        calls,
      );
    const calls: number[] = [];
    // K = 4, L = 3: passes t = 3, 2, 1, 0 mask again ⌊3t/4⌋ = 2, 1, 0, 0 positions. Pass 0 keeps the wrong token at
    // 0; pass 1 masks it again (it scores lowest) and keeps 1 and 2; pass 2 predicts 0 given them, truly.
    const hk = makeObjective({ kind: 'diffusion', decodeSteps: 4, variant: 'hkunlp' });
    const r = await hk.decode(task, [ex, ex2], withMaskLogit(fwd(calls)));
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(r.commitStep).toEqual([
      [2, 1, 1],
      [2, 1, 1],
    ]);
    expect(calls).toEqual([2, 2, 2, 2]);
    // The committing decoder keeps the confidently wrong first token.
    const mdlm = makeObjective({ kind: 'diffusion', decodeSteps: 4, variant: 'mdlm' });
    const kept = await mdlm.decode(task, [ex], fwd([]));
    expect(kept.predictions[0]![0]).toBe(0);
    expect(hk.description).toMatch(/masking the least confident again/);
  });

  it('an adversarial model is decoded as it says, in its order', async () => {
    // Most confident on the leftmost position, always the token `b` (1).
    const fwd = oracle(1, (row, p) => (p >= 3 && row[p] === MASK ? { token: 1, margin: 10 - p } : null));
    const r = await makeObjective({ kind: 'diffusion', decodeSteps: 3, variant: 'mdlm' }).decode(task, [ex], fwd);
    expect(r.predictions).toEqual([[1, 1, 1]]);
    expect(r.commitStep).toEqual([[0, 1, 2]]);
  });

  it('teacher-forced analog reveals the left and masks the rest, one pass per position', async () => {
    const calls: number[] = [];
    const seen: number[][] = [];
    const fwd: ForwardFn = (tokens, n, T) => {
      calls.push(n);
      seen.push(Array.from(tokens.slice(0, T)));
      return diffusionOracle()(tokens, n, T);
    };
    const tf = await obj('diffusion').teacherForced(task, [ex, ex2], withMaskLogit(fwd));
    expect(tf.predictions).toEqual([ex.target, ex2.target]);
    // [MASK]'s huge logit is excluded from the distribution the log-probability is read from: the true token has
    // margin 1+i over the 7 other tokens.
    for (const row of tf.logProbs)
      row.forEach((lp, i) => expect(lp).toBeCloseTo(1 + i - Math.log(Math.exp(1 + i) + 7), 6));
    expect(calls).toEqual([2, 2, 2]);
    expect(seen).toEqual([
      [0, 1, 2, MASK, MASK, MASK],
      [0, 1, 2, 3, MASK, MASK],
      [0, 1, 2, 3, 4, MASK],
    ]);
  });

  it('probes: goal-side reveals the right and single-mask all but i, one pass per position each', async () => {
    const seen: number[][] = [];
    const fwd: ForwardFn = (tokens, n, T) => {
      seen.push(Array.from(tokens.slice(0, T)));
      return diffusionOracle()(tokens, n, T);
    };
    const o = obj('diffusion');
    const tf = await o.teacherForced(task, [ex, ex2], fwd);
    seen.length = 0;
    const p = await o.probes!(task, [ex, ex2], withMaskLogit(fwd), tf);
    expect(p.goalSide).toEqual([ex.target, ex2.target]);
    expect(p.singleMask).toEqual([ex.target, ex2.target]);
    expect(p.heads).toBeUndefined();
    expect(seen).toEqual([
      [0, 1, 2, MASK, 4, 5],
      [0, 1, 2, MASK, MASK, 5],
      [0, 1, 2, MASK, MASK, MASK],
      [0, 1, 2, MASK, 4, 5],
      [0, 1, 2, 3, MASK, 5],
      [0, 1, 2, 3, 4, MASK],
    ]);
  });

  it('probes tell a model that looks up from the goal side from one that cannot', async () => {
    // Knows target[i] only when target[i+1] is revealed (the parent of a given node), or at the ends.
    const fromGoal = oracle(1, (row, p) => {
      if (p < 3 || row[p] !== MASK) return null;
      const i = p - 3;
      const right = i === 2 || row[p + 1] !== MASK;
      return { token: right ? answerOf(row)[i]! : 0, margin: right ? 5 : 1 };
    });
    const o = obj('diffusion');
    const tf = await o.teacherForced(task, [ex], fromGoal);
    const p = await o.probes!(task, [ex], fromGoal, tf);
    expect(tf.predictions).toEqual([[0, 0, 5]]); // left-revealed: only the last
    expect(p.goalSide).toEqual([ex.target]);
    expect(p.singleMask).toEqual([ex.target]);
    // Confidence decoding finds the order: the goal side first, then each parent.
    const d = await makeObjective({ kind: 'diffusion', decodeSteps: 3, variant: 'mlmu' }).decode(task, [ex], fromGoal);
    expect(d.predictions).toEqual([ex.target]);
    expect(d.commitStep).toEqual([[2, 1, 0]]);
  });

  it('mlmu masks the whole sequence, prompt included, at one rate per example, and weights each masked token 1/M', () => {
    const n = 8;
    const L = 30;
    const big = handTask(20, L);
    const examples = Array.from({ length: n }, (_, b) => ({
      prompt: Array.from({ length: 20 }, (_, j) => (j + b) % 6),
      target: Array.from({ length: L }, (_, i) => (i * 5 + b) % 6),
    }));
    const T = 20 + L;
    const rates: number[] = [];
    let promptMasked = 0;
    for (let seed = 0; seed < 50; seed++) {
      const batch = obj('diffusion:mlmu').makeBatch(big, examples, new Rng(seed));
      const M = Array.from(batch.tokens).filter((t) => t === MASK).length;
      examples.forEach((e, b) => {
        const row = [...e.prompt, ...e.target];
        let masked = 0;
        row.forEach((t, j) => {
          const o = b * T + j;
          if (batch.tokens[o] === MASK) {
            masked++;
            if (j < 20) promptMasked++;
            expect(batch.targets[o]).toBe(t);
            expect(batch.weights[o]).toBe(Math.fround(1 / M));
          } else {
            expect(batch.tokens[o]).toBe(t);
            expect(batch.weights[o]).toBe(0);
          }
        });
        rates.push(masked / T);
      });
      const total = Array.from(batch.weights).reduce((a, w) => a + w, 0);
      expect(total).toBeCloseTo(1, 5); // a plain mean over the batch's masked tokens
    }
    expect(promptMasked).toBeGreaterThan(0);
    // Rates stratified over [0,1): their mean is about 1/2, and both ends are reached.
    const mean = rates.reduce((a, r) => a + r, 0) / rates.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(Math.min(...rates)).toBeLessThan(0.1);
    expect(Math.max(...rates)).toBeGreaterThan(0.9);
  });

  it('mlmu keeps pad masked with no weight', () => {
    for (let seed = 0; seed < 20; seed++) {
      const b = obj('diffusion:mlmu').makeBatch(task, [padded], new Rng(seed));
      expect(b.tokens[5]).toBe(MASK);
      expect(b.weights[5]).toBe(0);
      expect(b.weights[0]).toBe(0); // the prompt's own pad
    }
  });
});

describe('probes of causal objectives', () => {
  it('reverse: its teacher forcing is the goal-side probe; ntp and teacherless have none', async () => {
    const rev = obj('reverse');
    const fwd = causalOracle(1, (t) => [...t].reverse());
    const tf = await rev.teacherForced(task, [ex, ex2], fwd);
    const p = await rev.probes!(task, [ex, ex2], fwd, tf);
    expect(p.goalSide).toEqual(tf.predictions);
    expect(p.goalSide).toEqual([ex.target, ex2.target]);
    expect(obj('ntp').probes).toBeUndefined();
    expect(obj('teacherless').probes).toBeUndefined();
  });

  it("mtp: each head's argmax at its own offset, -1 where no position of it predicts target[i]", async () => {
    // Head k at position p says the true token p+1+k (every head right), so each head's probe is the target.
    const fwd = oracle(3, (row, p, head) => {
      const P = 3;
      const i = p - (P - 1) + head;
      if (p < P - 1 || i >= 3) return null;
      return { token: answerOf(row)[i]! };
    });
    const o = obj('mtp:3');
    const tf = await o.teacherForced(task, [ex, ex2], fwd);
    const p = await o.probes!(task, [ex, ex2], fwd, tf);
    expect(p.heads).toEqual([
      [ex.target, ex2.target],
      [
        [-1, 4, 5],
        [-1, 0, 2],
      ],
      [
        [-1, -1, 5],
        [-1, -1, 2],
      ],
    ]);
  });
});

describe('objective specs', () => {
  it('parses names and options', () => {
    expect(parseObjectives('ntp,reverse,teacherless,mtp,diffusion')).toEqual(DEFAULT_OBJECTIVES);
    expect(parseObjectives(' mtp:2 , mtp:gloeckle, diffusion:hkunlp:8, diffusion:4')).toEqual([
      { kind: 'mtp', heads: 2 },
      { kind: 'mtp', heads: 4, layout: 'gloeckle' },
      { kind: 'diffusion', decodeSteps: 8, variant: 'hkunlp' },
      { kind: 'diffusion', decodeSteps: 4, variant: 'mdlm' },
    ]);
    for (const s of DEFAULT_OBJECTIVES) expect(parseObjectives(formatObjective(s))).toEqual([s]);
    expect(parseObjectives('ntp,top')).toEqual([{ kind: 'ntp' }, { kind: 'top' }]);
    expect(formatObjective({ kind: 'top' })).toBe('top');
  });

  it('rejects bad names and options with a message', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ObjectiveSpecError);
        return (e as ObjectiveSpecError).reason;
      }
      throw new Error('expected an ObjectiveSpecError');
    };
    expect(bad(() => parseObjectives('ntp,bert'))).toMatch(/"bert": unknown objective; one of ntp, reverse/);
    expect(bad(() => parseObjectives(''))).toMatch(/empty/);
    expect(bad(() => parseObjectives('mtp:1'))).toMatch(/2 to 17/);
    expect(bad(() => makeObjective({ kind: 'mtp', heads: 1 }))).toMatch(/from 2 to 17/);
    expect(bad(() => parseObjectives('ntp:3'))).toMatch(/no options/);
    expect(bad(() => parseObjectives('top:2'))).toMatch(/no options/);
    expect(bad(() => parseObjectives('diffusion:fast'))).toMatch(/unknown option "fast"/);
    expect(bad(() => makeObjective({ kind: 'mtp', heads: 1.5 }))).toMatch(/whole number/);
    expect(bad(() => parseObjectives('mtp:4:gloeckle:gloeckle'))).toMatch(/mtp:4:gloeckle/);
    expect(bad(() => parseObjectives('mtp:4:5'))).toMatch(/number of heads in all and gloeckle/);
    expect(bad(() => makeObjective({ kind: 'mtp', heads: 17, layout: 'gloeckle' }))).toMatch(/at most 16/);
    expect(bad(() => makeObjective({ kind: 'mtp', heads: 4, layout: 'x' as 'gloeckle' }))).toMatch(/"gloeckle"/);
    expect(bad(() => makeObjective({ kind: 'diffusion', decodeSteps: 4, variant: 'x' as 'mdlm' }))).toMatch(/mdlm/);
  });

  it('every default objective has a name, description and matching head count', () => {
    const objectives: Objective[] = DEFAULT_OBJECTIVES.map((s) => makeObjective(s));
    expect(objectives.map((o) => o.name)).toEqual(['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion']);
    for (const o of objectives) expect(o.description.length).toBeGreaterThan(10);
    expect(objectives.map((o) => o.extraHeads)).toEqual([0, 0, 0, 3, 0]); // mtp: 4 heads, the next-token head included
  });
});
