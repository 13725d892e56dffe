// Every matmul variant × (transA, transB, bias, accumulate) against a plain float64 CPU matmul, at shapes that are
// and are not multiples of 4 and of the kernels' blocks, through matmulKernel: exactly the kernel and workgroup
// choice that the GPU model makes for that shape.
import { afterAll, describe, expect, test } from 'vitest';
import { encodeDispatches, KernelCache, uniformData } from '../../src/engine/pipelines';
import {
  matmulKernel,
  matmulPath,
  matmulSplitK,
  splitKBound,
  splitKSlices,
  operandTransposes,
  ONE_LANE,
  type LaneStrides,
  type MatmulFlags,
} from '../../src/engine/kernels';
import {
  chooseMatmulVariant,
  isCpuAdapter,
  isLavapipe,
  isSwiftShader,
  LAVAPIPE_VARIANT,
  MATMUL_VARIANTS,
  matmulVariantByName,
  type MatmulVariant,
  presetMatmulVariant,
  productDispatches,
  SOFTWARE_VARIANT,
  timedVariants,
} from '../../src/engine/matmul-variants';
import { splitKScratch, weightGradShapes } from '../../src/engine/plan';
import type { ModelConfig } from '../../src/model/config';
import { gelu, geluGrad } from '../../src/model/reference';
import { Rng } from '../../src/model/rng';
import { compare, testGpu } from './helpers';

/**
 * C (M,N) = op(A)·op(B) [+ bias] [+ C0]; A stored (M,K) or, transposed, (K,M); B (K,N) or (N,K). Then the
 * epilogues: gelu — aux = gelu(C); geluGrad — C ·= gelu'(aux0); residual — C += aux0; biasGrad — aux[m] += Σ_k A[m,k].
 * Returns C and aux.
 */
function refMatmul(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array,
  c0: Float32Array,
  aux0: Float32Array,
): { c: Float64Array; aux: Float64Array } {
  const out = new Float64Array(M * N);
  const aux = Float64Array.from(aux0);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[f.transA ? k * M + m : m * K + k]! * b[f.transB ? n * K + k : k * N + n]!;
      if (f.bias) s += bias[n]!;
      if (f.accumulate) s += c0[m * N + n]!;
      if (f.geluGrad) s *= geluGrad(aux0[m * N + n]!);
      if (f.residual) s += aux0[m * N + n]!;
      if (f.gelu) aux[m * N + n] = gelu(s);
      out[m * N + n] = s;
    }
  }
  // The bias gradient of a dW product: aux[m] += Σ_k op(A)[m,k], the column sums of A stored (K,M).
  if (f.biasGrad)
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) aux[m] += a[f.transA ? k * M + m : m * K + k]!;
  return { c: out, aux };
}

/**
 * Multiples of 1/64 in [−1, 1]: every product is a multiple of 2⁻¹² and every partial sum (|sum| <= K + 2 <= 2¹⁰)
 * needs at most 22 significant bits, so float32 (24) holds each one exactly and any summation order gives the
 * float64 result exactly. A correct kernel therefore matches to the last bit; the tolerance below is slack, and an
 * indexing bug gives differences of order 1.
 */
function dyadic(n: number, rng: Rng): Float32Array<ArrayBuffer> {
  return new Float32Array(n).map(() => (Math.floor(rng.next() * 129) - 64) / 64);
}

const FLAGS: MatmulFlags[] = [];
for (let i = 0; i < 16; i++)
  FLAGS.push({ transA: !!(i & 1), transB: !!(i & 2), bias: !!(i & 4), accumulate: !!(i & 8) });

// (M, N, K): degenerate, odd, off every block size, multiples of 4 that do not fill a 16×16 block, one with
// enough threads for 16×16 blocks but ragged edges, and one whose rows no tnOnly variant can transpose.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [5, 7, 3],
  [33, 65, 17],
  [64, 36, 64],
  [100, 68, 36],
  [4, 8, 12],
  // Rows off multiples of 4 with enough threads for 16×16 blocks: a tnOnly variant's nt and nn kernels.
  [66, 64, 36],
];

