import { describe, expect, it } from 'vitest';
import type { ForwardFn } from '../src/model/batch';
import { Rng } from '../src/model/rng';
import { maskRates } from '../src/objectives/diffusion';
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

  it('mtp: head k at p targets token p+1+k where it is a target token', () => {
    const o = obj('mtp:2');
    expect(o.extraHeads).toBe(2);
    expect(o.attention).toBe('causal');
    const b = o.makeBatch(task, [ex], new Rng(1));
    expect(Array.from(b.tokens)).toEqual([0, 1, 2, 3, 4]);
    expect(rows(b.targets, 5)).toEqual([
      [-1, -1, 3, 4, 5],
      [-1, 3, 4, 5, -1],
      [3, 4, 5, -1, -1],
    ]);
    const w = Math.fround(1 / 3);
    expect(rows(b.weights, 5)).toEqual([
      [0, 0, w, w, w],
      [0, w, w, w, 0],
      [w, w, w, 0, 0],
    ]);
    // A target that would need a position before the sequence start is left out (head 3 on P = 3: target[0]).
    const b4 = obj('mtp:3').makeBatch(task, [ex], new Rng(1));
    expect(rows(b4.targets, 5)[3]).toEqual([4, 5, -1, -1, -1]);
  });

  it('seqLen and attention', () => {
    for (const name of ['ntp', 'reverse', 'teacherless', 'mtp']) expect(obj(name).seqLen(task)).toBe(5);
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
    expect(await obj('ntp').teacherForcedPredictions(task, examples, causalOracle(1))).toEqual([ex.target, ex2.target]);
  });

  it('reverse generates goal first and un-reverses', async () => {
    const rev = (t: number[]) => [...t].reverse();
    const r = await obj('reverse').decode(task, blind, causalOracle(1, rev));
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    expect(await obj('reverse').teacherForcedPredictions(task, examples, causalOracle(1, rev))).toEqual([
      ex.target,
      ex2.target,
    ]);
    // An ntp-order model decoded as reverse is wrong: the order matters.
    const wrong = await obj('reverse').decode(task, examples, causalOracle(1));
    expect(wrong.predictions).not.toEqual([ex.target, ex2.target]);
  });

  it('mtp decodes with head 0 only', async () => {
    const r = await obj('mtp:2').decode(task, blind, causalOracle(3));
    expect(r.predictions).toEqual([ex.target, ex2.target]);
    await expect(obj('mtp:2').decode(task, blind, causalOracle(1))).rejects.toThrow(/expected H·n·T·V = 3·2·5·9/);
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
    expect(await obj('teacherless').teacherForcedPredictions(task, examples, fwd)).toEqual(r.predictions);
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
    expect(await o.teacherForcedPredictions(task, [ex], fwd)).toEqual([[3, 0, 5]]);
  });
});

