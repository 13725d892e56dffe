// The float64 CPU reference is what every GPU kernel is tested against, so it is tested here on its own terms:
// gradients against central finite differences, the loss and the attention mask against known values, the
// optimizer against hand-computed steps, and a short training run against "the loss goes down".
import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/model/batch';
import { DEFAULT_TRAIN, type AttentionMode, type ModelConfig, type TrainConfig } from '../src/model/config';
import { initParams, lmHeadRows, PARAM_ALIGN, paramTable, type ParamTable } from '../src/model/params';
import {
  erf,
  f16Round,
  gelu,
  refAdamState,
  refAdamWStep,
  refForward,
  refForwardFn,
  refGradNorm,
  refLossAndGrads,
  refTrain,
} from '../src/model/reference';
import { Rng } from '../src/model/rng';
import { randomParams64 } from './fixtures';

function tinyConfig(attention: AttentionMode, extraHeads: number, topHead = false): ModelConfig {
  return {
    vocabSize: 7,
    blockSize: 5,
    nLayer: 2,
    nHead: 2,
    nEmbd: 8,
    attention,
    extraHeads,
    ...(topHead && { topHead }),
  };
}

/** Random tokens and targets; about a third of the weights are 0 (target −1 there), the rest in (0, 1). */
function randomBatch(cfg: ModelConfig, n: number, T: number, rng: Rng): Batch {
  const H = 1 + cfg.extraHeads;
  const tokens = Int32Array.from({ length: n * T }, () => rng.int(cfg.vocabSize));
  const weights = Float32Array.from({ length: H * n * T }, () => (rng.next() < 0.33 ? 0 : 0.05 + 0.95 * rng.next()));
  const targets = Int32Array.from(weights, (w) => (w === 0 ? -1 : rng.int(cfg.vocabSize)));
  if (!cfg.topHead) return { n, T, tokens, targets, weights };
  // The token-order head's soft targets: a random distribution per row, some tokens left out (probability 0).
  const V = cfg.vocabSize;
  const topWeights = Float32Array.from({ length: n * T }, () => (rng.next() < 0.33 ? 0 : 0.05 + 0.95 * rng.next()));
  const probs = new Float32Array(n * T * V);
  for (let r = 0; r < n * T; r++) {
    const row = Array.from({ length: V }, (_, v) => (v === 0 || rng.next() < 0.6 ? rng.next() + 0.1 : 0));
    const sum = row.reduce((a, x) => a + x, 0);
    row.forEach((x, v) => (probs[r * V + v] = x / sum));
  }
  return { n, T, tokens, targets, weights, top: { probs, weights: topWeights } };
}

interface TensorReport {
  name: string;
  checked: number;
  /** max |analytic − numeric| / |numeric| over checked elements with |numeric| > 1e-8 */
  maxRel: number;
  maxAbs: number;
  /** max |analytic − numeric| / (1e-6 + 1e-4·|numeric|): the share of the tolerance used; > 1 fails */
  maxTolUsed: number;
  failures: string[];
}

/**
 * Central differences with h = 1e-5 in float64: truncation error is O(h²·f''') ≈ 1e-10 and rounding error
 * ≈ ε·|loss|/h ≈ 1e-10 here, so |analytic − numeric| <= 1e-6 + 1e-4·|numeric| leaves a wide margin for a correct
 * gradient while a missing or wrong term (an O(1) relative error somewhere) fails.
 */
function finiteDifferenceReport(
  cfg: ModelConfig,
  params: Float64Array,
  batch: Batch,
  grads: Float64Array,
): TensorReport[] {
  const table = paramTable(cfg);
  const h = 1e-5;
  const p = Float64Array.from(params);
  return table.specs.map((s) => {
    const report: TensorReport = { name: s.name, checked: s.size, maxRel: 0, maxAbs: 0, maxTolUsed: 0, failures: [] };
    for (let i = 0; i < s.size; i++) {
      const at = s.offset + i;
      const orig = p[at]!;
      p[at] = orig + h;
      const lossPlus = refForward(cfg, p, batch).loss;
      p[at] = orig - h;
      const lossMinus = refForward(cfg, p, batch).loss;
      p[at] = orig;
      const numeric = (lossPlus - lossMinus) / (2 * h);
      const analytic = grads[at]!;
      const diff = Math.abs(analytic - numeric);
      report.maxAbs = Math.max(report.maxAbs, diff);
      if (Math.abs(numeric) > 1e-8) report.maxRel = Math.max(report.maxRel, diff / Math.abs(numeric));
      const tol = 1e-6 + 1e-4 * Math.abs(numeric);
      report.maxTolUsed = Math.max(report.maxTolUsed, diff / tol);
      if (diff > tol) {
        report.failures.push(`[${i}] analytic ${analytic} numeric ${numeric}`);
      }
    }
    return report;
  });
}