const SPLIT_SHAPES: [number, number, number, number][] = [
  [5, 7, 3, 4],
  [4, 8, 12, 3],
  [4, 8, 12, 5],
  [12, 8, 5, 2],
  [33, 65, 17, 4],
  [64, 36, 64, 3],
  [100, 68, 37, 16],
  [384, 128, 1000, 3],
];

// Stacked lanes: shapes for the scalar kernel, the vec4 8×8 and 16×16 ones (and a tnOnly variant's transposes),
// and the model's forms: c_attn/c_fc/c_proj forward, dinp (into c_fc's output, or plain) and dW.
const STACKED_SHAPES: [number, number, number][] = [
  [5, 7, 3],
  [64, 36, 64],
  [66, 64, 36],
];
const STACKED_FORMS: MatmulFlags[] = [
  { transB: true, bias: true },
  { transB: true, bias: true, gelu: true },
  { transB: true, bias: true, residual: true },
  { transB: true },
  {},
  { geluGrad: true },
  { accumulate: true },
  { transA: true, accumulate: true, biasGrad: true },
  { transA: true, accumulate: true },
];

const used = new Set<string>();
let kernels: KernelCache | undefined;
afterAll(() => console.log(`matmul kernels exercised: ${[...used].sort().join(', ')}`));

/**
 * Run one product through the kernels the model records for it and compare with refMatmul: matmulKernel's one
 * dispatch, or with `splits` > 1 a dW product split-K (matmulSplitK: the slices, then their reduce). With `lanes`
 * > 1, that many products of this shape stacked in the same dispatches (kernels.ts LaneStrides), each lane's
 * operands at a stride past its own size (a gap between lanes: inputs' gaps hold values no product reads, outputs'
 * must stay untouched).
 */
