// Stacked lanes (GpuModel with lanes > 1): several models of one shape trained in the same dispatches, each with its
// own parameters, optimizer state and batch. Each lane must train exactly as the same model alone: the same kernels
// run the same sums in the same order for every lane, only at its offsets, so losses, gradients, logits and
// parameters after AdamW steps are compared bit for bit with a one-lane model given that lane's parameters and
// batches. An offset that is wrong anywhere (a lane reading another's weights, writing past its rows) changes bits.
import { describe, expect, test } from 'vitest';
import {
  matmulVariantByName,
  presetMatmulVariant,
  type AdapterIdentity,
  type MatmulVariant,
} from '../../src/engine/matmul-variants';
import type { StorageType } from '../../src/engine/kernels';
import { GpuModel } from '../../src/engine/model';
import { planBuffers, summarizePlan } from '../../src/engine/plan';
import { hasSubgroups, SUBGROUP_ROWS, THREAD_ROWS, type ReductionVariant } from '../../src/engine/reduction-variants';
import { learningRate, type ModelConfig } from '../../src/model/config';
import type { Batch } from '../../src/model/batch';
import { paramTable } from '../../src/model/params';
import { randomBatch, scaledInitParams, TINY_CAUSAL } from '../fixtures';
import { TEN_STEPS, testGpu } from './helpers';

const L = 3;
const T = 7;
const CAUSAL = TINY_CAUSAL;
const HEADS: ModelConfig = { ...CAUSAL, nHead: 4, nEmbd: 16, extraHeads: 2 };
const BIDIRECTIONAL: ModelConfig = { ...CAUSAL, attention: 'bidirectional' };
// The token-order head: each lane's soft targets in its own rows of the loss.
const TOP: ModelConfig = { ...CAUSAL, topHead: true };

// The variants whose recordings differ: the adapter's preset; the scalar kernels; split-K forced (4-row slices, as in
// model-parity.test.ts); every product over transposed operands (tnOnly) and every dW over a transposed output
// gradient (nnWeightGrads), at batch 4 so that the rows are multiples of 4; and LayerNorm fused into the tiled
// product, which stacked lanes record apart (compared with the same kernels unfused).
const split = (n: string): MatmulVariant => ({
  ...matmulVariantByName(n),
  name: `${n} (4-row slices)`,
  splitK: { minRows: 4 },
});
// And the MLP's activations in f16 (where the device has shader-f16) on the products over transposed operands.
const CASES: [string, ModelConfig, MatmulVariant | null, ReductionVariant, number, StorageType][] = [
  ['causal, preset', CAUSAL, null, THREAD_ROWS, 3, 'f32'],
  ['causal, preset, subgroup rows', CAUSAL, null, SUBGROUP_ROWS, 3, 'f32'],
  ['bidirectional, reg4x4', BIDIRECTIONAL, matmulVariantByName('reg4x4'), THREAD_ROWS, 3, 'f32'],
  ['2 extra heads, vec4-reg8x8+splitK', HEADS, split('vec4-reg8x8+splitK'), THREAD_ROWS, 3, 'f32'],
  ['causal, tiled64+splitK', CAUSAL, split('tiled64+splitK'), THREAD_ROWS, 3, 'f32'],
  ['2 extra heads, vec4-reg16x16+tn, batch 4', HEADS, matmulVariantByName('vec4-reg16x16+tn'), THREAD_ROWS, 4, 'f32'],
  ['causal, vec4-reg16x16+nndW, batch 4', CAUSAL, matmulVariantByName('vec4-reg16x16+nndW'), THREAD_ROWS, 4, 'f32'],
  ['causal, tiled64+ln', CAUSAL, matmulVariantByName('tiled64+ln'), THREAD_ROWS, 3, 'f32'],
  ['TOP head, preset', TOP, null, THREAD_ROWS, 3, 'f32'],
  ['TOP head, preset, subgroup rows', TOP, null, SUBGROUP_ROWS, 3, 'f32'],
  ['TOP head, vec4-reg16x16+tn, batch 4', TOP, matmulVariantByName('vec4-reg16x16+tn'), THREAD_ROWS, 4, 'f32'],
  [
    'causal, vec4-reg16x16+tn, batch 4, f16 MLP activations',
    CAUSAL,
    matmulVariantByName('vec4-reg16x16+tn'),
    THREAD_ROWS,
    4,
    'f16',
  ],
];

/** Bits of a float array, for exact comparison (NaN included). */
const bits = (a: Float32Array): Uint32Array =>
  new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
const expectSameBits = (got: Float32Array, want: Float32Array, what: string) => {
  const g = bits(got);
  const w = bits(want);
  const first = g.findIndex((x, i) => x !== w[i]);
  expect(first, `${what}: first differing float at ${first} (${got[first]} vs ${want[first]})`).toBe(-1);
  expect(g.length).toBe(w.length);
};

