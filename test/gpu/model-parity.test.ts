// The whole GPU training step against the float64 CPU reference (src/model/reference.ts, itself checked by finite
// differences): loss, logits of every head, every parameter gradient, and the losses of ten AdamW steps — for
// causal and bidirectional attention, with extra multi-token heads and with the token-order head, under each reduction variant (LayerNorm and
// cross-entropy one thread per row, or one workgroup per row with subgroup reductions where the device has them).
import { afterAll, describe, expect, test } from 'vitest';
import { splitKSlices } from '../../src/engine/kernels';
import {
  matmulVariantByName,
  presetMatmulVariant,
  type AdapterIdentity,
  type MatmulVariant,
} from '../../src/engine/matmul-variants';
import { GpuModel } from '../../src/engine/model';
import { hasSubgroups, REDUCTION_VARIANTS, SUBGROUP_ROWS, THREAD_ROWS } from '../../src/engine/reduction-variants';
import { planBuffers, uniformSlots } from '../../src/engine/plan';
import { DEFAULT_TRAIN, learningRate, type ModelConfig, type TrainConfig } from '../../src/model/config';
import { initParams, paramTable } from '../../src/model/params';
import { PLAIN_LOSS, type LossShape } from '../../src/model/batch';
import { refForward, refLossAndGrads, refTrain } from '../../src/model/reference';
import { randomBatch, scaledInitParams } from '../fixtures';
import { compare, stepLosses, TEN_STEPS, testGpu } from './helpers';

// Configs deliberately off the kernels' tiles: T=7 and C=20 are not multiples of the 4×4 register block or of
// the 64-thread workgroups; V=11 is odd.
const CONFIGS: [string, ModelConfig][] = [
  ['causal', { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 20, attention: 'causal', extraHeads: 0 }],
  [
    'bidirectional',
    { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 20, attention: 'bidirectional', extraHeads: 0 },
  ],
  [
    'causal + 2 extra heads',
    { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 16, attention: 'causal', extraHeads: 2 },
  ],
  // The token-order head: a second unembedding on head 0's ln_f output, its ListNet rows in the same loss dispatch.
  [
    'causal + TOP head',
    { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 20, attention: 'causal', extraHeads: 0, topHead: true },
  ],
];

const results: string[] = [];
afterAll(() => console.log(results.join('\n')));

// The adapter's preset matmul kernels (vec4: the bias gradients are summed in the dW products) under each
// reduction variant; and the scalar kernels (reg4x4: no vec4 kernel, so every bias gradient is a dispatch of its
// own), so that both ways of recording a Linear's backward are checked whole.
const UNFUSED = matmulVariantByName('reg4x4');
// And split-K forced: the split variants' kernels with slices of 4 rows instead of 256, so that these 21-row
// batches split every dW product (5 slices: 5, 5, 5, 5 and 1 rows), which no CPU adapter would choose. On the vec4
// tn kernels the bias gradients are split with them (partial sums in the scratch), and the lm_head's odd vocabulary
// (11, padded to 12 rows) splits on them too; on tiled64 every dW product is a split tiled one, its bias gradient
// apart.
const SPLIT: MatmulVariant[] = ['vec4-reg8x8+splitK', 'tiled64+splitK'].map((n) => ({
  ...matmulVariantByName(n),
  name: `${n} (4-row slices)`,
  splitK: { minRows: 4 },
}));
// And every product on the tn kernel (tnOnly): with batches of 4 the 28 rows and the widths 20 and 16 are multiples
// of 4, so each Linear's forward and dinp run over transposed operands, the lm_head's too over its vocabulary padded
// to 12 rows (model/params.ts, lmHeadRows).
const TN = matmulVariantByName('vec4-reg8x8+tn');
// And every dW product on the nn kernel over the output gradient transposed (nnWeightGrads), each bias gradient a
// dispatch of its own: batches of 4 again, so that the 28 rows are a multiple of 4.
const NN_DW = matmulVariantByName('vec4-reg16x16+nndW');
// And each LayerNorm fused into the tiled forward product that reads it (c_attn, c_fc, each head's lm_head), which
// then writes the LayerNorm's output and statistics for the backward.
const LN_FUSED = matmulVariantByName('tiled64+ln');
const CASES = CONFIGS.flatMap(([name, cfg]) => [
  ...REDUCTION_VARIANTS.map((v) => [`${name}, ${v.name}`, cfg, v, null, 3] as const),
  ...[UNFUSED, ...SPLIT, LN_FUSED].map(
    (m) => [`${name}, ${THREAD_ROWS.name}, ${m.name}`, cfg, THREAD_ROWS, m, 3] as const,
  ),
  [`${name}, ${THREAD_ROWS.name}, ${TN.name}, batch 4`, cfg, THREAD_ROWS, TN, 4] as const,
  [`${name}, ${THREAD_ROWS.name}, ${NN_DW.name}, batch 4`, cfg, THREAD_ROWS, NN_DW, 4] as const,
]);