async function runMatmul(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  variant: (typeof MATMUL_VARIANTS)[number],
  seed: number,
  splits = 1,
  lanes = 1,
): Promise<void> {
  const { device, errors } = await testGpu();
  // One pipeline cache for the file: a pipeline depends on the flags and kernel, not on the shape.
  kernels ??= new KernelCache(device);
  const rng = new Rng(seed);
  // Floats per lane: the size rounded up to 4, plus a gap of 8 where stacked.
  const stride = (n: number) => (lanes === 1 ? Math.ceil(n / 4) * 4 : Math.ceil(n / 4) * 4 + 8);
  const at = { a: stride(M * K), b: stride(K * N), bias: stride(N), c: stride(M * N), aux: stride(M * N) };
  const GAP = 1000; // what an output's gap holds, and what an input's gap holds is 500 + its index
  const perLane = Array.from({ length: lanes }, () => {
    const a = dyadic(M * K, rng);
    const b = dyadic(K * N, rng);
    const bias = dyadic(N, rng);
    const c0 = dyadic(M * N, rng);
    // A pre-activation for geluGrad, over [−3, 3] where GELU bends.
    const aux0 = dyadic(M * N, rng).map((x) => 3 * x);
    return { a, b, bias, c0, aux0 };
  });
  const stack = (key: keyof (typeof perLane)[number], stride: number, gap: (i: number) => number) => {
    const out = new Float32Array(Math.max(4, lanes * stride)).map((_, i) => gap(i));
    perLane.forEach((l, i) => out.set(l[key], i * stride));
    return out;
  };
  const made: GPUBuffer[] = [];
  const storage = (data: Float32Array<ArrayBuffer>) => {
    const buf = device.createBuffer({
      size: Math.max(16, data.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    device.queue.writeBuffer(buf, 0, data);
    made.push(buf);
    return buf;
  };
  const uniform = (...fields: number[]) => {
    const data = uniformData({ u32: fields });
    const buf = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, data);
    made.push(buf);
    return buf;
  };
  const input = (i: number) => 500 + i;
  const cStack = stack('c0', at.c, () => GAP);
  const auxStack = stack('aux0', at.aux, () => GAP);
  const out = storage(cStack);
  const aux = storage(auxStack);
  const operands = [
    storage(stack('a', at.a, input)),
    storage(stack('b', at.b, input)),
    storage(stack('bias', at.bias, input)),
  ];
  // The product's dispatches as the model records them (productDispatches: a tnOnly variant's transposes, a split
  // dW's slices and reduce). Scratch (transposed operands, partial products and bias sums) starts full of a value no
  // kernel computes, so that an element left unwritten shows.
  const scratch = (floats: number) => storage(new Float32Array(floats).fill(1000));
  const bufs = { a: operands[0]!, b: operands[1]!, bias: operands[2]!, c: out, aux };
  const strides: LaneStrides = lanes === 1 ? ONE_LANE : { lanes, ...at };
  const list = productDispatches(
    kernels,
    { storage: scratch, uniform },
    variant,
    f,
    M,
    N,
    K,
    bufs,
    splits,
    undefined,
    strides,
  );
  const label = list.find((d) => !d.label.startsWith('transpose'))!.label;
  for (const d of list) used.add(d.label);
  const staging = device.createBuffer({
    size: cStack.byteLength + auxStack.byteLength,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  made.push(staging);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  encodeDispatches(pass, list);
  pass.end();
  enc.copyBufferToBuffer(out, 0, staging, 0, cStack.byteLength);
  enc.copyBufferToBuffer(aux, 0, staging, cStack.byteLength, auxStack.byteLength);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const mapped = staging.getMappedRange();
  const got = new Float32Array(mapped.slice(0, cStack.byteLength));
  const gotAux = new Float32Array(mapped.slice(cStack.byteLength));
  staging.unmap();
  for (const buf of made) buf.destroy();
  const name =
    `${variant.name} ${label} ${M}×${N}×${K}${splits > 1 ? ` in ${splits} slices` : ''}` +
    `${lanes > 1 ? `, ${lanes} lanes` : ''} ${JSON.stringify(f)}`;
  perLane.forEach((l, i) => {
    const lane = lanes > 1 ? `${name}, lane ${i}` : name;
    // The issue's tolerance: float32 rounding of a K-term sum of O(1) terms would stay within it; with the exact
    // inputs above a correct kernel has no error at all.
    const want = refMatmul(f, M, N, K, l.a, l.b, l.bias, l.c0, l.aux0);
    compare(lane, got.subarray(i * at.c, i * at.c + M * N), want.c, 1e-5, 1e-4);
    // GELU in float32 with an erf good to 1.5e-7 (shaders/common/gelu.wgsl): the same tolerance holds.
    compare(`${lane} aux`, gotAux.subarray(i * at.aux, i * at.aux + M * N), want.aux, 1e-5, 1e-4);
  });
  // Between and after the lanes, nothing written.
  const gaps = (buf: Float32Array, s: number) => buf.filter((_, i) => i % s >= M * N || i >= lanes * s);
  if (lanes > 1) {
    expect(
      gaps(got, at.c).every((x) => x === GAP),
      `${name}: C written outside its lanes`,
    ).toBe(true);
    expect(
      gaps(gotAux, at.aux).every((x) => x === GAP),
      `${name}: aux written outside its lanes`,
    ).toBe(true);
  }
  expect(errors).toEqual([]);
}

// The split variants run the same kernels as their unsplit twins (splitK only decides the slices, which the
// split tests below force), and the +ln variants too for every product that reads no LayerNorm (the fused one has
// its test in kernels.test.ts): each set of kernels once.
const KERNEL_SETS = MATMUL_VARIANTS.filter((v) => !v.splitK && !v.fuseLayerNorm);

/**
 * Whether a variant with 16×16 kernels computes products of this shape on them (matmulKernel's rule: 16 threads of
 * 16×16 blocks). Those kernels are unrolled (shaders/matmul_vec4_16.wgsl), and lavapipe's LLVM takes 10–20 s to
 * compile each of their pipelines, against well under a second for the other kernels; a pipeline is one per epilogue,
 * entry point, stacking and workgroup shape, and the workgroup shape follows the product's shape (fitWorkgroup). So
 * the combinatorial tests below keep, for the 16×16 variants, to the shapes that run on their 8×8 and general
 * kernels, and the 16×16 kernels have the describe of their own after them: each entry point with each epilogue,
 * stacked and split, at shapes whose pipelines the 512×512×512 test shares.
 */
const reaches16 = (v: MatmulVariant, [M, N]: readonly number[]): boolean =>
  v.vec4 === 16 && Math.ceil(N! / 16) * Math.ceil(M! / 16) >= 16;

/**
 * The variants adapters have chosen: SwiftShader's (known), lavapipe's (timed there), a GPU's before it has timed
 * (presetMatmulVariant) and the H200's (timed there; docs/performance.md, "On a real GPU"). Each takes every shape below; the
 * other kernel sets take every form at the small shapes that reach each of their kernels (SMALL_SHAPES), since their
 * kernels are these variants' kernels routed another way, and each of their pipelines costs a cold lavapipe seconds.
 */
const CHOSEN = new Set([
  SOFTWARE_VARIANT.name,
  'vec4-reg16x16+tn',
  presetMatmulVariant({ vendor: 'nvidia', architecture: 'hopper' }).name,
  'tiled64',
]);
// The general kernels at an odd shape; the vec4 8×8 kernels (every set with vec4 kernels) at multiples of 4 that
// fill less than one block.
const SMALL_SHAPES: [number, number, number][] = [
  [5, 7, 3],
  [4, 8, 12],
];

describe.each(KERNEL_SETS.map((v) => [v.name, v] as const))('matmul variant %s', (_name, variant) => {
  const shapes = (CHOSEN.has(variant.name) ? SHAPES : SMALL_SHAPES).filter((s) => !reaches16(variant, s));
  test.each(shapes)('%i×%i×%i, every transpose, bias and accumulate', async (M, N, K) => {
    for (const f of FLAGS) await runMatmul(f, M, N, K, variant, M * 131 + N * 17 + K);
  });

  test.each(shapes)('%i×%i×%i, GELU epilogues (c_fc forward, and the gradient into it)', async (M, N, K) => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await runMatmul({ transA, transB, bias: true, gelu: true }, M, N, K, variant, M + N + K);
        await runMatmul({ transA, transB, geluGrad: true }, M, N, K, variant, M * N + K);
        await runMatmul({ transA, transB, accumulate: true, geluGrad: true }, M, N, K, variant, M * N * K);
      }
    }
  });

  test.each(shapes)('%i×%i×%i, residual epilogue (c_proj forward into the residual stream)', async (M, N, K) => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await runMatmul({ transA, transB, bias: true, residual: true }, M, N, K, variant, M + 3 * N + K);
        await runMatmul({ transA, transB, residual: true }, M, N, K, variant, 5 * M + N + K);
      }
    }
  });

  test.each(shapes)('%i×%i×%i, bias gradient in the dW product', async (M, N, K) => {
    await runMatmul({ transA: true, accumulate: true, biasGrad: true }, M, N, K, variant, 7 * M + N + K);
    await runMatmul({ transA: true, biasGrad: true }, M, N, K, variant, M + 7 * N + K);
  });

  // Split-K dW products (M = OC, N = IC, K = rows, S slices of ⌈K/S⌉ rows): odd K, K not a multiple of the slice,
  // more slices than rows (empty slices), the vec4 tn kernel's M % 8 == 4 edge, a product on the 16×16 kernel, and
  // one of the model's (c_attn's at 1000 rows). No variant splits on the 16×16 kernels (the split variants are
  // vec4-reg8x8's and the tiled ones), so theirs are split once, in the 16×16 describe below.
  test.each(SPLIT_SHAPES.filter((s) => !reaches16(variant, s)))(
    '%i×%i×%i in %i slices: dW products split-K, with accumulate and bias gradient',
    async (M, N, K, S) => {
      const seed = 3 * M + 5 * N + K + S;
      if (operandTransposes({ transA: true }, M, N, K, variant)) {
        // An nnWeightGrads variant's dW over a transposed output gradient: the split kernels are tn's, so asking
        // for slices is an error (the model never does: such a variant has no splitK).
        expect(() => matmulSplitK({ transA: true, accumulate: true }, M, N, K, variant, S)).toThrow(/cannot be split/);
        return;
      }
      await runMatmul({ transA: true, accumulate: true, biasGrad: true }, M, N, K, variant, seed, S);
      await runMatmul({ transA: true, biasGrad: true }, M, N, K, variant, seed + 1, S);
      await runMatmul({ transA: true, accumulate: true }, M, N, K, variant, seed + 2, S);
    },
  );

  // Stacked lanes (3 models' products in the same dispatches, each with its own operands): the forms the model
  // records, with every epilogue, at shapes that reach each kernel of the variant, and split-K dW products.
  test.each(STACKED_SHAPES.filter((s) => !reaches16(variant, s)))(
    '%i×%i×%i, 3 lanes stacked: forward, dinp and dW forms, every epilogue',
    async (M, N, K) => {
      for (const [i, f] of STACKED_FORMS.entries()) await runMatmul(f, M, N, K, variant, 11 * M + N + K + i, 1, 3);
    },
  );

  test.each(SPLIT_SHAPES.slice(0, 3))('%i×%i×%i in %i slices, 3 lanes stacked', async (M, N, K, S) => {
    if (operandTransposes({ transA: true }, M, N, K, variant)) return; // never split (the test above)
    await runMatmul({ transA: true, accumulate: true, biasGrad: true }, M, N, K, variant, M + N + K + S, S, 3);
    await runMatmul({ transA: true }, M, N, K, variant, M + N + K + 2 * S, S, 3);
  });

  // The forms of FORMS_16 below, whose pipelines (8×8 workgroups) the 16×16 kernels' tests compile already.
  test.runIf(CHOSEN.has(variant.name) || variant.vec4 === 16)('512×512×512 (forward, dinp and dW forms)', async () => {
    for (const [i, f] of FORMS_16.entries()) await runMatmul(f, 512, 512, 512, variant, i + 1);
  });
});