function describeReports(reports: TensorReport[]): string {
  return reports
    .map(
      (r) =>
        `${r.name.padEnd(34)} checked ${String(r.checked).padStart(3)}  max rel ${r.maxRel.toExponential(2)}  ` +
        `max abs ${r.maxAbs.toExponential(2)}  diff/tolerance ${r.maxTolUsed.toExponential(2)}` +
        (r.failures.length ? `  FAIL ${r.failures.length}: ${r.failures.slice(0, 3).join('; ')}` : ''),
    )
    .join('\n');
}

describe('gradients match central finite differences', () => {
  const cases: [AttentionMode, number, number, boolean?][] = [
    ['causal', 0, 5], // T = blockSize
    ['bidirectional', 0, 4], // T < blockSize: the unused wpe row must get exactly 0
    ['causal', 2, 4],
    ['bidirectional', 2, 5],
    ['causal', 0, 4, true], // the token-order head: its ListNet loss joins the lm_head's at ln_f
  ];
  for (const [attention, extraHeads, T, topHead] of cases) {
    it(`${attention}, extraHeads ${extraHeads}, T ${T}${topHead ? ', TOP head' : ''}: every tensor`, () => {
      const cfg = tinyConfig(attention, extraHeads, topHead);
      const table = paramTable(cfg);
      const rng = new Rng(1000 + 10 * extraHeads + T + (topHead ? 100 : 0));
      const params = randomParams64(table, rng);
      const batch = randomBatch(cfg, 2, T, rng);
      const { loss, grads } = refLossAndGrads(cfg, params, batch);
      expect(Number.isFinite(loss)).toBe(true);
      const reports = finiteDifferenceReport(cfg, params, batch, grads);
      const failed = reports.filter((r) => r.failures.length > 0);
      if (failed.length > 0) console.error(describeReports(reports));
      expect(failed.map((r) => r.name)).toEqual([]);
      // Every tensor was exercised: each has some element whose gradient is not 0.
      for (const s of table.specs) {
        const g = grads.subarray(s.offset, s.offset + s.size);
        expect(
          g.some((x) => x !== 0),
          `${s.name} has an all-zero gradient`,
        ).toBe(true);
      }
      const worst = reports.reduce((a, r) => (r.maxRel > a.maxRel ? r : a));
      const maxAbs = Math.max(...reports.map((r) => r.maxAbs));
      const tolUsed = Math.max(...reports.map((r) => r.maxTolUsed));
      console.log(
        `${attention} H=${1 + extraHeads} T=${T}: largest relative gradient difference ` +
          `${worst.maxRel.toExponential(2)} (${worst.name}), largest absolute ${maxAbs.toExponential(2)}, ` +
          `largest |diff|/tolerance ${tolUsed.toExponential(2)}`,
      );
    });
  }

  it('the checker itself fails on a gradient that is off by 1e-3 in one element', () => {
    const cfg = tinyConfig('causal', 1);
    const table = paramTable(cfg);
    const rng = new Rng(7);
    const params = randomParams64(table, rng);
    const batch = randomBatch(cfg, 2, 4, rng);
    const { grads } = refLossAndGrads(cfg, params, batch);
    const spec = table.get('transformer.h.1.attn.c_attn.weight');
    grads[spec.offset + 3] += 1e-3;
    const reports = finiteDifferenceReport(cfg, params, batch, grads);
    expect(reports.filter((r) => r.failures.length > 0).map((r) => r.name)).toEqual([spec.name]);
  });

  it('padding between tensors gets no gradient', () => {
    const cfg = tinyConfig('causal', 1);
    const table = paramTable(cfg);
    const rng = new Rng(8);
    const { grads } = refLossAndGrads(cfg, randomParams64(table, rng), randomBatch(cfg, 2, 5, rng));
    const inside = new Uint8Array(table.total);
    for (const s of table.specs) inside.fill(1, s.offset, s.offset + s.size);
    expect(grads.filter((_, i) => !inside[i]).every((g) => g === 0)).toBe(true);
  });
});