describe.each(CASES)('stacked lanes train as models alone: %s', (_name, cfg, choice, reduction, B, activations) => {
  test(`${L} lanes: losses, gradients, logits, and parameters after AdamW steps`, async ({ skip }) => {
    const { device, adapterInfo, errors } = await testGpu();
    skip(reduction.rows === 'subgroup' && !hasSubgroups(device), "this device lacks the 'subgroups' feature");
    skip(activations === 'f16' && !device.features.has('shader-f16'), "this device lacks the 'shader-f16' feature");
    const variant = choice ?? presetMatmulVariant(adapterInfo as AdapterIdentity);
    // The one-lane twin: the same kernels, except that a stacked model records a fused LayerNorm apart.
    const alone = variant.fuseLayerNorm ? { ...variant, fuseLayerNorm: undefined } : variant;
    const stacked = new GpuModel(device, cfg, {
      batch: B,
      seqLen: T,
      matmul: variant,
      reduction,
      activations,
      lanes: L,
    });
    const single = new GpuModel(device, cfg, { batch: B, seqLen: T, matmul: alone, reduction, activations });
    try {
      const params = Array.from({ length: L }, (_, l) => scaledInitParams(cfg, 100 + l));
      const batches = (s: number): Batch[] => params.map((_, l) => randomBatch(cfg, B, T, 1000 * s + l));
      stacked.setGradClip(TEN_STEPS.gradClip);
      single.setGradClip(TEN_STEPS.gradClip);
      params.forEach((p, lane) => stacked.setParams(p, { lane }));

      // One forward and backward: each lane's loss and gradients.
      const losses = await stacked.lossAndGradsLanes(batches(0));
      for (let l = 0; l < L; l++) {
        single.setParams(params[l]!);
        expect(losses[l], `lane ${l} loss`).toBe(await single.lossAndGrads(batches(0)[l]!));
        expectSameBits(await stacked.getGrads(l), await single.getGrads(), `lane ${l} gradients`);
      }

      // Four AdamW steps (warm-up, clipping, weight decay): each lane's losses and final parameters and moments.
      const steps = 4;
      const stackedLosses: number[][] = [];
      for (let s = 0; s < steps; s++) {
        const { stats } = await stacked.stepLanes(batches(s + 1), learningRate(TEN_STEPS, s), TEN_STEPS);
        stackedLosses.push((await stats).map((x) => x.loss));
      }
      for (let l = 0; l < L; l++) {
        single.setParams(params[l]!);
        for (let s = 0; s < steps; s++) {
          const { stats } = await single.step(batches(s + 1)[l]!, learningRate(TEN_STEPS, s), TEN_STEPS);
          expect(stackedLosses[s]![l], `lane ${l} step ${s + 1} loss`).toBe((await stats).loss);
        }
        expectSameBits(
          await stacked.getParams(l),
          await single.getParams(),
          `lane ${l} parameters after ${steps} steps`,
        );
        const [m, alone1] = [await stacked.getOptimizerState(l), await single.getOptimizerState()];
        expectSameBits(m.v, alone1.v, `lane ${l} second moments`);
        expect(m.steps).toBe(steps);

        // Evaluation reads one lane: its logits as the model alone gives them.
        const probe = randomBatch(cfg, B, T, 77);
        expectSameBits(
          await stacked.forward(probe.tokens, B, l),
          await single.forward(probe.tokens, B),
          `lane ${l} logits`,
        );
      }
      // Several lanes' logits from one pass, each on its own sequences and count (lane 1 is not asked; its rows run
      // on whatever they hold): each as the model alone gives them.
      const asked = [
        { lane: 2, tokens: randomBatch(cfg, B, T, 78).tokens, n: B },
        { lane: 0, tokens: randomBatch(cfg, 1, T, 79).tokens, n: 1 },
      ];
      const together = await stacked.forwardLanes(asked);
      for (const [i, { lane, tokens, n }] of asked.entries()) {
        single.setParams(await stacked.getParams(lane));
        expectSameBits(together[i]!, await single.forward(tokens, n), `lane ${lane} logits in a pass of two lanes`);
      }
      // The same dispatches as one model alone, each doing every lane's work, and one more: the biases' gradients
      // added into the rest (plan.ts, biasGrads).
      expect(stacked.dispatchesPerStep).toBe(single.dispatchesPerStep + 1);
    } finally {
      stacked.destroy();
      single.destroy();
    }
    expect(errors).toEqual([]);
  });
});