describe.each(CASES)('GPU model vs float64 reference: %s', (name, cfg, reduction, matmulChoice, B) => {
  const matmul = (adapter: AdapterIdentity) => matmulChoice ?? presetMatmulVariant(adapter);
  const T = 7;
  const skipWithoutSubgroups = async (skip: (condition: boolean, note?: string) => void) => {
    const { device } = await testGpu();
    skip(reduction.rows === 'subgroup' && !hasSubgroups(device), "this device lacks the 'subgroups' feature");
  };

  test('loss, logits and every parameter gradient', async ({ skip }) => {
    await skipWithoutSubgroups(skip);
    const { device, adapterInfo, errors } = await testGpu();
    const params = scaledInitParams(cfg, 7);
    const batch = randomBatch(cfg, B, T, 11);
    const model = new GpuModel(device, cfg, { batch: B, seqLen: T, matmul: matmul(adapterInfo), reduction });
    model.setParams(params);
    const loss = await model.lossAndGrads(batch);
    const grads = await model.getGrads();
    const ref = refLossAndGrads(cfg, Float64Array.from(params), batch);
    // float32 accumulation over a few hundred terms: relative error ~1e-6; 1e-4 leaves margin, fails real bugs.
    expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.loss));

    const logits = await model.forward(batch.tokens, B);
    // Logits are O(1-10) here; atol 1e-4 + rtol 1e-4 is ~100 float32 ulps.
    compare(`${name} logits`, logits, ref.logits, 1e-4, 1e-4);

    // Gradients: per tensor, atol scaled by the tensor's largest reference value (small entries are sums of
    // cancelling terms, whose float32 error is relative to the terms, not the result), rtol 3e-4 (observed worst: 6e-5).
    let worst = { name: '', rel: 0 };
    for (const s of paramTable(cfg).specs) {
      const g = grads.subarray(s.offset, s.offset + s.size);
      const r = ref.grads.subarray(s.offset, s.offset + s.size);
      const scale = r.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      const { maxAbs } = compare(`${name} grad ${s.name}`, g, r, 3e-4 * scale + 1e-9, 3e-4);
      const rel = maxAbs / Math.max(scale, 1e-30);
      if (rel > worst.rel) worst = { name: s.name, rel };
    }
    results.push(
      `${name}: largest gradient difference relative to its tensor's largest entry: ${worst.rel.toExponential(2)} (${worst.name})`,
    );
    expect(errors).toEqual([]);
    model.destroy();
  });

  test('ten AdamW steps follow the reference', async ({ skip }) => {
    await skipWithoutSubgroups(skip);
    const { device, adapterInfo, errors } = await testGpu();
    const train = TEN_STEPS;
    const params = initParams(cfg, 3);
    const batches = Array.from({ length: 10 }, (_, i) => randomBatch(cfg, B, T, 100 + (i % 3)));
    const model = new GpuModel(device, cfg, { batch: B, seqLen: T, matmul: matmul(adapterInfo), reduction });
    const got = await stepLosses(model, params, batches, train);
    const want = refTrain(cfg, train, Float64Array.from(params), batches);
    // Ten steps compound float32 rounding through Adam's normalised updates: 1e-4 relative per loss.
    compare(`${name} losses over 10 steps`, got, want, 1e-5, 1e-4);
    expect(got[9]!).toBeLessThan(got[0]!);
    results.push(`${name}: 10-step losses ${got.map((x) => x.toFixed(4)).join(' ')}`);
    expect(errors).toEqual([]);
    // Untouched padding between tensors must stay zero (the optimizer runs over the whole flat buffer).
    const after = await model.getParams();
    const table = paramTable(cfg);
    let padOk = true;
    for (let i = 0, si = 0; i < table.total; i++) {
      while (si < table.specs.length && i >= table.specs[si]!.offset + table.specs[si]!.size) si++;
      const s = table.specs[si];
      if (!(s && i >= s.offset) && after[i] !== 0) padOk = false;
    }
    expect(padOk).toBe(true);
    model.destroy();
  });
});