/**
 * Each entry point of the 16×16 kernels with each epilogue: c_fc's forward (nt: bias, GELU), c_proj's forward into
 * the residual stream (nt: bias, residual), the gradient into c_fc's output (nn: accumulate, gelu'), and a dW product
 * with its bias gradient (tn: accumulate, bias gradient). A tnOnly variant runs them all on its tn kernel over
 * transposed operands, an nnWeightGrads variant the dW on nn.
 */
const FORMS_16: MatmulFlags[] = [
  { transB: true, bias: true, gelu: true },
  { transB: true, bias: true, residual: true },
  { accumulate: true, geluGrad: true },
  { transA: true, accumulate: true, biasGrad: true },
];

// 516×520×36: 33×33 blocks of 16×16, so the last block of each row and column is partial (516 = 32·16 + 4 rows, a
// vec4 group's clamp past M), in 5×5 workgroups of 8×8 of which the last are partial: the same workgroup shape as the
// model's products and the 512×512×512 test. 518 rows (not a multiple of 4) keep a tnOnly variant's forward and dinp
// products on its nt and nn kernels, which cannot be copied transposed.
describe.each(KERNEL_SETS.filter((v) => v.vec4 === 16).map((v) => [v.name, v] as const))(
  'the 16×16 kernels of %s',
  (_name, variant) => {
    test.each([
      [516, 520, 36],
      [518, 520, 36],
    ])('%i×%i×%i, each entry point with each epilogue', async (M, N, K) => {
      expect(reaches16(variant, [M, N])).toBe(true);
      for (const [i, f] of FORMS_16.entries()) await runMatmul(f, M, N, K, variant, M + N + K + i);
    });

    // The forward and the dW form: each kernel the variant routes them to (a tnOnly variant's tn for both, an
    // nnWeightGrads variant's nn for the dW), with the bias, GELU, accumulate and bias-gradient epilogues.
    test('516×520×36, 3 lanes stacked: the forward and dW forms', async () => {
      await runMatmul(FORMS_16[0]!, 516, 520, 36, variant, 31, 1, 3);
      await runMatmul(FORMS_16[3]!, 516, 520, 36, variant, 32, 1, 3);
    });

    test('516×520×36 in 3 slices: the dW product split-K, alone and stacked', async () => {
      const dW = FORMS_16[3]!;
      if (operandTransposes(dW, 516, 520, 36, variant)) return; // an nnWeightGrads variant never splits (above)
      await runMatmul(dW, 516, 520, 36, variant, 41, 3);
      await runMatmul(dW, 516, 520, 36, variant, 42, 3, 3);
    });
  },
);