it("wte's slot reserves the lm_head's padded rows, zeros after every init, and aligned offsets", () => {
  for (const vocabSize of [13, 15, 16, 54]) {
    const cfg = { ...tinyConfig('causal', 0), vocabSize, nEmbd: 8 };
    const table = paramTable(cfg);
    const wte = table.get('transformer.wte.weight');
    const wpe = table.get('transformer.wpe.weight');
    expect(lmHeadRows(vocabSize) % 4).toBe(0);
    expect(lmHeadRows(vocabSize) - vocabSize).toBeLessThan(4);
    expect(wte.shape).toEqual([vocabSize, 8]);
    expect(wpe.offset).toBeGreaterThanOrEqual(wte.offset + lmHeadRows(vocabSize) * 8);
    expect(table.specs.every((s) => s.offset % PARAM_ALIGN === 0)).toBe(true);
    const p = initParams(cfg, 1, table);
    expect(p.subarray(wte.offset + wte.size, wte.offset + lmHeadRows(vocabSize) * 8).every((x) => x === 0)).toBe(true);
  }
});

describe('known values', () => {
  it('the token-order head: ListNet added to the next-token loss (a zero head: Σ weight · log V)', () => {
    const cfg = tinyConfig('causal', 0, true);
    const plain = tinyConfig('causal', 0);
    const table = paramTable(cfg);
    const rng = new Rng(31);
    const params = randomParams64(table, rng);
    const batch = randomBatch(cfg, 2, 5, rng);
    const top = table.get('top_head.weight');
    // The head is the table's last tensor: a model without it has the same layout up to there.
    expect(table.specs.at(-1)!.name).toBe('top_head.weight');
    expect(top.shape).toEqual([cfg.vocabSize, cfg.nEmbd]);
    expect(top.decay).toBe(true);
    const withoutTop = { ...batch, top: undefined };
    const ntpLoss = refForward(plain, params.slice(0, paramTable(plain).total), withoutTop).loss;
    params.fill(0, top.offset, top.offset + top.size);
    const sumW = batch.top!.weights.reduce((a, w) => a + w, 0);
    expect(refForward(cfg, params, batch).loss).toBeCloseTo(ntpLoss + sumW * Math.log(cfg.vocabSize), 12);
    // And q's weight: with the head's logits ŷ = e_v·s on one token, ListNet = lse(ŷ) − q_v·s.
    const V = cfg.vocabSize;
    const one = Float32Array.from({ length: 2 * 5 * V }, (_, i) => (i % V === 2 ? 1 : 0)); // q = onehot(2)
    const b1 = { ...batch, top: { probs: one, weights: batch.top!.weights } };
    expect(refForward(cfg, params, b1).loss).toBeCloseTo(ntpLoss + sumW * Math.log(V), 12);
    // A logits-only pass (refForwardFn) needs no soft targets; a training batch of a TOP model must carry them.
    expect(() => refForward(cfg, params, withoutTop)).toThrow(/batch.top/);
  });

  it('erf and exact GELU match 40-digit values (mpmath) to 1e-15', () => {
    // [x, erf(x), x·Φ(x)]
    const table: [number, number, number][] = [
      [0.1, 0.1124629160182849, 0.053982783727702904],
      [0.5, 0.5204998778130465, 0.34573123063700656],
      [1.0, 0.8427007929497149, 0.8413447460685429],
      [1.4999, 0.9660932516622953, 1.3996764510156496], // either side of the switch from series to fraction
      [1.5, 0.9661051464753108, 1.399789198096713],
      [2.0, 0.9953222650189527, 1.9544997361036416],
      [3.0, 0.9999779095030014, 2.99595030590511],
      [4.5, 0.9999999998033839, 4.4999847104709385],
      [-0.7, -0.6778011938374184, -0.1693745565561511],
    ];
    for (const [x, erfX, geluX] of table) {
      expect(Math.abs(erf(x) - erfX), `erf(${x})`).toBeLessThanOrEqual(1e-15);
      expect(Math.abs(gelu(x) - geluX), `gelu(${x})`).toBeLessThanOrEqual(1e-15);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-40)).toBe(-1);
  });

  it('matches an independent NumPy transcription of nanoGPT model.py (plus MTP heads) to 1e-12', () => {
    // Golden values from a vectorised NumPy forward written straight from model.py (torch-style split/view/
    // transpose, −inf causal mask, F.layer_norm, exact GELU via math.erf) on these same params and batch. Finite
    // differences only prove the gradients match this file's forward; this proves the forward is nanoGPT's.
    const golden = {
      causal: {
        loss: 14.559010175678019,
        h0s0t4: [
          -0.06209103651965309, -1.4218071092663296, -0.7522197904852338, 0.30628164858187695, 0.5240037062999146,
          0.8665086523508863, -0.35225453651842176,
        ],
        h1s1t2: [
          -0.11193273694462766, -1.3482957229483126, -0.8230040121663891, 0.22354500598535906, -0.3885135510991973,
          0.16924508517246087, 0.2613817063221648,
        ],
      },
      bidirectional: {
        loss: 14.399865637717586,
        h0s0t4: [
          -0.05722737952108681, -1.4023837946482975, -0.751444807249692, 0.3049683282577222, 0.54760324286395,
          0.8680703749597231, -0.39141018880339956,
        ],
        h1s1t2: [
          -0.15252763885237833, -1.2272916753027034, -0.9237242036434584, 0.3250501677622436, -0.5524595504878362,
          0.18001604095613194, 0.27756187495664264,
        ],
      },
    };
    for (const attention of ['causal', 'bidirectional'] as const) {
      const cfg = tinyConfig(attention, 1);
      const rng = new Rng(11);
      const params = randomParams64(paramTable(cfg), rng);
      const batch = randomBatch(cfg, 2, 5, rng);
      const { loss, logits } = refForward(cfg, params, batch);
      const want = golden[attention];
      const V = cfg.vocabSize;
      const row = (h: number, s: number, t: number) =>
        Array.from(logits.subarray(((h * 2 + s) * 5 + t) * V)).slice(0, V);
      expect(Math.abs(loss - want.loss), `${attention} loss ${loss}`).toBeLessThan(1e-12);
      row(0, 0, 4).forEach((z, v) =>
        expect(Math.abs(z - want.h0s0t4[v]!), `${attention} h0 s0 t4 [${v}]`).toBeLessThan(1e-12),
      );
      row(1, 1, 2).forEach((z, v) =>
        expect(Math.abs(z - want.h1s1t2[v]!), `${attention} h1 s1 t2 [${v}]`).toBeLessThan(1e-12),
      );
    }
  });

  it('a nanoGPT-initialised model predicts about uniformly: loss ≈ ln V per head', () => {
    const cfg: ModelConfig = {
      vocabSize: 32,
      blockSize: 16,
      nLayer: 2,
      nHead: 2,
      nEmbd: 32,
      attention: 'causal',
      extraHeads: 1,
    };
    const params = Float64Array.from(initParams(cfg, 1));
    const rng = new Rng(2);
    const n = 4;
    const T = 16;
    const H = 1 + cfg.extraHeads;
    const batch: Batch = {
      n,
      T,
      tokens: Int32Array.from({ length: n * T }, () => rng.int(cfg.vocabSize)),
      targets: Int32Array.from({ length: H * n * T }, () => rng.int(cfg.vocabSize)),
      weights: new Float32Array(H * n * T).fill(1 / (n * T)),
    };
    const { loss } = refForward(cfg, params, batch);
    // Init logits are O(0.02·0.02·C) ≈ 0.01, so each head's mean CE is within a few hundredths of ln V.
    expect(Math.abs(loss / H - Math.log(cfg.vocabSize))).toBeLessThan(0.1);
  });

  it('loss is Σ weight·CE of the returned logits, and all entry points agree', async () => {
    const cfg = tinyConfig('causal', 2);
    const table = paramTable(cfg);
    const rng = new Rng(3);
    const params = randomParams64(table, rng);
    const batch = randomBatch(cfg, 3, 5, rng);
    const fwd = refForward(cfg, params, batch);
    const full = refLossAndGrads(cfg, params, batch);
    expect(full.loss).toBe(fwd.loss);
    expect(full.logits).toEqual(fwd.logits);
    const V = cfg.vocabSize;
    let loss = 0;
    for (let r = 0; r < batch.weights.length; r++) {
      if (batch.weights[r] === 0) continue;
      const row = Array.from(fwd.logits.subarray(r * V, (r + 1) * V));
      const logSumExp = Math.log(row.reduce((a, z) => a + Math.exp(z), 0));
      loss += batch.weights[r]! * (logSumExp - row[batch.targets[r]!]!);
    }
    expect(Math.abs(loss - fwd.loss)).toBeLessThanOrEqual(1e-12 * Math.abs(loss));
    const f32 = await refForwardFn(cfg, params)(batch.tokens, batch.n, batch.T);
    expect(f32).toBeInstanceOf(Float32Array);
    expect(f32).toEqual(Float32Array.from(fwd.logits));
  });

  it('the causal mask hides later tokens; bidirectional attention sees them', () => {
    const H = 2;
    const n = 2;
    const T = 5;
    const V = 7;
    const changed = 2; // position whose token is changed, in sequence 0
    for (const attention of ['causal', 'bidirectional'] as const) {
      const cfg = tinyConfig(attention, H - 1);
      const rng = new Rng(4);
      const params = randomParams64(paramTable(cfg), rng);
      const a = randomBatch(cfg, n, T, rng);
      const b: Batch = { ...a, tokens: Int32Array.from(a.tokens) };
      b.tokens[changed] = (a.tokens[changed]! + 1) % V;
      const la = refForward(cfg, params, a).logits;
      const lb = refForward(cfg, params, b).logits;
      const row = (l: Float64Array, h: number, s: number, t: number) =>
        l.subarray(((h * n + s) * T + t) * V).slice(0, V);
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const same = row(la, h, 0, t).every((z, v) => z === row(lb, h, 0, t)[v]);
          const expectSame = attention === 'causal' && t < changed;
          expect(same, `${attention} head ${h} position ${t}`).toBe(expectSame);
          expect(row(la, h, 1, t)).toEqual(row(lb, h, 1, t)); // other sequences never see it
        }
      }
    }
  });
});