test('reference forward agrees with refLossAndGrads (sanity of the harness)', () => {
  const cfg = CONFIGS[0]![1];
  const p = Float64Array.from(scaledInitParams(cfg, 1));
  const b = randomBatch(cfg, 2, 5, 2);
  expect(refForward(cfg, p, b).loss).toBeCloseTo(refLossAndGrads(cfg, p, b).loss, 12);
});

test("a batch's loss shape (a token left out of the softmax, the focal γ) reaches the kernel, and a plain batch undoes it", async () => {
  const { device, adapterInfo, errors } = await testGpu();
  const cfg = CONFIGS[0]![1];
  const B = 3;
  const T = 7;
  const params = scaledInitParams(cfg, 9);
  const model = new GpuModel(device, cfg, { batch: B, seqLen: T, matmul: presetMatmulVariant(adapterInfo) });
  model.setParams(params);
  const plain = randomBatch(cfg, B, T, 21);
  const exclude = cfg.vocabSize - 1;
  const targets = plain.targets.map((t) => (t === exclude ? 0 : t));
  const shapes: LossShape[] = [
    { exclude, focalGamma: 0 },
    { exclude: -1, focalGamma: 1 },
    { exclude, focalGamma: 2 },
    PLAIN_LOSS,
  ];
  const losses: number[] = [];
  for (const loss of shapes) {
    const batch = { ...plain, targets, loss };
    const got = await model.lossAndGrads(batch);
    const ref = refLossAndGrads(cfg, Float64Array.from(params), batch);
    expect(Math.abs(got - ref.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.loss));
    const grads = await model.getGrads();
    const scale = ref.grads.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    compare(`grads, loss ${JSON.stringify(loss)}`, grads, ref.grads, 3e-4 * scale, 3e-4);
    losses.push(got);
  }
  expect(new Set(losses.map((l) => l.toFixed(5))).size).toBe(shapes.length); // each shape changes the loss
  const stacked = new GpuModel(device, cfg, {
    batch: B,
    seqLen: T,
    matmul: presetMatmulVariant(adapterInfo),
    reduction: THREAD_ROWS,
    activations: 'f32',
    lanes: 2,
  });
  await expect(
    stacked.lossAndGradsLanes([
      { ...plain, targets, loss: shapes[0] },
      { ...plain, targets, loss: shapes[1] },
    ]),
  ).rejects.toThrow(/share a loss shape/);
  expect(errors).toEqual([]);
  model.destroy();
  stacked.destroy();
});

test('forward calls made at once (an evaluation and the page asking for examples) each get their own logits', async () => {
  const { device, adapterInfo, errors } = await testGpu();
  const cfg = CONFIGS[0]![1];
  const model = new GpuModel(device, cfg, { batch: 3, seqLen: 7, matmul: presetMatmulVariant(adapterInfo) });
  model.setParams(scaledInitParams(cfg, 5));
  const batches = [1, 2, 3, 4].map((s) => randomBatch(cfg, 3, 7, s));
  const alone: Float32Array[] = [];
  for (const b of batches) alone.push(await model.forward(b.tokens, 3));
  const together = await Promise.all(batches.map((b) => model.forward(b.tokens, 3)));
  together.forEach((l, i) => expect(Array.from(l)).toEqual(Array.from(alone[i]!)));
  expect(new Set(alone.map((l) => l[0])).size).toBeGreaterThan(1); // the batches differ, so a mix-up would show
  expect(errors).toEqual([]);
  model.destroy();
});