// The vec4 nn kernels sum the bias gradient from A's rows (an nnWeightGrads variant's dW over dout transposed) in
// vec4 groups of 4 rows: here over A as stored, on the 8×8 kernel, the 16×16 one and its loads-first order (which
// no variant runs nn on today: vec4-reg16x16+tn's loads first, but turns nn products into tn). Rows M % 8 == 4 and
// M % 16 == 4 leave a clamped group past M, which must add nothing.
// 516×520×36 reaches the 16×16 kernels with 516 = 32·16 + 4 rows, at the workgroup shape the tests above compile.
test.each([
  [64, 36, 64],
  [516, 520, 36],
  [12, 8, 20],
  [36, 64, 64],
])('bias gradient on the vec4 nn kernels, %i×%i×%i', async (M, N, K) => {
  const nnKernels = [
    matmulVariantByName('vec4-reg8x8'),
    matmulVariantByName('vec4-reg16x16'),
    { name: 'vec4-reg16x16, loads first', vec4: 16, general: 'reg4x4', loadsFirst: true } as const,
  ];
  for (const v of nnKernels) {
    expect(matmulPath({ biasGrad: true }, M, N, K, v)).toBe('nn');
    await runMatmul({ biasGrad: true }, M, N, K, v, M + N + K);
    await runMatmul({ accumulate: true, biasGrad: true }, M, N, K, v, M * N + K);
  }
  // Off multiples of 4 rows the nn kernel cannot sum them as vec4 groups; a forward (nt) has no such epilogue.
  expect(() => matmulKernel({ biasGrad: true }, 66, 64, 36, nnKernels[0]!)).toThrow(/cannot sum the bias gradient/);
  expect(() => matmulKernel({ transB: true, biasGrad: true }, M, N, K, nnKernels[0]!)).toThrow(
    /vec4 nt kernel cannot sum/,
  );
});

