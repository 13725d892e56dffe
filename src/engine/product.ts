// One product C (M,N) = op(A)·op(B) lowered to its dispatches under a matmul variant, once, for both its users: the
// model's recording (model-ops.ts, matmulOp) binds the operands and the planned scratch; the timing probes
// (matmul-probe.ts, activation-storage.ts) and the benchmark allocate their own. The lowering says which kernels,
// in which order, with which uniforms and which operand in each binding; each caller only binds.
import type { KernelDef } from './pipelines';
import {
  F32_STORAGE,
  matmulDims,
  matmulKernel,
  matmulSplitK,
  ONE_LANE,
  operandTransposes,
  transposedLanes,
  transposeKernel,
  type LaneStrides,
  type MatmulFlags,
  type MatmulStorage,
  type Shape2,
  type StorageType,
} from './kernels';
import { MATMUL_DIMS, SPLITK_REDUCE_DIMS, TRANSPOSE_DIMS, type UniformLayout } from './uniforms';
import type { MatmulVariant } from './matmul-variants';

/**
 * What a binding of a product's dispatch holds: its operands (bias and aux stand for any buffer distinct from C
 * where the kernel reads neither), and its scratch: A's and B's transposed copies, a split product's partial
 * products and partial bias sums.
 */
export type ProductOperand = 'a' | 'b' | 'bias' | 'c' | 'aux' | 'aT' | 'bT' | 'partials' | 'biasPartials';
export type ProductScratch = 'aT' | 'bT' | 'partials' | 'biasPartials';

/** One dispatch of a product: its kernel, workgroups, uniform (layout and values) and what each binding holds. */
export interface ProductStep {
  def: KernelDef;
  workgroups: [number, number, number];
  layout: UniformLayout<string>;
  values: Record<string, number>;
  /** The bindings after the uniform, in order. */
  bind: ProductOperand[];
}

export interface ProductLowering {
  steps: ProductStep[];
  /** Floats each scratch needs (0 where no step binds it). */
  scratch: Record<ProductScratch, number>;
}

/**
 * The dispatches of C (M,N) = op(A)·op(B) [+ bias] [+= C] with the epilogue flags, under variant v, operands stored
 * as `storage` says and `lanes` stacked:
 *   - with `slices` > 1 (a dW product, transA: kernels/split-k.ts), its slices' partial products into scratch, then
 *     their sum into C (with the bias gradient's partial sums beside them);
 *   - else, where the variant runs this product over transposed operands (operandTransposes), A (and for nt, B)
 *     copied transposed into scratch (f32 whatever the operand's storage, each lane's copy packed), then the kernel
 *     over the copies;
 *   - else the one kernel over the operands as they are.
 */
export function lowerProduct(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  v: MatmulVariant,
  storage: MatmulStorage = F32_STORAGE,
  lanes: LaneStrides = ONE_LANE,
  slices = 1,
): ProductLowering {
  const scratch: Record<ProductScratch, number> = { aT: 0, bT: 0, partials: 0, biasPartials: 0 };
  if (slices > 1) {
    // With biasGrad, aux is the bias gradient: the slices' column sums go to their own scratch, which the reduce
    // adds into it.
    const split = matmulSplitK(f, M, N, K, v, slices, storage, lanes);
    scratch.partials = split.scratch;
    scratch.biasPartials = split.biasScratch;
    const partial: ProductStep = {
      ...split.partial,
      layout: MATMUL_DIMS,
      values: split.partial.dims,
      bind: ['a', 'b', 'bias', 'partials', f.biasGrad ? 'biasPartials' : 'aux'],
    };
    const reduce: ProductStep = {
      ...split.reduce,
      layout: SPLITK_REDUCE_DIMS,
      values: split.reduce.dims,
      bind: ['partials', 'biasPartials', 'c', 'aux'],
    };
    return { steps: [partial, reduce], scratch };
  }
  const steps: ProductStep[] = [];
  const transpose = (src: 'a' | 'b', dst: 'aT' | 'bT', [rows, cols]: Shape2, stored: StorageType, srcLane: number) => {
    const t = transposeKernel(rows, cols, stored, lanes.lanes);
    scratch[dst] = lanes.lanes * rows * cols;
    steps.push({ ...t, layout: TRANSPOSE_DIMS, values: { rows, cols, srcLane }, bind: [src, dst] });
  };
  const t = operandTransposes(f, M, N, K, v);
  let st = storage;
  let operands: ProductOperand[] = ['a', 'b'];
  if (t) {
    transpose('a', 'aT', t.a, st.a, lanes.a); // A as stored → its transpose
    st = { ...st, a: 'f32' };
    operands = ['aT', 'b'];
    if (t.b) {
      transpose('b', 'bT', t.b, st.b, lanes.b); // B (N,K) → Bᵀ (K,N)
      st = { ...st, b: 'f32' };
      operands = ['aT', 'bT'];
    }
  }
  // The kernel depends on the shape (vec4 kernels where the contiguous dimensions allow, see matmulKernel).
  const { def, workgroups } = matmulKernel(f, M, N, K, v, st, lanes.lanes);
  const values = matmulDims(M, N, K, t ? transposedLanes(lanes, t) : lanes);
  steps.push({ def, workgroups, layout: MATMUL_DIMS, values, bind: [...operands, 'bias', 'c', 'aux'] });
  return { steps, scratch };
}