test("models stepped together in one command buffer (a run's lanes) end exactly where each ends alone", async () => {
  const { device, adapterInfo, errors } = await testGpu();
  // Two different configs (causal, and with extra heads), each with its own batches, as lanes of a run are.
  const lanes = [CONFIGS[0]![1], CONFIGS[2]![1]].map((cfg, i) => ({
    cfg,
    params: scaledInitParams(cfg, 20 + i),
    batches: Array.from({ length: 4 }, (_, s) => randomBatch(cfg, 3, 7, 40 + 10 * i + s)),
  }));
  const train: TrainConfig = { ...DEFAULT_TRAIN, steps: 4, warmupSteps: 1, lr: 3e-3 };
  const build = () =>
    lanes.map(({ cfg, params }) => {
      const m = new GpuModel(device, cfg, { batch: 3, seqLen: 7, matmul: presetMatmulVariant(adapterInfo) });
      m.setParams(params);
      return m;
    });
  const alone = build();
  const aloneLosses: number[][] = [[], []];
  for (const [i, m] of alone.entries())
    for (let s = 0; s < 4; s++)
      aloneLosses[i]!.push((await (await m.step(lanes[i]!.batches[s]!, learningRate(train, s), train)).stats).loss);
  const together = build();
  const pending: Promise<{ loss: number }>[][] = [[], []];
  for (let s = 0; s < 4; s++) {
    const steps = together.map((model, i) => ({
      model,
      batch: lanes[i]!.batches[s]!,
      lr: learningRate(train, s),
      train,
    }));
    (await GpuModel.stepTogether(steps)).forEach((r, i) => pending[i]!.push(r.stats));
  }
  const togetherLosses = await Promise.all(pending.map((p) => Promise.all(p)));
  // The same kernels in the same order on the same inputs: bit for bit, not within a tolerance.
  expect(togetherLosses.map((l) => l.map((x) => x.loss))).toEqual(aloneLosses);
  for (let i = 0; i < 2; i++) {
    expect(Array.from(await together[i]!.getParams())).toEqual(Array.from(await alone[i]!.getParams()));
    expect(together[i]!.steps).toBe(4);
  }
  expect(aloneLosses[0]![0]).not.toBe(aloneLosses[1]![0]); // the lanes differ, so a mix-up would show
  await expect(
    GpuModel.stepTogether([
      { model: together[0]!, batch: lanes[0]!.batches[0]!, lr: 1e-3, train },
      { model: together[0]!, batch: lanes[0]!.batches[1]!, lr: 1e-3, train },
    ]),
  ).rejects.toThrow(/one step per submission/);
  expect(errors).toEqual([]);
  [...alone, ...together].forEach((m) => m.destroy());
});

test('destroy() frees every buffer the model created: the plan, the readback ring and the uniforms', async () => {
  const { device, adapterInfo } = await testGpu();
  const created = new Set<GPUBuffer>();
  const destroyed = new Set<GPUBuffer>();
  const create = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    const b = create(d);
    created.add(b);
    const destroy = b.destroy.bind(b);
    b.destroy = () => (destroyed.add(b), destroy());
    return b;
  };
  try {
    const cfg = CONFIGS[2]![1];
    const model = new GpuModel(device, cfg, { batch: 3, seqLen: 7, matmul: presetMatmulVariant(adapterInfo) });
    model.setParams(scaledInitParams(cfg, 2));
    await model.forward(randomBatch(cfg, 3, 7, 1).tokens, 3);
    model.destroy();
  } finally {
    device.createBuffer = create;
  }
  expect(created.size).toBeGreaterThan(50);
  // Every buffer the model made is in the memory plan (uniforms and readbacks included), so plan.totalBytes counts it.
  const planned = planBuffers(CONFIGS[2]![1], 3, 7).map((b) => b.name);
  expect([...created].map((b) => b.label).sort()).toEqual([...planned].sort());
  // Readbacks of one call (forward's, read()'s) are made and destroyed by the call itself.
  const leaked = [...created].filter((b) => !destroyed.has(b)).map((b) => b.label);
  expect(leaked).toEqual([]);
});

test('the forced split-K cases above do split every dW product', () => {
  for (const m of SPLIT)
    for (const [OC, IC] of [
      [20, 20],
      [11, 20],
      [16, 64],
    ] as const)
      expect(splitKSlices(OC, IC, 3 * 7, m)).toBe(5);
});

