// Each WGSL kernel alone against the float64 reference op (src/model/reference.ts) on random inputs, at several
// shapes including ones that are not multiples of the 64-thread workgroup or of 4. LayerNorm, cross-entropy and
// attention's forward run under every reduction variant: one invocation per row, and one workgroup per row with
// subgroup reductions (on devices with the 'subgroups' feature; skipped, saying so, elsewhere). (Matmul variants and
// their GELU epilogues have their own test in matmul.test.ts; attention is covered here through its forward/backward
// pair, and at more shapes and on its vec4 backward in attention.test.ts.)
import { describe, expect, test } from 'vitest';
import { KernelCache, grid1d, uniformData, type KernelDef } from '../../src/engine/pipelines';
import {
  adamwKernel,
  attentionKernels,
  crossentropyKernel,
  encoderBackwardKernel,
  encoderForwardKernel,
  KERNELS,
  layernormKernels,
  layernormMatmulKernel,
  lnRstdAt,
  matmulDims,
  lnStatsFloats,
  REDUCE_FINALIZE_GRID,
  reduceFinalize,
  reduceKernel,
  reducePartials,
  transposeKernel,
} from '../../src/engine/kernels';
import { isLavapipe, isSwiftShader, MATMUL_VARIANTS, matmulVariantByName } from '../../src/engine/matmul-variants';
import {
  chooseReductionVariant,
  hasSubgroups,
  REDUCTION_VARIANTS,
  THREAD_ROWS,
  type ReductionVariant,
} from '../../src/engine/reduction-variants';
import { REDUCE_CHUNK, STATS_LANE } from '../../src/engine/plan';
import { fieldValues, MATMUL_DIMS, NO_COLUMN } from '../../src/engine/uniforms';
import * as ref from '../../src/model/reference';
import { align, lmHeadRows } from '../../src/model/params';
import { Rng } from '../../src/model/rng';
import { compare, testGpu } from './helpers';

type Data = Float32Array | Int32Array | Uint32Array;