describe('AdamW with gradient clipping', () => {
  // A 2-D tensor W (1×2, decayed) and a 1-D tensor b (not decayed), with padding between them that must not move.
  const table: ParamTable = {
    specs: [
      { name: 'W', shape: [1, 2], size: 2, offset: 0, init: 'normal', decay: true },
      { name: 'b', shape: [1], size: 1, offset: 4, init: 'zeros', decay: false },
    ],
    total: 8,
    get(name) {
      return this.specs.find((s) => s.name === name)!;
    },
  };
  const train: TrainConfig = { ...DEFAULT_TRAIN, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1 };
  const lr = 0.1;
  const PAD = 9;
  const start = () => Float64Array.from([1, -2, PAD, PAD, 0.5, PAD, PAD, PAD]);
  // Gradients: step 1 W=(3,0), b=4 (norm 5, clipped to 1); step 2 W=(0.3,0), b=0.4 (norm 0.5, not clipped).
  const g1 = Float64Array.from([3, 0, 0, 0, 4, 0, 0, 0]);
  const g2 = Float64Array.from([0.3, 0, 0, 0, 0.4, 0, 0, 0]);
  const close = (got: ArrayLike<number>, want: number[]) => {
    want.forEach((w, i) => expect(Math.abs(got[i]! - w), `[${i}] got ${got[i]} want ${w}`).toBeLessThan(1e-13));
  };

  it('matches two hand-computed steps with clipping, decay only on the 2-D tensor', () => {
    // Step 1 by hand: clip c = 1/(5 + 1e-6), g = (0.6c, 0, 0.8c); with t = 1 the bias corrections make
    // mhat = g and vhat = g², so each moving element steps by lr·g/(|g| + eps) ≈ lr. W0 = 1·(1 − lr·wd) − 0.1·(1 − ε′)
    // = 0.89 + 1.67e-9; W1 has no gradient and only decays: −2·0.99 = −1.98; b does not decay: 0.5 − 0.1 + 1.25e-9.
    // Step 2 values are the same formulas in 40-digit arithmetic (mpmath).
    const p = start();
    const state = refAdamState(table);
    expect(refAdamWStep(table, p, g1, state, lr, train).gradNorm).toBe(5);
    expect(state.step).toBe(1);
    close(p, [0.8900000016666669, -1.98, PAD, PAD, 0.40000000125000024, PAD, PAD, PAD]);
    close(state.m, [0.0599999880000024, 0, 0, 0, 0.0799999840000032]);
    close(state.v, [0.01799999280000216, 0, 0, 0, 0.03199998720000384]);
    expect(refAdamWStep(table, p, g2, state, lr, train).gradNorm).toBeCloseTo(0.5, 15);
    expect(state.step).toBe(2);
    close(p, [0.7871706940207592, -1.9602, PAD, PAD, 0.3060706931218556, PAD, PAD, PAD]);
    close(state.m, [0.08399998920000216, 0, 0, 0, 0.11199998560000288]);
    close(state.v, [0.02159999316000205, 0, 0, 0, 0.038399987840003647]);
    expect(Array.from(g1)).toEqual([3, 0, 0, 0, 4, 0, 0, 0]); // the caller's gradients are not clipped in place
  });

  it('gradClip 0 disables clipping', () => {
    const p = start();
    const state = refAdamState(table);
    const noClip = { ...train, gradClip: 0 };
    refAdamWStep(table, p, g1, state, lr, noClip);
    close(p, [0.8900000003333334, -1.98, PAD, PAD, 0.40000000025, PAD, PAD, PAD]);
    refAdamWStep(table, p, g2, state, lr, noClip);
    close(p, [0.8060884595614164, -1.9602, PAD, PAD, 0.32498845939232646, PAD, PAD, PAD]);
    close(state.m, [0.3, 0, 0, 0, 0.4]);
    close(state.v, [0.432, 0, 0, 0, 0.768]);
  });

  it('refGradNorm is the global L2 norm', () => {
    expect(refGradNorm(g1)).toBe(5);
  });
});