test('the shapes above reach every kernel: vec4 8×8 and 16×16 for each use, scalar and tiled', () => {
  for (const label of [
    'matmul',
    'matmul_tiled',
    'matmul_vec4_8_nt',
    'matmul_vec4_8_nn',
    'matmul_vec4_8_tn',
    'matmul_vec4_16_nt',
    'matmul_vec4_16_nn',
    'matmul_vec4_16_tn',
    'matmul_splitk',
    'matmul_tiled_splitk',
    'matmul_vec4_8_tn_splitk',
    'matmul_vec4_16_tn_splitk',
    'matmul_vec4_16lf_nt',
    'matmul_vec4_16lf_nn',
    'matmul_vec4_16lf_tn',
    'matmul_vec4_16lf_tn_splitk',
    'transpose',
  ]) {
    expect(used, label).toContain(label);
  }
  // The vocabulary-sized lm_head with an odd V falls back to the general kernel.
  expect(matmulPath({ transB: true }, 2048, 11, 64, MATMUL_VARIANTS[0]!)).toBe('general');
});

test('tnOnly: forward and dinp products run on the tn kernel over transposed operands, where the shapes allow', () => {
  const tn = matmulVariantByName('vec4-reg8x8+tn');
  expect(operandTransposes({ transB: true, bias: true, gelu: true }, 2048, 512, 128, tn)).toEqual({
    a: [2048, 128],
    b: [512, 128],
    path: 'tn',
  });
  expect(operandTransposes({ geluGrad: true }, 2048, 128, 512, tn)).toEqual({ a: [2048, 512], b: null, path: 'tn' });
  expect(matmulPath({ transB: true }, 2048, 512, 128, tn)).toBe('tn');
  expect(matmulPath({}, 2048, 128, 512, tn)).toBe('tn');
  expect(matmulKernel({ transB: true, residual: true }, 2048, 128, 512, tn).def.label).toBe('matmul_vec4_8_tn');
  const tn16 = matmulVariantByName('vec4-reg16x16+tn');
  expect(matmulKernel({ transB: true, gelu: true }, 2048, 512, 128, tn16).def.label).toBe('matmul_vec4_16lf_tn');
  expect(matmulKernel({ transB: true }, 66, 64, 36, tn16).def.label).toBe('matmul_vec4_16lf_nt');
  // dW products are tn already; shapes off multiples of 4 keep their kernels; other variants never transpose.
  expect(operandTransposes({ transA: true, accumulate: true }, 512, 128, 2048, tn)).toBeNull();
  expect(operandTransposes({ transB: true }, 1982, 512, 128, tn)).toBeNull();
  expect(matmulPath({ transB: true }, 1982, 512, 128, tn)).toBe('nt');
  expect(operandTransposes({ transB: true }, 2048, 15, 128, tn)).toBeNull();
  expect(operandTransposes({}, 2048, 128, 15, tn)).toBeNull();
  for (const v of MATMUL_VARIANTS.filter((x) => !x.tnOnly))
    expect(operandTransposes({ transB: true }, 2048, 512, 128, v), v.name).toBeNull();
});