/** Run one kernel: the uniform, then one storage buffer per array; returns every array's contents afterwards. */
async function run(
  def: KernelDef,
  uniform: { u32?: number[]; f32?: number[] },
  bufs: Data[],
  wg: [number, number, number],
): Promise<Float32Array[]> {
  const { device, errors } = await testGpu();
  const cache = new KernelCache(device);
  const data = uniformData(uniform);
  const u = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(u, 0, data);
  const gpuBufs = bufs.map((b) => {
    const g = device.createBuffer({
      size: Math.max(16, b.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(g, 0, b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
    return g;
  });
  const d = cache.dispatch(def, [u, ...gpuBufs], wg);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(...d.workgroups);
  pass.end();
  const staging = gpuBufs.map((g, i) => {
    const s = device.createBuffer({
      size: Math.max(16, bufs[i]!.byteLength),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    enc.copyBufferToBuffer(g, 0, s, 0, Math.max(16, bufs[i]!.byteLength));
    return s;
  });
  device.queue.submit([enc.finish()]);
  const out: Float32Array[] = [];
  for (let i = 0; i < staging.length; i++) {
    await staging[i]!.mapAsync(GPUMapMode.READ);
    out.push(new Float32Array(staging[i]!.getMappedRange().slice(0, bufs[i]!.byteLength)));
    staging[i]!.unmap();
    staging[i]!.destroy();
    gpuBufs[i]!.destroy();
  }
  u.destroy();
  expect(errors).toEqual([]);
  return out;
}

const rand = (rng: Rng, n: number, scale = 1): Float32Array =>
  Float32Array.from({ length: n }, () => scale * rng.normal());
const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);
// float32 arithmetic against a float64 reference over sums of at most a few hundred terms: ~1e-6 relative.
const ATOL = 1e-5;
const RTOL = 1e-4;

describe('encoder', () => {
  // C % 4 == 0 takes the vec4 kernels (encoderForwardKernel, encoderBackwardKernel), C = 6 and 13 the scalar ones.
  test.each([
    [2, 3, 8, 5],
    [3, 7, 20, 11],
    [1, 65, 12, 70],
    [2, 5, 6, 9],
    [3, 4, 13, 7],
  ])('B=%i T=%i C=%i V=%i forward and backward', async (B, T, C, V) => {
    const rng = new Rng(B * 100 + T);
    const tokens = Int32Array.from({ length: B * T }, () => rng.int(V));
    const wte = rand(rng, V * C);
    const wpe = rand(rng, T * C);
    const [encoder, encoderGrid] = encoderForwardKernel(B, T, C);
    expect(encoder.label).toBe(C % 4 === 0 ? 'encoder_forward_vec4' : 'encoder_forward');
    const [, , , out] = await run(
      encoder,
      { u32: [B, T, C, V] },
      [tokens, wte, wpe, new Float32Array(B * T * C)],
      encoderGrid,
    );
    const want = new Float64Array(B * T * C);
    ref.encoderForward(want, tokens, f64(wte), f64(wpe), B, T, C);
    compare('encoder forward', out!, want, ATOL, RTOL);

    const dout = rand(rng, B * T * C);
    const dwte0 = rand(rng, V * C); // backward adds into existing gradients
    const dwpe0 = rand(rng, T * C);
    const bufs = [tokens, dout, dwte0, dwpe0];
    const [enc, grid] = encoderBackwardKernel(T, C, V);
    expect(enc.label).toBe(C % 4 === 0 ? 'encoder_backward_vec4' : 'encoder_backward');
    const [, , dwte, dwpe] = await run(enc, { u32: [B, T, C, V] }, bufs, grid);
    const rwte = f64(dwte0);
    const rwpe = f64(dwpe0);
    ref.encoderBackward(rwte, rwpe, f64(dout), tokens, B, T, C);
    compare('dwte', dwte!, rwte, ATOL, RTOL);
    compare('dwpe', dwpe!, rwpe, ATOL, RTOL);
  });
});

/** Skip (with the reason) a test of the subgroup kernels on a device without the 'subgroups' feature. */
async function skipWithoutSubgroups(v: ReductionVariant, skip: (condition: boolean, note?: string) => void) {
  const { device } = await testGpu();
  skip(v.rows === 'subgroup' && !hasSubgroups(device), "this device lacks the 'subgroups' feature");
}

describe.each(REDUCTION_VARIANTS)('layernorm, $name', (v) => {
  // C = 37 and 20 are not multiples of 4 or of any subgroup size, C = 256 spans four passes of a 64-lane row, and N
  // is no multiple of anything (dparams reduces over the N rows). Under thread-rows, C % 4 == 0 takes the vec4
  // kernels (C = 4: one vec4 per row) and C = 37 the scalar ones. The backward is one dispatch, its column sums in
  // the first workgroups and its rows after them: 70,001 rows of C = 4 take more than 65,535 workgroups, so its
  // grid spills into y (gridRows; grid1d on the vec4 kernel's COLUMN_WG workgroups).
  test.for([
    [1, 4],
    [7, 20],
    [130, 64],
    [67, 128],
    [131, 37],
    [65, 256],
    [70001, 4],
  ])('N=%i C=%i forward and backward', async ([N, C], { skip }) => {
    await skipWithoutSubgroups(v, skip);
    const kernels = layernormKernels(N, C, v);
    if (v.rows === 'thread') expect(kernels.forward[0].label).toMatch(C % 4 === 0 ? /_vec4$/ : /_forward$/);
    const rng = new Rng(N * 7 + C);
    const inp = rand(rng, N * C, 2);
    for (let i = 0; i < inp.length; i++) inp[i] = inp[i]! + 3; // a nonzero mean exercises the centring
    const w = rand(rng, C);
    const b = rand(rng, C);
    const [, , , out, mean, rstd] = await run(
      kernels.forward[0],
      { u32: [N, C] },
      [inp, w, b, new Float32Array(N * C), new Float32Array(N), new Float32Array(N)],
      kernels.forward[1],
    );
    const ro = new Float64Array(N * C);
    const rm = new Float64Array(N);
    const rr = new Float64Array(N);
    ref.layernormForward(ro, rm, rr, f64(inp), f64(w), f64(b), N, C);
    compare('layernorm out', out!, ro, ATOL, RTOL);
    compare('layernorm mean', mean!, rm, ATOL, RTOL);
    compare('layernorm rstd', rstd!, rr, ATOL, RTOL);

    const dout = rand(rng, N * C);
    const dinp0 = rand(rng, N * C);
    const dw0 = rand(rng, C);
    const db0 = rand(rng, C);
    const bufs = [dout, inp, w, mean!, rstd!, dinp0, dw0, db0];
    const [, , , , , dinp, dweight, dbias] = await run(kernels.backward[0], { u32: [N, C] }, bufs, kernels.backward[1]);
    const rdinp = f64(dinp0);
    const rdw = f64(dw0);
    const rdb = f64(db0);
    ref.layernormBackward(rdinp, rdw, rdb, f64(dout), f64(inp), f64(w), f64(mean!), f64(rstd!), N, C);
    compare('layernorm dinp', dinp!, rdinp, ATOL, RTOL);
    compare('layernorm dweight', dweight!, rdw, 1e-4 * Math.max(1, N / 1000), RTOL); // sums over N rows
    compare('layernorm dbias', dbias!, rdb, 1e-4 * Math.max(1, N / 1000), RTOL);
  });
});

describe('LayerNorm fused into the tiled forward product (tiled64+ln)', () => {
  const fusing = matmulVariantByName('tiled64+ln');
  // (M, N, K): one row and one column; sizes off 4, 16 and the 64-row tile; the default model's c_attn (64 → 192),
  // c_fc (64 → 256) and padded lm_head (64 → 56) over rows that end mid-tile; and a width of 4 tiles of k.
  test.each([
    [1, 1, 1],
    [5, 7, 3],
    [65, 36, 20],
    [130, 68, 37],
    [100, 192, 64],
    [131, 256, 64],
    [70, 56, 64],
    [66, 20, 256],
  ])('M=%i N=%i K=%i: the product, ln(x) and its statistics against the float64 reference', async (M, N, K) => {
    const at = { lnBiasAt: align(K), lnRstdAt: lnRstdAt(M) };
    const rng = new Rng(M * 31 + N * 7 + K);
    const x = rand(rng, M * K, 2).map((v) => v + 3); // a nonzero mean exercises the centring
    const w = rand(rng, N * K, 0.5);
    const bias = rand(rng, N);
    const lnW = rand(rng, K);
    const lnB = rand(rng, K);
    const lnParams = new Float32Array(at.lnBiasAt + K);
    lnParams.set(lnW, 0);
    lnParams.set(lnB, at.lnBiasAt);
    // What the LayerNorm computes (float64), then the product over it with each epilogue the model records.
    const ln = new Float64Array(M * K);
    const mean = new Float64Array(M);
    const rstd = new Float64Array(M);
    ref.layernormForward(ln, mean, rstd, f64(x), f64(lnW), f64(lnB), M, K);
    const cases: [string, { bias?: boolean; gelu?: boolean; residual?: boolean }][] = [
      ['c_attn: + bias', { bias: true }],
      ['c_fc: + bias, GELU into aux', { bias: true, gelu: true }],
      ['lm_head: no bias', {}],
      ['+ bias + aux (the residual epilogue)', { bias: true, residual: true }],
    ];
    for (const [name, e] of cases) {
      const kernel = layernormMatmulKernel({ transB: true, ...e }, M, N, K, fusing, at)!;
      expect(kernel.def.label).toBe('matmul_tiled_layernorm');
      const aux0 = rand(rng, M * N);
      // Outputs start at a value no kernel writes, so that an element left unwritten shows.
      const unwritten = (n: number) => new Float32Array(n).fill(1000);
      const [, , , out, aux, , stats, lnOut] = await run(
        kernel.def,
        { u32: fieldValues(MATMUL_DIMS, matmulDims(M, N, K)) },
        [
          x,
          w,
          bias,
          unwritten(M * N),
          e.residual ? aux0 : unwritten(M * N),
          lnParams,
          unwritten(lnStatsFloats(M)),
          unwritten(M * K),
        ],
        kernel.workgroups,
      );
      const want = new Float64Array(M * N);
      ref.matmulForward(want, ln, f64(w), e.bias ? f64(bias) : null, M, K, N);
      if (e.residual) for (let i = 0; i < want.length; i++) want[i] += aux0[i]!;
      const label = `${name}, ${M}×${N}×${K}`;
      // Sums of K products of O(1) values in float32 (the LayerNorm's output is O(1)): within 1e-4 + 1e-4·|ref|.
      compare(`${label}: product`, out!, want, 1e-4, 1e-4);
      if (e.gelu) compare(`${label}: gelu into aux`, aux!, want.map(ref.gelu), 1e-4, 1e-4);
      if (e.residual) continue; // aux was an input
      // Only where the model reads them: the first column of workgroups writes ln(x) and the statistics once.
      compare(`${label}: ln(x)`, lnOut!, ln, ATOL, RTOL);
      compare(`${label}: mean`, stats!.subarray(0, M), mean, ATOL, RTOL);
      compare(`${label}: rstd`, stats!.subarray(at.lnRstdAt, at.lnRstdAt + M), rstd, ATOL, RTOL);
    }
  });

  test('only the fusing variants fuse, only the forward products, only where the tiled kernel computes them', () => {
    const at = { lnBiasAt: 64, lnRstdAt: 128 };
    for (const v of MATMUL_VARIANTS) {
      const fused = layernormMatmulKernel({ transB: true, bias: true }, 128, 192, 64, v, at);
      expect(fused !== null, v.name).toBe(!!v.fuseLayerNorm);
    }
    // A dinp or dW product, or an accumulating one, reads no LayerNorm.
    expect(layernormMatmulKernel({}, 128, 64, 192, fusing, at)).toBeNull();
    expect(layernormMatmulKernel({ transA: true, accumulate: true }, 192, 64, 128, fusing, at)).toBeNull();
    expect(layernormMatmulKernel({ transB: true, accumulate: true }, 128, 192, 64, fusing, at)).toBeNull();
    // Layouts where the bias or the rstd would overlap the weight or the mean are refused.
    expect(() =>
      layernormMatmulKernel({ transB: true }, 128, 192, 64, fusing, { lnBiasAt: 32, lnRstdAt: 128 }),
    ).toThrow(/overlap/);
    expect(() =>
      layernormMatmulKernel({ transB: true }, 128, 192, 64, fusing, { lnBiasAt: 64, lnRstdAt: 100 }),
    ).toThrow(/overlap/);
  });
});

describe('residual accumulate', () => {
  test.each([1, 63, 64, 65, 1000])('N=%i', async (N) => {
    const rng = new Rng(N);
    const a = rand(rng, N);
    const acc0 = rand(rng, N);
    const [, , acc] = await run(KERNELS.residualAccumulate, { u32: [N] }, [a, a, acc0], grid1d(N));
    const rAcc = f64(acc0);
    const unused = new Float64Array(N);
    ref.residualBackward(rAcc, unused, f64(a), N);
    compare('residual backward (accumulate)', acc!, rAcc, ATOL, RTOL);
  });
});

describe.each(REDUCTION_VARIANTS)('attention, $name', (v) => {
  // The forward is attentionKernels' single fused dispatch under v (vec4 for hs = 4 on thread rows); the backward
  // is the scalar pair, whatever the shape.
  test.for([
    [2, 5, 8, 2, true],
    [2, 5, 8, 2, false],
    [1, 9, 20, 2, true],
    [3, 17, 16, 4, false],
    [2, 64, 64, 2, true],
  ] as const)('B=%i T=%i C=%i NH=%i causal=%s forward and backward', async ([B, T, C, NH, causal], { skip }) => {
    await skipWithoutSubgroups(v, skip);
    const rng = new Rng(B + T * 3 + C);
    const qkv = rand(rng, B * T * 3 * C);
    const u = { u32: [B, T, C, NH, causal ? 1 : 0], f32: [1 / Math.sqrt(C / NH)] };
    // Garbage in the outputs, so that an element the kernel forgets to write shows up.
    const att0 = new Float32Array(B * NH * T * T).fill(777);
    const out0 = new Float32Array(B * T * C).fill(777);
    const forward = attentionKernels(B, T, C, NH, v).forward;
    expect(forward.length).toBe(1);
    const [def, wg] = forward[0]!;
    const [, att, out] = await run(def, u, [qkv, att0, out0], wg);
    const rout = new Float64Array(B * T * C);
    const ratt = new Float64Array(B * NH * T * T);
    ref.attentionForward(rout, ratt, f64(qkv), B, T, C, NH, causal);
    compare('attention probabilities', att!, ratt, 1e-6, RTOL);
    compare('attention output', out!, rout, ATOL, RTOL);

    const dout = rand(rng, B * T * C);
    const bufs = [qkv, att!, dout, new Float32Array(B * NH * T * T), new Float32Array(B * T * 3 * C)];
    const [, , , dpre] = await run(KERNELS.attentionDscores, u, bufs, grid1d(B * NH * T));
    const [, , , , dqkv] = await run(KERNELS.attentionDqkv, u, [qkv, att!, dout, dpre!, bufs[4]!], grid1d(B * T * C));
    const rdqkv = new Float64Array(B * T * 3 * C);
    ref.attentionBackward(rdqkv, f64(dout), f64(qkv), ratt, B, T, C, NH);
    compare('attention dqkv', dqkv!, rdqkv, 1e-4, RTOL);
  });
});

describe.each(REDUCTION_VARIANTS)('cross-entropy, $name', (v) => {
  // V = 37 and 11 are odd, 64 one pass of a 64-lane row, 130 three passes with a ragged end. Rows are Vp =
  // lmHeadRows(V) wide, as the model's padded lm_head writes them; the pad columns start random and must come back 0.
  // Then a token the softmax leaves out (−1: none; MDLM's SUBS), the focal γ (0: plain; HKUNLP's reweighting), and the
  // soft head (−1: none; the token-order head's ListNet rows), against the reference's f64 losses and gradients.
  test.for([
    [1, 1, 3, 2, -1, 0, -1],
    [2, 7, 11, 1, -1, 0, -1],
    [3, 40, 37, 2, -1, 0, -1],
    [2, 33, 64, 3, -1, 0, -1],
    [1, 67, 130, 0, -1, 0, -1],
    [2, 7, 11, 1, 4, 0, -1],
    [3, 40, 37, 2, -1, 1, -1],
    [2, 33, 64, 3, 63, 2, -1],
    [1, 67, 130, 0, 0, 1, -1],
    // The token-order head's soft rows (ListNet against q): lanes of two heads, the second soft.
    [2, 7, 11, 1, -1, 0, 1],
    [4, 33, 64, 3, -1, 0, 1],
    [4, 67, 130, 0, -1, 0, 1],
  ])(
    'H=%i BT=%i V=%i stride pad %i exclude %i γ %i soft head %i: loss and dlogits',
    async ([H, BT, V, pad, exclude, gamma, softHead], { skip }) => {
      await skipWithoutSubgroups(v, skip);
      const rng = new Rng(BT * V);
      const Vp = lmHeadRows(V);
      const stride = BT * Vp + pad;
      const logits = rand(rng, H * stride, 3);
      // Targets never the excluded token; a row or two of near-certain predictions, where the focal slope is ~2ℓ.
      const targets = Int32Array.from({ length: H * BT }, (_, i) =>
        i % 5 === 4 ? -1 : (exclude + 1 + rng.int(V - 1)) % V,
      );
      for (let r = 1; r < H * BT; r += 9) {
        const base = Math.floor(r / BT) * stride + (r % BT) * Vp;
        if (targets[r]! >= 0) logits[base + targets[r]!] = 30;
      }
      const weights = Float32Array.from({ length: H * BT }, (_, i) => (i % 3 === 2 ? 0 : 0.1 + rng.next()));
      // Soft targets (lanes·BT, V): a distribution per row, about half the tokens left out.
      const laneHeads = softHead! < 0 ? 1 : 2;
      const soft = new Float32Array((H / laneHeads) * BT * V);
      for (let r = 0; r < soft.length / V; r++) {
        const row = Array.from({ length: V }, (_, t) => (t === r % V || rng.next() < 0.5 ? rng.next() + 0.01 : 0));
        const sum = row.reduce((a, x) => a + x, 0);
        row.forEach((x, t) => (soft[r * V + t] = x / sum));
      }
      const isSoft = (r: number) => softHead! >= 0 && Math.floor(r / BT) % laneHeads === softHead;
      const softAt = (r: number) => (Math.floor(Math.floor(r / BT) / laneHeads) * BT + (r % BT)) * V;
      const [def, wg] = crossentropyKernel(H * BT, v);
      const [dlogits, , , losses] = await run(
        def,
        {
          u32: [
            BT,
            V,
            Vp,
            H,
            stride,
            exclude < 0 ? NO_COLUMN : exclude,
            laneHeads,
            softHead! < 0 ? NO_COLUMN : softHead!,
          ],
          f32: [gamma],
        },
        [logits, targets, weights, new Float32Array(H * BT), soft],
        wg,
      );
      const rl = new Float64Array(H * BT);
      // What the kernel must leave: the rows' dlogits (pad columns 0), and the stride's tail as it was.
      const rd = Float64Array.from(logits);
      const shape = { exclude, focalGamma: gamma };
      for (let r = 0; r < H * BT; r++) {
        const base = Math.floor(r / BT) * stride + (r % BT) * Vp;
        rd.fill(0, base, base + Vp);
        const t = targets[r]!;
        const row = Float64Array.from(logits.subarray(base, base + V));
        if (isSoft(r)) {
          // A soft row reads no target: its weight stands even where the target is −1.
          const q = soft.subarray(softAt(r), softAt(r) + V);
          const [sw, sp, sd] = [Float32Array.of(weights[r]!), new Float64Array(V), new Float64Array(V)];
          rl[r] = ref.listnetForward(sp, row, q, sw, 1, V);
          ref.listnetBackward(sd, sp, q, sw, 1, V);
          rd.set(sd, base);
          continue;
        }
        const w = Float32Array.of(t < 0 ? 0 : weights[r]!);
        const probs = new Float64Array(V);
        const slope = new Float64Array(1);
        rl[r] = ref.crossentropyForward(probs, slope, row, Int32Array.of(t), w, 1, V, shape);
        const d = new Float64Array(V);
        ref.crossentropyBackward(d, probs, slope, Int32Array.of(t), w, 1, V);
        rd.set(d, base);
      }
      compare('cross-entropy losses', losses!, rl, ATOL, RTOL);
      compare('cross-entropy dlogits', dlogits!, rd, 1e-6, RTOL);
      const padColumns = dlogits!.filter((_, i) => i % stride < BT * Vp && (i % stride) % Vp >= V);
      expect(padColumns.every((x) => x === 0)).toBe(true);
      if (exclude >= 0) {
        const excluded = dlogits!.filter((_, i) => i % stride < BT * Vp && (i % stride) % Vp === exclude);
        expect(excluded.every((x) => x === 0)).toBe(true);
      }
    },
  );
});

test('the reduction variant: one thread per row without subgroups and on SwiftShader and lavapipe, else timed or the cached name taken', async () => {
  const { device, adapterInfo } = await testGpu();
  const probe = { rows: 100, width: 40, vocab: 11, repeats: 1 };
  const own = await chooseReductionVariant(device, adapterInfo, { probe });
  if (!hasSubgroups(device)) {
    expect([own.variant, own.source]).toEqual([THREAD_ROWS, 'unavailable']);
    return;
  }
  if (isSwiftShader(adapterInfo) || isLavapipe(adapterInfo))
    expect([own.variant, own.source]).toEqual([THREAD_ROWS, 'known']);
  // SwiftShader runs the subgroup kernels 5–50× slower than the others: its known choice is all this test times there.
  if (isSwiftShader(adapterInfo)) return;
  // The timing path on this device, under an adapter identity the code does not know on lavapipe; a GPU's own.
  const adapter = isLavapipe(adapterInfo)
    ? { vendor: 'test-vendor', architecture: 'software', description: 'an unknown CPU adapter' }
    : adapterInfo;
  const first = await chooseReductionVariant(device, adapter, { probe });
  expect(first.source).toBe('timed');
  expect(first.timings.map((t) => t.variant)).toEqual(REDUCTION_VARIANTS.map((v) => v.name));
  const second = await chooseReductionVariant(device, adapter, { cached: first.variant.name, probe });
  expect([second.variant, second.source]).toEqual([first.variant, 'cached']);
  // A name from an older generation of kernels is timed again.
  expect((await chooseReductionVariant(device, adapter, { cached: 'no-such-variant', probe })).source).toBe('timed');
});

describe.each(REDUCTION_VARIANTS)('the loss and gradient-norm sums, first stage as under $name', (v) => {
  // thread-rows: one invocation per chunk, in order (partial_serial); subgroup-rows: a workgroup tree (partial).
  // Neither needs subgroups. Both sums run in each dispatch: sum 0 (the loss) over n0 values, sum 1 (the gradient
  // norm) over n1. 1 and 4097 leave a tail that is no multiple of 4; a sum of 0 values is 0; 36,865 values are 10
  // chunks, so under thread-rows sum 1's invocations start after a partly used workgroup.
  test.each([
    [1, 255],
    [4097, 20000],
    [20000, 1],
    [0, 300],
    [300, 0],
    [36865, 4097],
  ])('a sum of %i values and a norm of %i', async (n0, n1) => {
    const rng = new Rng(7 * n0 + n1);
    const x0 = rand(rng, n0);
    const x1 = rand(rng, n1);
    // Partials start at a value no chunk sums to, so that one left unwritten shows.
    const partials = (n: number) => new Float32Array(Math.max(1, Math.ceil(n / REDUCE_CHUNK))).fill(1000);
    const dims = { u32: [n0, n1, REDUCE_CHUNK, 0, 4], f32: [0.5] };
    const [partial, grid] = reducePartials(n0, n1, v);
    expect(partial.entryPoint).toBe(v.rows === 'thread' ? 'partial_serial' : 'partial');
    const p1 = await run(partial, dims, [x0, x1, partials(n0), partials(n1), new Float32Array(16)], grid);
    const p2 = await run(reduceKernel('finalize'), dims, [x0, x1, p1[2]!, p1[3]!, p1[4]!], REDUCE_FINALIZE_GRID);
    const stats = p2[4]!;
    const sum = Array.from(x0).reduce((a, x) => a + x, 0);
    expect(Math.abs(stats[0]! - sum)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.sqrt(n0)));
    const norm = Math.sqrt(Array.from(x1).reduce((a, x) => a + x * x, 0));
    expect(Math.abs(stats[4]! - norm)).toBeLessThanOrEqual(1e-5 * norm);
    // torch.nn.utils.clip_grad_norm_: scale = min(1, clip / (norm + 1e-6))
    expect(stats[5]!).toBeCloseTo(Math.min(1, 0.5 / (norm + 1e-6)), 6);
    expect(stats[6]).toBe(1);
    // The slots between the two results are left as they were.
    expect([stats[1], stats[2], stats[3]]).toEqual([0, 0, 0]);
  });
});

describe('reductions and AdamW', () => {
  test.each(REDUCTION_VARIANTS)('a non-finite gradient norm is flagged ($name)', async (v) => {
    const x1 = Float32Array.from([1, 2, Infinity, 3]);
    const x0 = Float32Array.from([1, 2]);
    const dims = { u32: [2, 4, REDUCE_CHUNK, 0, 4], f32: [1] };
    const bufs = [x0, x1, new Float32Array(1), new Float32Array(1), new Float32Array(16)];
    const [partial, grid] = reducePartials(2, 4, v);
    const p1 = await run(partial, dims, bufs, grid);
    const p2 = await run(reduceKernel('finalize'), dims, [x0, x1, p1[2]!, p1[3]!, p1[4]!], REDUCE_FINALIZE_GRID);
    expect(p2[4]![6]).toBe(0);
    expect(p2[4]![0]).toBe(3);
  });

  // 4 parameters per thread (the table's P is a multiple of 4): 18 threads, one partial workgroup and a partial mask
  // word; 250 threads over 4 workgroups.
  test.each([72, 1000])(
    'AdamW step against the formula over N=%i, with decay mask, clip scale and skip on non-finite',
    async (N) => {
      const rng = new Rng(3);
      const p = rand(rng, N);
      const g = rand(rng, N);
      const m = rand(rng, N, 0.1);
      const v = Float32Array.from({ length: N }, () => rng.next() * 0.01);
      const mask = new Uint32Array(Math.ceil(N / 32));
      for (let i = 0; i < N; i += 3) mask[i >>> 5]! |= 1 << (i & 31);
      const [lr, b1, b2, eps, wd, t] = [0.01, 0.9, 0.95, 1e-8, 0.1, 3];
      const stats = new Float32Array(16);
      stats.set([2.5, 0.4, 1], 4); // norm, clip scale, finite
      const u = { u32: [N, 4], f32: [lr, b1, b2, eps, wd, 1 - b1 ** t, 1 - b2 ** t] };
      const [np, , nm, nv] = await run(KERNELS.adamw, u, [p, g, m, v, mask, stats], grid1d(N / 4));
      const want = Float64Array.from(p);
      const wm = new Float64Array(N);
      const wv = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        const gi = g[i]! * 0.4;
        if (i % 3 === 0) want[i]! -= lr * wd * want[i]!;
        wm[i] = b1 * m[i]! + (1 - b1) * gi;
        wv[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        want[i]! -= (lr * (wm[i]! / (1 - b1 ** t))) / (Math.sqrt(wv[i]! / (1 - b2 ** t)) + eps);
      }
      compare('adamw params', np!, want, 1e-6, 1e-5);
      compare('adamw m', nm!, wm, 1e-7, 1e-5);
      compare('adamw v', nv!, wv, 1e-9, 1e-5);
      stats[6] = 0;
      const [sp] = await run(KERNELS.adamw, u, [p, g, m, v, mask, stats], grid1d(N / 4));
      expect(Array.from(sp!)).toEqual(Array.from(p));
    },
  );
});

test('the kernel cache keys pipelines by source: two kernels with one label stay two', async () => {
  const { device, errors } = await testGpu();
  const cache = new KernelCache(device);
  const src = (k: number) =>
    `@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = ${k}.0; }`;
  const a: KernelDef = { label: 'same', code: src(1), entryPoint: 'main', bindings: ['rw'] };
  const b: KernelDef = { ...a, code: src(2) };
  expect(cache.get(a).pipeline).not.toBe(cache.get(b).pipeline);
  expect(cache.get({ ...a }).pipeline).toBe(cache.get(a).pipeline); // the same source is compiled once
  // One source, two values of an override (as the matmul flags and WG are set): two pipelines.
  const o: KernelDef = {
    label: 'same',
    code: `override V: f32;\n${src(0).replace('0.0', 'V')}`,
    entryPoint: 'main',
    bindings: ['rw'],
    constants: { V: 1 },
  };
  expect(cache.get(o).pipeline).not.toBe(cache.get({ ...o, constants: { V: 2 } }).pipeline);
  expect(errors).toEqual([]);
});

// ---- stacked lanes: several models of one shape in the same dispatches (kernels.ts RowLanes) ------------------
// Each kernel over 3 lanes, each lane with its own rows, parameters and gradients (P floats apart, with a gap after
// each lane's values that nothing may write), against the one-lane reference run on each lane alone.
describe('stacked lanes', () => {
  const L = 3;
  /** L lanes of `n` floats each, P apart; the gap holds `gap`. */
  const lanesOf = (parts: Float32Array[], P: number, gap = 1000) => {
    const out = new Float32Array(L * P).fill(gap);
    parts.forEach((p, l) => out.set(p, l * P));
    return out;
  };
  const laneSlice = (a: Float32Array, l: number, P: number, n: number) => a.subarray(l * P, l * P + n);
  /** Every float of `a` outside the lanes' first n values still holds `gap`. */
  const gapsKept = (a: Float32Array, P: number, n: number, gap = 1000) => a.every((x, i) => i % P < n || x === gap);

  test.each([
    [2, 3, 8, 5],
    [3, 5, 6, 9],
  ])('encoder forward and backward, B=%i T=%i C=%i V=%i a lane', async (B, T, C, V) => {
    const rng = new Rng(B * 31 + C);
    const P = V * C + T * C + 8; // one lane's table, with room the kernels must not touch
    const lane = { lanes: L, rows: B * T, params: P, stats: 0 };
    const tokens = Array.from({ length: L }, () => Int32Array.from({ length: B * T }, () => rng.int(V)));
    const wte = Array.from({ length: L }, () => rand(rng, V * C));
    const wpe = Array.from({ length: L }, () => rand(rng, T * C));
    const allTokens = new Int32Array(L * B * T);
    tokens.forEach((t, l) => allTokens.set(t, l * B * T));
    const [fwd, fwdGrid] = encoderForwardKernel(L * B, T, C, lane);
    const [, , , out] = await run(
      fwd,
      { u32: [L * B, T, C, V] },
      [allTokens, lanesOf(wte, P), lanesOf(wpe, P), new Float32Array(L * B * T * C)],
      fwdGrid,
    );
    const dout = Array.from({ length: L }, () => rand(rng, B * T * C));
    const dwte0 = Array.from({ length: L }, () => rand(rng, V * C));
    const dwpe0 = Array.from({ length: L }, () => rand(rng, T * C));
    const allDout = new Float32Array(L * B * T * C);
    dout.forEach((d, l) => allDout.set(d, l * B * T * C));
    const [bwd, bwdGrid] = encoderBackwardKernel(T, C, V, lane);
    const [, , dwte, dwpe] = await run(
      bwd,
      { u32: [L * B, T, C, V] },
      [allTokens, allDout, lanesOf(dwte0, P), lanesOf(dwpe0, P)],
      bwdGrid,
    );
    for (let l = 0; l < L; l++) {
      const want = new Float64Array(B * T * C);
      ref.encoderForward(want, tokens[l]!, f64(wte[l]!), f64(wpe[l]!), B, T, C);
      compare(`lane ${l} encoder forward`, out!.subarray(l * B * T * C, (l + 1) * B * T * C), want, ATOL, RTOL);
      const rwte = f64(dwte0[l]!);
      const rwpe = f64(dwpe0[l]!);
      ref.encoderBackward(rwte, rwpe, f64(dout[l]!), tokens[l]!, B, T, C);
      compare(`lane ${l} dwte`, laneSlice(dwte!, l, P, V * C), rwte, ATOL, RTOL);
      compare(`lane ${l} dwpe`, laneSlice(dwpe!, l, P, T * C), rwpe, ATOL, RTOL);
    }
    expect(gapsKept(dwte!, P, V * C) && gapsKept(dwpe!, P, T * C)).toBe(true);
  });

  describe.each(REDUCTION_VARIANTS)('layernorm, $name', (v) => {
    // C = 8 (vec4 under thread-rows), 37 (scalar); rows a lane no multiple of anything.
    test.for([
      [5, 8],
      [7, 37],
      [130, 64],
    ])('%i rows a lane, C=%i: forward and backward', async ([rows, C], { skip }) => {
      await skipWithoutSubgroups(v, skip);
      const rng = new Rng(rows * 13 + C);
      const N = L * rows;
      const P = align(2 * C + 12, 4); // a table of a multiple of 4 floats, as every parameter table is
      const lane = { lanes: L, rows, params: P, stats: 0 };
      const kernels = layernormKernels(N, C, v, lane);
      const inp = rand(rng, N * C, 2).map((x) => x + 3);
      const w = Array.from({ length: L }, () => rand(rng, C));
      const b = Array.from({ length: L }, () => rand(rng, C));
      const [, , , out, mean, rstd] = await run(
        kernels.forward[0],
        { u32: [N, C] },
        [inp, lanesOf(w, P), lanesOf(b, P), new Float32Array(N * C), new Float32Array(N), new Float32Array(N)],
        kernels.forward[1],
      );
      const dout = rand(rng, N * C);
      const dinp0 = rand(rng, N * C);
      const dw0 = Array.from({ length: L }, () => rand(rng, C));
      const db0 = Array.from({ length: L }, () => rand(rng, C));
      const bufs = [dout, inp, lanesOf(w, P), mean!, rstd!, dinp0, lanesOf(dw0, P), lanesOf(db0, P)];
      const [, , , , , dinp, dweight, dbias] = await run(
        kernels.backward[0],
        { u32: [N, C] },
        bufs,
        kernels.backward[1],
      );
      for (let l = 0; l < L; l++) {
        const rowsOf = (a: Float32Array, width: number) => a.subarray(l * rows * width, (l + 1) * rows * width);
        const ro = new Float64Array(rows * C);
        const rm = new Float64Array(rows);
        const rr = new Float64Array(rows);
        ref.layernormForward(ro, rm, rr, f64(rowsOf(inp, C)), f64(w[l]!), f64(b[l]!), rows, C);
        compare(`lane ${l} layernorm out`, rowsOf(out!, C), ro, ATOL, RTOL);
        compare(`lane ${l} layernorm rstd`, rowsOf(rstd!, 1), rr, ATOL, RTOL);
        const rdinp = f64(rowsOf(dinp0, C));
        const rdw = f64(dw0[l]!);
        const rdb = f64(db0[l]!);
        const [m, r] = [f64(rowsOf(mean!, 1)), f64(rowsOf(rstd!, 1))];
        ref.layernormBackward(rdinp, rdw, rdb, f64(rowsOf(dout, C)), f64(rowsOf(inp, C)), f64(w[l]!), m, r, rows, C);
        compare(`lane ${l} layernorm dinp`, rowsOf(dinp!, C), rdinp, ATOL, RTOL);
        compare(`lane ${l} layernorm dweight`, laneSlice(dweight!, l, P, C), rdw, 1e-4, RTOL);
        compare(`lane ${l} layernorm dbias`, laneSlice(dbias!, l, P, C), rdb, 1e-4, RTOL);
      }
      expect(gapsKept(dweight!, P, C) && gapsKept(dbias!, P, C)).toBe(true);
    });
  });

  test.each(REDUCTION_VARIANTS)('the loss and gradient-norm sums per lane ($name), and AdamW per lane', async (v) => {
    const rng = new Rng(17);
    const [n0, n1] = [5000, 9000]; // each lane's: two chunks of losses, three of gradients
    const STATS = STATS_LANE; // per lane: loss at 0, norm, clip scale and finite at 4.., the frozen flag at 8
    const lane = { lanes: L, rows: 0, params: n1, stats: STATS };
    const x0 = rand(rng, L * n0);
    const x1 = rand(rng, L * n1);
    x1[2 * n1 + 7] = Infinity; // lane 2's norm is not finite: it alone skips its update
    const partials = (n: number) => new Float32Array(L * Math.ceil(n / REDUCE_CHUNK)).fill(1000);
    const dims = { u32: [n0, n1, REDUCE_CHUNK, 0, 4], f32: [0.5] };
    const [partial, grid] = reducePartials(n0, n1, v, lane);
    const p1 = await run(partial, dims, [x0, x1, partials(n0), partials(n1), new Float32Array(L * STATS)], grid);
    const [finalize, finalGrid] = reduceFinalize(lane);
    const stats = (await run(finalize, dims, [x0, x1, p1[2]!, p1[3]!, p1[4]!], finalGrid))[4]!;
    for (let l = 0; l < L; l++) {
      const s = stats.subarray(l * STATS, (l + 1) * STATS);
      const sum = x0.subarray(l * n0, (l + 1) * n0).reduce((a, x) => a + x, 0);
      expect(Math.abs(s[0]! - sum), `lane ${l} loss`).toBeLessThanOrEqual(1e-5 * Math.sqrt(n0));
      if (l === 2) {
        expect(s[6], 'lane 2 not finite').toBe(0);
        continue;
      }
      const norm = Math.sqrt(x1.subarray(l * n1, (l + 1) * n1).reduce((a, x) => a + x * x, 0));
      expect(Math.abs(s[4]! - norm), `lane ${l} norm`).toBeLessThanOrEqual(1e-5 * norm);
      expect(s[5]!).toBeCloseTo(Math.min(1, 0.5 / (norm + 1e-6)), 6);
      expect(s[6]).toBe(1);
    }

    // AdamW over the lanes' parameters with those statistics: lanes 0 and 1 step with their own clip scales, lane 2
    // keeps its weights; the decay mask is one table's, shared.
    const P = n1;
    const p = rand(rng, L * P);
    const m = rand(rng, L * P, 0.1);
    const vv = Float32Array.from({ length: L * P }, () => rng.next() * 0.01);
    const mask = new Uint32Array(Math.ceil(P / 32));
    for (let i = 0; i < P; i += 3) mask[i >>> 5]! |= 1 << (i & 31);
    const [lr, b1, b2, eps, wd, t] = [0.01, 0.9, 0.95, 1e-8, 0.1, 3];
    const u = { u32: [L * P, 4], f32: [lr, b1, b2, eps, wd, 1 - b1 ** t, 1 - b2 ** t] };
    const [adamw, adamwGrid] = adamwKernel(P, lane);
    const [np] = await run(adamw, u, [p, x1, m, vv, mask, stats], adamwGrid);
    for (let l = 0; l < L; l++) {
      const got = np!.subarray(l * P, (l + 1) * P);
      if (l === 2) {
        expect(Array.from(got)).toEqual(Array.from(p.subarray(l * P, (l + 1) * P)));
        continue;
      }
      const scale = stats[l * STATS + 5]!;
      const want = new Float64Array(P);
      for (let i = 0; i < P; i++) {
        const k = l * P + i;
        const gi = x1[k]! * scale;
        let pi = p[k]!;
        if (i % 3 === 0) pi -= lr * wd * pi;
        const mi = b1 * m[k]! + (1 - b1) * gi;
        const vi = b2 * vv[k]! + (1 - b2) * gi * gi;
        want[i] = pi - (lr * (mi / (1 - b1 ** t))) / (Math.sqrt(vi / (1 - b2 ** t)) + eps);
      }
      compare(`lane ${l} adamw params`, got, want, 1e-6, 1e-5);
    }
  });

  test('transpose of lanes whose sources lie apart', async () => {
    const [rows, cols, srcLane] = [8, 12, 8 * 12 + 20];
    const rng = new Rng(5);
    const src = rand(rng, L * srcLane);
    const t = transposeKernel(rows, cols, 'f32', L);
    const [, dst] = await run(
      t.def,
      { u32: [rows, cols, srcLane] },
      [src, new Float32Array(L * rows * cols)],
      t.workgroups,
    );
    for (let l = 0; l < L; l++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++)
          expect(dst![l * rows * cols + c * rows + r]).toBe(src[l * srcLane + r * cols + c]);
  });
});