describe('training', () => {
  it('30 AdamW steps on one repeating batch bring the loss well down', () => {
    const cfg: ModelConfig = {
      vocabSize: 8,
      blockSize: 8,
      nLayer: 2,
      nHead: 2,
      nEmbd: 16,
      attention: 'causal',
      extraHeads: 1,
    };
    const n = 4;
    const T = 8;
    const H = 1 + cfg.extraHeads;
    // Sequence s counts up from s modulo V; head h predicts the token h + 1 places ahead.
    const tokens = Int32Array.from({ length: n * T }, (_, i) => (Math.floor(i / T) + (i % T)) % cfg.vocabSize);
    const targets = new Int32Array(H * n * T).fill(-1);
    const weights = new Float32Array(H * n * T);
    for (let h = 0; h < H; h++) {
      for (let s = 0; s < n; s++) {
        for (let t = 0; t + h + 1 < T; t++) {
          targets[(h * n + s) * T + t] = tokens[s * T + t + h + 1]!;
          weights[(h * n + s) * T + t] = 1 / (n * (T - h - 1));
        }
      }
    }
    const batch: Batch = { n, T, tokens, targets, weights };
    const train: TrainConfig = { ...DEFAULT_TRAIN, lr: 1e-2, warmupSteps: 3, steps: 30 };
    const params0 = Float64Array.from(initParams(cfg, 5));
    const before = Float64Array.from(params0);
    const losses = refTrain(
      cfg,
      train,
      params0,
      Array.from({ length: 31 }, () => batch),
    );
    expect(losses).toHaveLength(31);
    expect(Math.abs(losses[0]! - H * Math.log(cfg.vocabSize))).toBeLessThan(0.2);
    console.log(`training losses: ${losses[0]!.toFixed(4)} → ${losses[30]!.toFixed(4)} after 30 steps`);
    expect(losses[30]!).toBeLessThan(0.5 * losses[0]!);
    expect(params0).toEqual(before); // refTrain copies its starting point
  });
});

