// Split-K for the dW products: a reduction too long for one workgroup column is cut into slices, each a matmul into
// its own scratch, summed by a second kernel.
import matmulSplitKReduceWgsl from '../../../shaders/matmul_splitk_reduce.wgsl?raw';
import { grid1d, type KernelDef } from '../pipelines';
import type { MatmulVariant } from '../matmul-variants';
import type { MATMUL_DIMS, SPLITK_REDUCE_DIMS, UniformValues } from '../uniforms';
import { bindings, onGrid1d } from './common';
import {
  F32_STORAGE,
  matmulDims,
  matmulKernel,
  ONE_LANE,
  operandTransposes,
  type LaneStrides,
  type MatmulFlags,
  type MatmulStorage,
} from './matmul';

// ---- split-K for the dW products ---------------------------------------------------------------------------
// A dW product (OC,IC) += dout (M,OC)ᵀ · inp (M,IC) has a small output and a long contracted dimension (M = B·T
// rows): for the default model 4 to 16 workgroups of 64×64, too few for a GPU's 100+ compute units. Split-K cuts
// the rows into S slices; the matmul kernel with SPLIT_K computes slice z's partial product in workgroups z (a
// scratch (S,OC,IC)), then one reduce dispatch adds the slices into the gradient (shaders/matmul_splitk_reduce.wgsl).
// Which variants split is the variant's splitK (src/engine/matmul-variants.ts); how many slices is the product's
// shape's, below, so that the memory plan can bound the scratch without knowing the variant.

/**
 * The split rule: S = ⌈SPLIT_K_TARGET_TILES / tiles⌉ slices for a dW product of fewer than SPLIT_K_TARGET_TILES
 * output tiles of 64×64 (the GPU kernels' workgroup tile; the target is about one workgroup per compute unit of a
 * large GPU: an H200 has 132), but at most SPLIT_K_MAX_SLICES and only as many as keep splitK.minRows rows (the
 * variant's) per slice, so that each workgroup still loops long enough to pay for writing and re-reading its
 * partial product.
 */
export const SPLIT_K_TARGET_TILES = 128;
export const SPLIT_K_MAX_SLICES = 16;

/**
 * The most slices the split rule can give the dW product C (M,N) over K rows under any variant (any minRows >= 1):
 * what the memory plan sizes the scratch by (plan.ts). 1 where the product has workgroups enough.
 */
export function splitKBound(M: number, N: number, K: number): number {
  const tiles = Math.ceil(M / 64) * Math.ceil(N / 64);
  if (tiles >= SPLIT_K_TARGET_TILES) return 1;
  return Math.max(1, Math.min(SPLIT_K_MAX_SLICES, K, Math.ceil(SPLIT_K_TARGET_TILES / tiles)));
}

/** Slices of the dW product C (M,N) = A (K,M)ᵀ · B (K,N) under variant v: 1 (unsplit) unless v splits. */
export function splitKSlices(M: number, N: number, K: number, v: MatmulVariant): number {
  if (!v.splitK) return 1;
  return Math.max(1, Math.min(splitKBound(M, N, K), Math.floor(K / v.splitK.minRows)));
}

/** The reduce of a split product: C (M,N) [+]= Σ_s partials; with biasGrad, aux (M) += Σ_s biasPartials. */
export function splitKReduceKernel(accumulate: boolean, biasGrad: boolean): KernelDef {
  const def = onGrid1d('matmul_splitk_reduce', matmulSplitKReduceWgsl, 'main', bindings(2, 2));
  return { ...def, constants: { ...def.constants, ACCUMULATE: accumulate ? 1 : 0, BIAS_GRAD: biasGrad ? 1 : 0 } };
}

/**
 * The dW product C (M,N) [+]= A (K,M)ᵀ · B (K,N) [with its bias gradient] in S slices of kSlice rows: the matmul
 * kernel that matmulKernel picks for this shape, with SPLIT_K and z = slice (bindings: uniform (M,N,K,kSlice), A, B,
 * any read buffer, the scratch (S,M,N) as C, and as aux the bias scratch (S,M) under biasGrad, else any buffer),
 * then the reduce (bindings: uniform (M·N, M, S), scratch, bias scratch, C, db). The scratch needs `scratch` and
 * `biasScratch` floats. Any S >= 1: slices past K are empty and write zeros.
 * The bias gradient stays in the product when split: each slice writes its own column sums and the reduce, which
 * runs anyway, adds them up; the separate bias kernel would be a dispatch more that reads dout again.
 */
export function matmulSplitK(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  v: MatmulVariant,
  S: number,
  storage: MatmulStorage = F32_STORAGE,
  lanes: LaneStrides = ONE_LANE,
): {
  partial: { def: KernelDef; workgroups: [number, number, number]; dims: UniformValues<typeof MATMUL_DIMS> };
  reduce: { def: KernelDef; workgroups: [number, number, number]; dims: UniformValues<typeof SPLITK_REDUCE_DIMS> };
  scratch: number;
  biasScratch: number;
} {
  if (!f.transA || f.transB || f.bias || f.gelu || f.geluGrad || f.residual)
    throw new Error(`matmul ${M}×${N}×${K}: split-K is for dW products (transA, accumulate, biasGrad) only`);
  // The split kernels are the tn kernels' (their SPLIT_K loop bounds); no variant both splits and transposes.
  if (operandTransposes(f, M, N, K, v))
    throw new Error(`matmul ${M}×${N}×${K} under ${v.name}: a product over transposed operands cannot be split`);
  // The kernel without the epilogues that move to the reduce: accumulate (the partial products are written).
  if (storage.c !== 'f32' || storage.aux !== 'f32')
    throw new Error(`matmul ${M}×${N}×${K}: a split dW product writes f32 partial sums, not f16`);
  const L = lanes.lanes;
  const { def, workgroups } = matmulKernel({ transA: true, biasGrad: f.biasGrad }, M, N, K, v, storage, L);
  const reduce = splitKReduceKernel(!!f.accumulate, !!f.biasGrad);
  // Stacked: each lane's partials (S,M,N) and bias partials (S,M) after the last's in the scratch; the reduce adds
  // them into each lane's C and aux, lanes.c and lanes.aux apart.
  const scratchLanes = L === 1 ? ONE_LANE : { ...lanes, c: S * M * N, aux: f.biasGrad ? S * M : 0 };
  return {
    partial: {
      def: { ...def, label: `${def.label}_splitk`, constants: { ...def.constants, SPLIT_K: 1 } },
      // z = lane·S + slice (the prologue's enter).
      workgroups: [workgroups[0], workgroups[1], S * L],
      dims: matmulDims(M, N, K, scratchLanes, { kSlice: Math.ceil(K / S), slices: S }),
    },
    reduce: {
      def: reduce,
      workgroups: grid1d(L * M * N),
      dims: { MN: M * N, M, S, lanes: L, laneC: lanes.c, laneX: lanes.aux },
    },
    scratch: L * S * M * N,
    biasScratch: f.biasGrad ? L * S * M : 0,
  };
}