describe('diffusion', () => {
  it('masks only target tokens, weights 1/t on masked ones, at least one per example', () => {
    const n = 8;
    const L = 40;
    const big = handTask(3, L);
    const examples = Array.from({ length: n }, (_, b) => ({
      prompt: [b % 6, 1, 2],
      target: Array.from({ length: L }, (_, i) => (i + b) % 6),
    }));
    const o = obj('diffusion');
    const batch = o.makeBatch(big, examples, new Rng(3));
    const T = 3 + L;
    expect([batch.n, batch.T]).toEqual([n, T]);
    const ts: number[] = [];
    examples.forEach((e, b) => {
      const tok = Array.from(batch.tokens.slice(b * T, (b + 1) * T));
      expect(tok.slice(0, 3)).toEqual(e.prompt); // prompt never masked
      const w = Array.from(batch.weights.slice(b * T, (b + 1) * T));
      const tgt = Array.from(batch.targets.slice(b * T, (b + 1) * T));
      expect(w.slice(0, 3)).toEqual([0, 0, 0]);
      const masked = e.target.flatMap((_, i) => (tok[3 + i] === MASK ? [i] : []));
      expect(masked.length).toBeGreaterThan(0);
      const wm = w[3 + masked[0]!]!;
      e.target.forEach((t, i) => {
        if (tok[3 + i] === MASK) {
          expect(tgt[3 + i]).toBe(t); // same position, not shifted
          expect(w[3 + i]).toBe(wm);
        } else {
          expect(tok[3 + i]).toBe(t);
          expect(w[3 + i]).toBe(0);
        }
      });
      const t = 1 / (wm * n * L); // weight = (1/t)/(n·L)
      ts.push(t);
      // The masked fraction follows t (binomial, L = 40: within 4 standard deviations, or the forced one).
      const frac = masked.length / L;
      expect(Math.abs(frac - t)).toBeLessThanOrEqual(4 * Math.sqrt((t * (1 - t)) / L) + 1 / L);
    });
    // Antithetic: the t's are one uniform shifted by b/n.
    const sorted = [...ts].sort((a, b) => a - b);
    for (let i = 1; i < n; i++) expect(sorted[i]! - sorted[i - 1]!).toBeCloseTo(1 / n, 4);
  });

  it('maskRates: stratified for mdlm, (s+1)/20 for hkunlp, t ≥ 1e-3', () => {
    const t = maskRates('mdlm', 4, new Rng(1));
    const u = t[0]!;
    expect(t.map((x) => x)).toEqual([0, 1, 2, 3].map((b) => Math.max(1e-3, (u + b / 4) % 1)));
    const h = maskRates('hkunlp', 40, new Rng(2));
    for (const r of h)
      expect(Number.isInteger(Math.round(r * 20)) && Math.abs(r * 20 - Math.round(r * 20)) < 1e-9).toBe(true);
    expect(new Set(h).size).toBe(20); // 40 stratified draws hit every one of the 20 steps
    expect(Math.min(...h)).toBe(0.05);
    expect(Math.max(...h)).toBe(1);
    for (let seed = 0; seed < 200; seed++)
      for (const r of maskRates('mdlm', 3, new Rng(seed))) expect(r).toBeGreaterThanOrEqual(1e-3);
  });

  it('hkunlp weights masked tokens by 1/rate', () => {
    const o = makeObjective({ kind: 'diffusion', decodeSteps: 3, variant: 'hkunlp' });
    const batch = o.makeBatch(task, [ex, ex2], new Rng(5));
    for (let b = 0; b < 2; b++) {
      const w = Array.from(batch.weights.slice(b * 6 + 3, b * 6 + 6)).filter((x) => x > 0);
      expect(w.length).toBeGreaterThan(0);
      const rate = 1 / (w[0]! * 2 * 3);
      expect(rate * 20).toBeCloseTo(Math.round(rate * 20), 4);
    }
  });

  it('pad targets may be masked but carry no weight', () => {
    const o = obj('diffusion');
    for (let seed = 0; seed < 20; seed++) {
      const b = o.makeBatch(task, [padded], new Rng(seed));
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
    const tf = await obj('diffusion').teacherForcedPredictions(task, [ex, ex2], withMaskLogit(fwd));
    expect(tf).toEqual([ex.target, ex2.target]);
    expect(calls).toEqual([2, 2, 2]);
    expect(seen).toEqual([
      [0, 1, 2, MASK, MASK, MASK],
      [0, 1, 2, 3, MASK, MASK],
      [0, 1, 2, 3, 4, MASK],
    ]);
  });
});

describe('objective specs', () => {
  it('parses names and options', () => {
    expect(parseObjectives('ntp,reverse,teacherless,mtp,diffusion')).toEqual(DEFAULT_OBJECTIVES);
    expect(parseObjectives(' mtp:2 , diffusion:hkunlp:8, diffusion:4')).toEqual([
      { kind: 'mtp', heads: 2 },
      { kind: 'diffusion', decodeSteps: 8, variant: 'hkunlp' },
      { kind: 'diffusion', decodeSteps: 4, variant: 'mdlm' },
    ]);
    for (const s of DEFAULT_OBJECTIVES) expect(parseObjectives(formatObjective(s))).toEqual([s]);
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
    expect(bad(() => parseObjectives('mtp:0'))).toMatch(/1 to 16/);
    expect(bad(() => parseObjectives('ntp:3'))).toMatch(/no options/);
    expect(bad(() => parseObjectives('diffusion:fast'))).toMatch(/unknown option "fast"/);
    expect(bad(() => makeObjective({ kind: 'mtp', heads: 1.5 }))).toMatch(/whole number/);
    expect(bad(() => makeObjective({ kind: 'diffusion', decodeSteps: 4, variant: 'x' as 'mdlm' }))).toMatch(/mdlm/);
  });

  it('every default objective has a name, description and matching head count', () => {
    const objectives: Objective[] = DEFAULT_OBJECTIVES.map((s) => makeObjective(s));
    expect(objectives.map((o) => o.name)).toEqual(['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion']);
    for (const o of objectives) expect(o.description.length).toBeGreaterThan(10);
    expect(objectives.map((o) => o.extraHeads)).toEqual([0, 0, 0, 4, 0]);
  });
});