describe('f16Round: the rounding of the reference with half activations', () => {
  it('rounds to the nearest binary16 value, ties to even, through subnormals and overflow', () => {
    expect(f16Round(1)).toBe(1);
    expect(f16Round(1 / 3)).toBe(0.333251953125); // 0x3555
    expect(f16Round(-1 / 3)).toBe(-0.333251953125);
    expect(f16Round(65504)).toBe(65504); // the largest finite
    expect(f16Round(65519)).toBe(65504);
    expect(f16Round(65520)).toBe(Infinity);
    expect(f16Round(-1e6)).toBe(-Infinity);
    expect(f16Round(2 ** -24)).toBe(2 ** -24); // the smallest subnormal
    expect(f16Round(2 ** -26)).toBe(0); // below half of it
    expect(f16Round(3 * 2 ** -26)).toBe(2 ** -24);
    // Ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 and goes to the even 1; 1 + 3·2^-11 to 1 + 2^-9.
    expect(f16Round(1 + 2 ** -11)).toBe(1);
    expect(f16Round(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    // Just below a power of two, where log2 may round up.
    expect(f16Round(2 - 2 ** -30)).toBe(2);
    expect(f16Round(2 - 2 ** -10)).toBe(2 - 2 ** -10);
    expect(f16Round(2 - 2 ** -11)).toBe(2); // a tie: 2 is even
    expect(Number.isNaN(f16Round(NaN))).toBe(true);
    expect(Object.is(f16Round(-0), -0)).toBe(true);
  });
});