test('nnWeightGrads: dW products run on the nn kernel over the output gradient transposed, where the shapes allow', () => {
  const nn = matmulVariantByName('vec4-reg16x16+nndW');
  // dW (512,128) += dout (2048,512)ᵀ · inp (2048,128): dout is copied to (512,2048), then nn.
  const dW = { transA: true, accumulate: true } as const;
  expect(operandTransposes(dW, 512, 128, 2048, nn)).toEqual({ a: [2048, 512], b: null, path: 'nn' });
  expect(matmulKernel(dW, 512, 128, 2048, nn).def.label).toBe('matmul_vec4_16_nn');
  // The Linear's db is summed inside it, from dout's transposed rows.
  expect(matmulKernel({ ...dW, biasGrad: true }, 512, 128, 2048, nn).def.label).toBe('matmul_vec4_16_nn');
  // Forward and dinp products keep their kernels; rows off multiples of 4 keep tn; other variants never do this.
  expect(operandTransposes({ transB: true }, 2048, 512, 128, nn)).toBeNull();
  expect(operandTransposes({}, 2048, 128, 512, nn)).toBeNull();
  expect(operandTransposes(dW, 512, 128, 1982, nn)).toBeNull();
  expect(matmulPath(dW, 512, 128, 1982, nn)).toBe('tn');
  for (const v of MATMUL_VARIANTS.filter((x) => !x.nnWeightGrads))
    expect(operandTransposes(dW, 512, 128, 2048, v), v.name).toBeNull();
});