test('a lane whose gradient is not finite skips its update alone; bad lanes and batches are refused', async () => {
  const { device, adapterInfo, errors } = await testGpu();
  const cfg = CAUSAL;
  const B = 3;
  const model = new GpuModel(device, cfg, {
    batch: B,
    seqLen: T,
    matmul: presetMatmulVariant(adapterInfo as AdapterIdentity),
    reduction: THREAD_ROWS,
    activations: 'f32',
    lanes: L,
  });
  try {
    const params = Array.from({ length: L }, (_, l) => scaledInitParams(cfg, 7 + l));
    params[1]![3] = Number.NaN; // lane 1's loss and gradient norm become NaN
    params.forEach((p, lane) => model.setParams(p, { lane }));
    const batches = params.map((_, l) => randomBatch(cfg, B, T, 50 + l));
    const stats = await (await model.stepLanes(batches, 1e-2, TEN_STEPS)).stats;
    expect(stats.map((s) => s.finite)).toEqual([true, false, true]);
    expectSameBits(await model.getParams(1), params[1]!, 'lane 1 kept its weights');
    for (const l of [0, 2]) expect(Array.from(await model.getParams(l))).not.toEqual(Array.from(params[l]!));

    // A frozen lane (one the run stopped) takes no batch and keeps its weights and moments; the others step on.
    model.freezeLane(0);
    const before = [await model.getParams(0), (await model.getOptimizerState(0)).m, await model.getParams(2)];
    const next = await (await model.stepLanes([null, batches[1]!, batches[2]!], 1e-2, TEN_STEPS)).stats;
    expect(next[2]!.finite).toBe(true);
    expectSameBits(await model.getParams(0), before[0]!, 'frozen lane 0 kept its weights');
    expectSameBits((await model.getOptimizerState(0)).m, before[1]!, 'frozen lane 0 kept its moments');
    expect(Array.from(await model.getParams(2))).not.toEqual(Array.from(before[2]!));

    expect(() => model.setParams(params[0]!, { lane: 3 })).toThrow(/lane 3 is not one of this model's 3/);
    await expect(model.stepLanes(batches.slice(0, 2), 1e-2, TEN_STEPS)).rejects.toThrow(
      /takes 3 batch\(es\), one a lane; got 2/,
    );
    await expect(model.lossAndGrads(batches[0]!)).rejects.toThrow(/takes 3 batch/);
    await expect(model.getParams(-1)).rejects.toThrow(/lane -1/);
    const probe = randomBatch(cfg, 1, T, 3).tokens;
    await expect(
      model.forwardLanes([
        { lane: 1, tokens: probe, n: 1 },
        { lane: 1, tokens: probe, n: 1 },
      ]),
    ).rejects.toThrow(/lane 1 asked twice in one pass/);
    await expect(model.forwardLanes([{ lane: 3, tokens: probe, n: 1 }])).rejects.toThrow(/lane 3 is not one of/);
    await expect(model.forwardLanes([{ lane: 0, tokens: probe, n: B + 1 }])).rejects.toThrow(
      /4 sequences, model was planned for at most 3/,
    );
    await expect(model.forwardLanes([{ lane: 0, tokens: probe, n: 2 }])).rejects.toThrow(
      /expected n·T = 14 tokens, got 7/,
    );
  } finally {
    model.destroy();
  }
  expect(
    () =>
      new GpuModel(device, cfg, {
        batch: B,
        seqLen: T,
        matmul: presetMatmulVariant(adapterInfo as AdapterIdentity),
        reduction: THREAD_ROWS,
        activations: 'f32',
        lanes: 0,
      }),
  ).toThrow(/lanes must be/);
  expect(errors).toEqual([]);
});

test('the plan: stacked lanes share activations planned at lanes·B, and own their parameters, state and logits', () => {
  const cfg = CAUSAL;
  const P = paramTable(cfg).total;
  const one = new Map(planBuffers(cfg, 4, T).map((b) => [b.name, b.elements]));
  const wide = new Map(planBuffers(cfg, 4 * L, T).map((b) => [b.name, b.elements]));
  const stacked = new Map(planBuffers(cfg, 4, T, 'f32', L).map((b) => [b.name, b.elements]));
  for (const name of ['params', 'grads', 'adam.m', 'adam.v']) expect(stacked.get(name)).toBe(L * P);
  for (const name of ['logits', 'stats', 'gradPartials', 'transposedWeight', 'statsReadback0'])
    expect(stacked.get(name), name).toBe(L * one.get(name)!);
  expect(stacked.get('decayMask')).toBe(one.get('decayMask'));
  for (const name of ['tokens', 'targets', 'block0.qkv', 'block1.att', 'dres', 'dpreatt', 'head0.lnf'])
    expect(stacked.get(name), name).toBe(wide.get(name));
  expect(summarizePlan(planBuffers(cfg, 4, T, 'f32', L)).parameterBytes).toBe(L * P * 4);
});