test('fusions: a step of 2/64/2 is 49 dispatches on the vec4, scalar and tiled kernels', async () => {
  const { device } = await testGpu();
  const cfg: ModelConfig = {
    vocabSize: 54,
    blockSize: 64,
    nLayer: 2,
    nHead: 2,
    nEmbd: 64,
    attention: 'causal',
    extraHeads: 0,
  };
  const count = (variant: string, B = 4, reduction = THREAD_ROWS) => {
    const model = new GpuModel(device, cfg, { batch: B, seqLen: 64, matmul: matmulVariantByName(variant), reduction });
    const n = model.dispatchesPerStep;
    model.destroy();
    return n;
  };
  // The lm_head's vocabulary of 54 is padded to 56 rows (model/params.ts, lmHeadRows), so that the vec4 variants
  // run every product of the step on vec4 kernels: none on the general one.
  for (const variant of ['vec4-reg8x8', 'vec4-reg16x16', 'vec4-reg8x8+tn', 'vec4-reg16x16+nndW']) {
    const model = new GpuModel(device, cfg, {
      batch: 4,
      seqLen: 64,
      matmul: matmulVariantByName(variant),
      reduction: THREAD_ROWS,
    });
    const matmuls = model.stepKernels.filter((k) => k.startsWith('matmul'));
    model.destroy();
    expect(
      matmuls.filter((k) => !k.startsWith('matmul_vec4')),
      variant,
    ).toEqual([]);
    expect(matmuls.length, variant).toBe(2 * 12 + 3);
  }
  // The plan counts every dispatch a variant may record: per Linear backward dinp, dW (with the bias gradient
  // inside) and dW's split-K reduce (an unsplit dW has none), per head the lm_head's dW reduce; attention's forward
  // is one dispatch per block under every reduction variant and its backward two (dscores, then dq with dk and dv),
  // each LayerNorm's backward one (dinput and dparams together), as is the embedding's (dwte and dwpe), and the
  // loss's and the gradient norm's sums two together (first stage, finalize). 49 dispatches of the unsplit kernels
  // + 9 reduces (4 per block, 1 for the head) = 58, + a tnOnly variant's 12 transposes per block and 3 per head = 85,
  // + an nnWeightGrads variant's 4 per block and 1 per head = 94.
  expect(uniformSlots(cfg, 4, 64)).toBe(94);
  // Every kernel sums the bias gradients inside dW.
  expect(count('reg4x4')).toBe(49);
  expect(count('tiled64')).toBe(49);
  expect(count('vec4-reg8x8')).toBe(49);
  expect(count('vec4-reg16x16')).toBe(49);
  if (hasSubgroups(device)) expect(count('vec4-reg8x8', 4, SUBGROUP_ROWS)).toBe(49);
  // 256 rows: no slice of 256 rows to split off, so the split variants record what their unsplit twins do.
  expect(count('vec4-reg8x8+splitK')).toBe(49);
  expect(count('tiled64+splitK')).toBe(49);
  // 512 rows: every dW product in 2 slices, each with its reduce (9 more); the bias gradients stay fused (as partial
  // sums per slice that the reduce adds up).
  expect(uniformSlots(cfg, 8, 64)).toBe(94);
  expect(count('vec4-reg8x8', 8)).toBe(49);
  expect(count('vec4-reg8x8+splitK', 8)).toBe(58);
  expect(count('tiled64+splitK', 8)).toBe(58);
  // LayerNorm fused into the product that reads it: 5 dispatches fewer (ln_1 and ln_2 of 2 blocks, ln_f).
  expect(count('tiled64+ln')).toBe(49 - 5);
  expect(count('tiled64+splitK+ln', 8)).toBe(58 - 5);
  // tnOnly: 2 transposes before each Linear's forward and 1 before its dinp (12 per block), and 3 for the lm_head,
  // whose vocabulary of 54 is padded to 56 rows (model/params.ts, lmHeadRows).
  expect(count('vec4-reg8x8+tn')).toBe(49 + 2 * 12 + 3);
  expect(count('vec4-reg8x8+tn', 4)).toBe(count('vec4-reg8x8+tn', 8));
  expect(count('vec4-reg16x16+tn')).toBe(49 + 2 * 12 + 3);
  // nnWeightGrads: 1 transpose before each dW product (4 per block, 1 for the lm_head); the nn kernel sums the bias
  // gradient from the transposed rows.
  expect(count('vec4-reg16x16+nndW')).toBe(49 + 2 * 4 + 1);
});
