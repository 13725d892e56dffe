// Timing the matmul variants on a device: the probe's buffers, a Linear's three products and a tied lm_head's under
// each variant (chooseMatmulVariant keeps the fastest), and the dispatches of one product as the model records them.
import { align, lmHeadRows } from '../model/params';
import { KernelCache, timeSubmission, uniformData, type Dispatch } from './pipelines';
import {
  layernormKernels,
  layernormMatmulKernel,
  lnRstdAt,
  lnStatsFloats,
  matmulDims,
  ONE_LANE,
  splitKSlices,
  type LaneStrides,
  F32_STORAGE,
  type MatmulFlags,
  type MatmulStorage,
} from './kernels';
import { fieldValues, MATMUL_DIMS } from './uniforms';
import { lowerProduct, type ProductOperand } from './product';

import type { MatmulVariant, VariantTiming } from './matmul-variants';

/**
 * The buffers of a timing probe, each pushed to `made` for the caller to destroy: storage of `floats` f32 values in
 * [−0.5, 0.5) (no zeros runs, subnormals or NaNs for an adapter to take a fast or slow path on), and uniform blocks
 * of u32 fields in order.
 */
export function probeAllocator(
  device: GPUDevice,
  made: GPUBuffer[],
): { storage(floats: number): GPUBuffer; uniform(...fields: number[]): GPUBuffer } {
  return {
    storage(floats) {
      const b = device.createBuffer({ size: floats * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(
        b,
        0,
        new Float32Array(floats).map((_, i) => ((i * 7919) % 13) / 13 - 0.5),
      );
      made.push(b);
      return b;
    },
    uniform(...fields) {
      const data = uniformData({ u32: fields });
      const usage = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
      const b = device.createBuffer({ size: data.byteLength, usage });
      device.queue.writeBuffer(b, 0, data);
      made.push(b);
      return b;
    },
  };
}

/**
 * The timing probe's lm_head rows: an odd vocabulary (the path-star tasks' vocabularies are of this order) padded as
 * the model pads it (model/params.ts, lmHeadRows), so that the probe times the products the model records.
 */
const LM_HEAD_PROBE_ROWS = lmHeadRows(55);

/**
 * Time variants on a Linear of width `width` over `rows` rows — forward (rows,4w)=(rows,w)·(4w,w)ᵀ, dinp and dW —
 * and on a tied lm_head over a padded vocabulary, each forward product after the LayerNorm whose output it reads
 * (fused into it where the variant fuses LayerNorm); the sum of the six products and two LayerNorms decides.
 * Allocates its own buffers and destroys them.
 */
export async function timeVariants(
  device: GPUDevice,
  variants: MatmulVariant[],
  rows: number,
  width: number,
  repeats: number,
): Promise<VariantTiming[]> {
  const kernels = KernelCache.of(device);
  const M = rows;
  const IC = width;
  const OC = 4 * width;
  const made: GPUBuffer[] = [];
  const { storage, uniform } = probeAllocator(device, made);
  const inp = storage(M * IC);
  const w = storage(OC * IC);
  const bias = storage(OC);
  const out = storage(M * OC);
  const dinp = storage(M * IC);
  const dw = storage(OC * IC);
  const aux = storage(M * OC);
  // A tied lm_head: a narrow product beside the Linear's wide ones.
  const V = LM_HEAD_PROBE_ROWS;
  const wte = storage(V * IC);
  const logits = storage(M * V);
  const dwte = storage(V * IC);
  // The LayerNorm before each forward product: inp = ln(x), its weight and bias in one buffer (the bias at the
  // weight's aligned end, as the parameter table lays out a module's two), its mean and rstd in another (lnRstdAt).
  const x = storage(M * IC);
  const ln = { lnBiasAt: align(IC), lnRstdAt: lnRstdAt(M) };
  const lnParams = storage(ln.lnBiasAt + IC);
  const lnStats = storage(lnStatsFloats(M));
  // c_fc's forward (with its GELU epilogue) after its LayerNorm, dinp and dW; then the lm_head's.
  const products: [MatmulFlags, number, number, number, GPUBuffer, GPUBuffer, GPUBuffer, boolean][] = [
    [{ transB: true, bias: true, gelu: true }, M, OC, IC, inp, w, out, true],
    [{}, M, IC, OC, out, w, dinp, false],
    [{ transA: true, accumulate: true }, OC, IC, M, out, inp, dw, false],
    [{ transB: true }, M, V, IC, inp, wte, logits, true],
    [{}, M, IC, V, logits, wte, dinp, false],
    [{ transA: true, accumulate: true }, V, IC, M, logits, inp, dwte, false],
  ];
  const result: VariantTiming[] = [];
  for (const v of variants) {
    const list = products.flatMap(([f, m, n, k, a, b, c, afterLayerNorm]) => {
      const product = { a, b, bias, c, aux };
      if (!afterLayerNorm) return productDispatches(kernels, { storage, uniform }, v, f, m, n, k, product);
      // What the model records for a product that reads a LayerNorm's output (model-ops.ts, matmulOp): the fused
      // kernel where the variant has it, else the LayerNorm (one invocation per row: the reduction variant is chosen
      // apart, and it is the same for every matmul variant; THREAD_ROWS spelled out, as reduction-variants.ts
      // imports this module) and then the product.
      const fused = layernormMatmulKernel(f, m, n, k, v, ln);
      if (fused) {
        const binds = [
          uniform(...fieldValues(MATMUL_DIMS, matmulDims(m, n, k))),
          x,
          b,
          bias,
          c,
          aux,
          lnParams,
          lnStats,
          a,
        ];
        return [kernels.dispatch(fused.def, binds, fused.workgroups)];
      }
      const [def, wg] = layernormKernels(m, k, { name: 'thread-rows', rows: 'thread' }).forward;
      const range = (buffer: GPUBuffer, at: number, floats: number) => ({ buffer, offset: at * 4, size: floats * 4 });
      const lnBinds = [
        uniform(m, k),
        x,
        range(lnParams, 0, k),
        range(lnParams, ln.lnBiasAt, k),
        a,
        range(lnStats, 0, m),
        range(lnStats, ln.lnRstdAt, m),
      ];
      return [
        kernels.dispatch(def, lnBinds, wg),
        ...productDispatches(kernels, { storage, uniform }, v, f, m, n, k, product),
      ];
    });
    result.push({ variant: v.name, ms: await timeSubmission(device, list, repeats) });
  }
  for (const b of made) b.destroy();
  return result;
}

/**
 * The dispatches of one product C (M,N) = op(A)·op(B) under variant v as the model records them (product.ts,
 * lowerProduct), for the timing probes and the benchmark: `alloc` makes the scratch and the uniform blocks (u32
 * fields in order). `slices` forces a dW product's split (tests). `storage`: how A, B, C and aux hold their values
 * (an activation kept in f16: activation-storage.ts).
 */
export function productDispatches(
  kernels: KernelCache,
  alloc: { storage(floats: number): GPUBuffer; uniform(...fields: number[]): GPUBuffer },
  v: MatmulVariant,
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  bufs: { a: GPUBuffer; b: GPUBuffer; bias: GPUBuffer; c: GPUBuffer; aux: GPUBuffer },
  slices = f.transA ? splitKSlices(M, N, K, v) : 1,
  storage: MatmulStorage = F32_STORAGE,
  lanes: LaneStrides = ONE_LANE,
): Dispatch[] {
  const { steps, scratch } = lowerProduct(f, M, N, K, v, storage, lanes, slices);
  const bound: Record<ProductOperand, GPUBuffer> = {
    ...bufs,
    aT: alloc.storage(Math.max(4, scratch.aT)),
    bT: alloc.storage(Math.max(4, scratch.bT)),
    partials: alloc.storage(Math.max(4, scratch.partials)),
    biasPartials: alloc.storage(Math.max(4, scratch.biasPartials)),
  };
  return steps.map((s) =>
    kernels.dispatch(
      s.def,
      [alloc.uniform(...fieldValues(s.layout, s.values)), ...s.bind.map((o) => bound[o])],
      s.workgroups,
    ),
  );
}