test('split-K: only the split variants split, only where a product has few workgroups, within the planned bound', () => {
  // The default model's dW products (2/128/4 over B·T = 2048 rows): c_attn, attn c_proj, c_fc, mlp c_proj, lm_head.
  const shapes: [number, number][] = [
    [384, 128],
    [128, 128],
    [512, 128],
    [128, 512],
    [54, 128],
  ];
  const rows = 2048;
  for (const v of MATMUL_VARIANTS) {
    for (const [OC, IC] of shapes) {
      const S = splitKSlices(OC, IC, rows, v);
      expect(S, `${v.name} ${OC}×${IC}`).toBe(v.splitK ? 8 : 1); // 2048 / 256 rows: the slice length binds
      expect(S).toBeLessThanOrEqual(splitKBound(OC, IC, rows));
    }
    // Few rows: no slice would keep 256; many workgroups already (a GPT-2-sized lm_head): no split either.
    expect(splitKSlices(384, 128, 300, v)).toBe(1);
    expect(splitKSlices(50304, 768, 8192, v)).toBe(1);
  }
  // The plan's scratch holds the largest split product of any variant, whatever the batch.
  const cfg: ModelConfig = {
    vocabSize: 54,
    blockSize: 64,
    nLayer: 2,
    nHead: 4,
    nEmbd: 128,
    attention: 'causal',
    extraHeads: 0,
  };
  for (const B of [1, 4, 32, 128]) {
    const { partials, biasPartials } = splitKScratch(cfg, B, 64);
    for (const v of MATMUL_VARIANTS) {
      for (const [OC, IC] of weightGradShapes(cfg)) {
        const S = splitKSlices(OC, IC, B * 64, v);
        if (S === 1) continue;
        const split = matmulSplitK({ transA: true, accumulate: true, biasGrad: true }, OC, IC, B * 64, v, S);
        expect(split.scratch).toBeLessThanOrEqual(partials);
        expect(split.biasScratch).toBeLessThanOrEqual(biasPartials);
      }
    }
  }
  // The CPU adapters never split or fuse LayerNorm into the tiled kernel: SwiftShader's variant is known, lavapipe
  // times only the others; a GPU times them all.
  const lavapipe = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' };
  expect(isCpuAdapter(lavapipe)).toBe(true);
  expect(timedVariants(lavapipe).some((v) => v.splitK || v.fuseLayerNorm)).toBe(false);
  expect(timedVariants({ vendor: 'nvidia', architecture: 'hopper' })).toEqual(MATMUL_VARIANTS);
  expect(SOFTWARE_VARIANT.splitK).toBeUndefined();
  expect(presetMatmulVariant({ vendor: 'x', architecture: 'y' }).splitK).toBeUndefined();
  expect(splitKSlices(128, 128, 4096, matmulVariantByName('tiled64+splitK'))).toBe(16);
  // Split-K is for dW products only.
  expect(() => matmulSplitK({ transB: true }, 64, 64, 64, MATMUL_VARIANTS[0]!, 2)).toThrow(/dW products/);
});

test('variant choice: SwiftShader and lavapipe get their variants untimed; elsewhere timed, or the cached name taken', async () => {
  const { device, adapterInfo, errors } = await testGpu();
  if (isSwiftShader(adapterInfo)) {
    const known = await chooseMatmulVariant(device, adapterInfo);
    expect([known.variant, known.source, known.timings]).toEqual([SOFTWARE_VARIANT, 'known', []]);
  }
  if (isLavapipe(adapterInfo)) {
    const known = await chooseMatmulVariant(device, adapterInfo, { cached: 'vec4-reg8x8' });
    expect([known.variant, known.source, known.timings]).toEqual([LAVAPIPE_VARIANT, 'known', []]);
  }
  const lavapipe = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' };
  expect([isLavapipe(lavapipe), isLavapipe({ vendor: 'google', architecture: 'swiftshader' })]).toEqual([true, false]);
  // An adapter the code does not know: the timing path, at a small probe so that it is quick on a software adapter.
  const other = { vendor: 'test-vendor', architecture: 'test-arch', description: `probe ${Date.now()}` };
  const probe = { rows: 64, width: 16, repeats: 1 };
  const first = await chooseMatmulVariant(device, other, { probe });
  expect(first.source).toBe('timed');
  expect(first.timings.map((t) => t.variant)).toEqual(MATMUL_VARIANTS.map((v) => v.name));
  for (const t of first.timings) expect(t.ms).toBeGreaterThan(0);

  const second = await chooseMatmulVariant(device, other, { cached: first.variant.name, probe });
  expect([second.source, second.variant, second.timings]).toEqual(['cached', first.variant, []]);

  // A name from an older generation of kernels: timed again (autotune.test.ts: the entry, and a cache that fails).
  expect((await chooseMatmulVariant(device, other, { cached: 'a-variant-that-no-longer-exists', probe })).source).toBe(
    'timed',
  );
  expect(errors).toEqual([]);
});
