// Matmul kernel variants and the choice between them per adapter. A variant says which kernels compute a Linear's
// three products (src/engine/kernels/, matmulKernel): the vec4 register-blocked kernels where the shapes allow
// (shaders/matmul_vec4.wgsl) or not, and the general kernel for every other shape — the scalar register-blocked one
// (shaders/matmul.wgsl) or the shared-memory tiled one (shaders/matmul_tiled.wgsl).
//
// Software adapters (SwiftShader) gather every loaded float lane by lane and execute workgroup barriers very
// slowly, so the register-blocked vec4 kernels win there (bench/README.md has the figures); GPUs reward shared
// memory. The choice is known for SwiftShader and timed once per adapter elsewhere, the result kept in a
// VariantCache (IndexedDB in the browser: src/lab/lab.ts) so that later runs on that adapter skip the timing.
import { align, lmHeadRows } from '../model/params';
import { KernelCache, timeSubmission, uniformData, type Dispatch } from './pipelines';
import {
  layernormKernels,
  layernormMatmulKernel,
  lnRstdAt,
  lnStatsFloats,
  matmulDims,
  matmulKernel,
  matmulSplitK,
  ONE_LANE,
  splitKSlices,
  operandTransposes,
  transposedLanes,
  transposeKernel,
  type LaneStrides,
  F32_STORAGE,
  type MatmulFlags,
  type MatmulStorage,
  type Shape2,
  type StorageType,
} from './kernels';
import { fieldValues, MATMUL_DIMS, SPLITK_REDUCE_DIMS } from './uniforms';

export interface MatmulVariant {
  name: string;
  /**
   * For shapes whose contiguous dimensions are multiples of 4: the vec4 register-blocked kernels with 16×16 or 8×8
   * blocks per thread (false: the general kernel for every shape).
   */
  vec4: 16 | 8 | false;
  /** The kernel for all other shapes: scalar 4×4 register blocks, or 64×64 shared-memory tiles. */
  general: 'reg4x4' | 'tiled64';
  /**
   * Split-K for the dW products, whichever of the kernels above computes them (kernels/, splitKSlices): slices of
   * at least minRows rows, where the product has too few workgroups for a GPU. Absent: never split. Only the GPU
   * variants have it, and only GPUs time them (timedVariants): the CPU adapters' kernels already fill their few
   * cores (fitWorkgroup); the timing below decides per GPU whether splitting pays.
   */
  splitK?: { minRows: number };
  /**
   * Every product on the vec4 tn kernel: a forward (nt) or dinp (nn) product first copies its operands transposed
   * (kernels/, operandTransposes and transposeKernel), one or two cheap passes. For lavapipe, whose tn kernel runs
   * about twice as fast as its nt and nn kernels at equal shapes (docs/kernel-notes.md, "Every product as tn"); the
   * timing decides per adapter, as for every variant.
   */
  tnOnly?: true;
  /**
   * The 16×16 kernels with each iteration's loads before its arithmetic (shaders/matmul_vec4_16_loads_first.wgsl):
   * the same sums, which lavapipe's compiler runs up to 1.8× faster and SwiftShader's 10–25% slower.
   */
  loadsFirst?: true;
  /**
   * The dW products on the vec4 nn kernel: dW (OC,IC) += dout (M,OC)ᵀ · inp (M,IC) first copies dout transposed to
   * (OC,M) (kernels/, operandTransposes), one cheap pass. For SwiftShader, whose tn kernel runs at about 60% of its
   * nn kernel's rate at the dW shapes (docs/kernel-notes.md, "dW products as nn"). The nn kernel sums the bias gradient
   * from the transposed rows (MatmulFlags.biasGrad).
   */
  nnWeightGrads?: true;
  /**
   * LayerNorm fused into the forward product that reads its output (c_attn after ln_1, c_fc after ln_2, the lm_head
   * after ln_f), where the tiled kernel computes that product (kernels/, layernormMatmulKernel): one dispatch
   * instead of two, each workgroup computing its rows' statistics. For GPUs, where a tiny model's step is bound by
   * its dispatches (docs/kernel-notes.md, "What a dispatch costs"); the timing decides per GPU, and the CPU adapters do not
   * time it (timedVariants).
   */
  fuseLayerNorm?: true;
}

/**
 * Rows per slice of the split variants: 256 keeps each workgroup's loop 16 steps of the tiled kernel's 16 rows
 * (and 256 of the vec4 kernels') against writing and re-reading one partial product of its tile.
 */
const SPLIT_K = { minRows: 256 };

export const MATMUL_VARIANTS: MatmulVariant[] = [
  { name: 'vec4-reg16x16', vec4: 16, general: 'reg4x4' },
  { name: 'vec4-reg8x8', vec4: 8, general: 'reg4x4' },
  { name: 'vec4-reg8x8+tiled64', vec4: 8, general: 'tiled64' },
  { name: 'tiled64', vec4: false, general: 'tiled64' },
  { name: 'reg4x4', vec4: false, general: 'reg4x4' },
  { name: 'vec4-reg8x8+splitK', vec4: 8, general: 'reg4x4', splitK: SPLIT_K },
  { name: 'vec4-reg8x8+tiled64+splitK', vec4: 8, general: 'tiled64', splitK: SPLIT_K },
  { name: 'tiled64+splitK', vec4: false, general: 'tiled64', splitK: SPLIT_K },
  { name: 'tiled64+ln', vec4: false, general: 'tiled64', fuseLayerNorm: true },
  { name: 'tiled64+splitK+ln', vec4: false, general: 'tiled64', splitK: SPLIT_K, fuseLayerNorm: true },
  { name: 'vec4-reg8x8+tn', vec4: 8, general: 'reg4x4', tnOnly: true },
  { name: 'vec4-reg16x16+tn', vec4: 16, general: 'reg4x4', tnOnly: true, loadsFirst: true },
  { name: 'vec4-reg16x16+nndW', vec4: 16, general: 'reg4x4', nnWeightGrads: true },
];

export function matmulVariantByName(name: string): MatmulVariant {
  const v = MATMUL_VARIANTS.find((x) => x.name === name);
  if (!v)
    throw new Error(
      `unknown matmul variant ${JSON.stringify(name)}; known: ${MATMUL_VARIANTS.map((x) => x.name).join(', ')}`,
    );
  return v;
}

export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  description?: string;
}

export const isSwiftShader = (a: AdapterIdentity): boolean =>
  a.architecture === 'swiftshader' || (a.vendor === 'google' && /swiftshader/i.test(a.description ?? ''));

/**
 * A CPU adapter: SwiftShader, or one that reports the 'software' architecture (Mesa's lavapipe: "mesa /
 * software (llvmpipe …)").
 */
export const isCpuAdapter = (a: AdapterIdentity): boolean =>
  isSwiftShader(a) || a.architecture === 'software' || /llvmpipe|lavapipe/i.test(a.description ?? '');

/**
 * The variants timed on an adapter. A CPU adapter has a few cores, which the unsplit kernels already fill
 * (fitWorkgroup), so it times only those: split-K would add a reduce pass for parallelism it cannot use, and on
 * lavapipe the probe put split and unsplit within its run-to-run noise (158 against 175 ms one run, the reverse
 * order another), so timing them there would only let noise pick an extra pass and lengthen the first step. Nor the
 * +ln variants: they fuse LayerNorm into the tiled kernel, on which lavapipe trains at a quarter of its chosen
 * variant's rate (docs/kernel-notes.md, "LayerNorm fused into the tiled matmul").
 */
export const timedVariants = (a: AdapterIdentity | null): MatmulVariant[] =>
  a && isCpuAdapter(a) ? MATMUL_VARIANTS.filter((v) => !v.splitK && !v.fuseLayerNorm) : MATMUL_VARIANTS;

/** Where the timed choice is kept, by adapter: a variant name per key. */
export interface VariantCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, variant: string): Promise<void>;
}

export class MemoryVariantCache implements VariantCache {
  private readonly map = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.map.get(key);
  }
  async set(key: string, variant: string): Promise<void> {
    this.map.set(key, variant);
  }
}

/** For the whole process where the caller gives no cache: a second device on one adapter is not re-timed. */
const processCache = new MemoryVariantCache();

/**
 * The cache key of an adapter. The version names the kernels' generation: bump it when a kernel changes in a way
 * that could change which variant wins, and every adapter is timed again.
 */
export const variantCacheKey = (a: AdapterIdentity | null): string =>
  `matmul-v8|${a?.vendor ?? ''}|${a?.architecture ?? ''}|${a?.description ?? ''}`;

/** The adapter a device was opened on, where the implementation tells (GPUDevice.adapterInfo). */
export function deviceAdapter(device: GPUDevice): AdapterIdentity | null {
  // GPUDevice.adapterInfo is recent (Chrome 131, Dawn's Node package); older browsers lack it.
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info ? { vendor: info.vendor, architecture: info.architecture, description: info.description } : null;
}

/**
 * The variant SwiftShader runs best (measured: docs/kernel-notes.md, "dW products as nn"): the 16×16 kernels, the dW
 * products on nn over the output gradient transposed, whose tn kernel is its slowest.
 */
export const SOFTWARE_VARIANT = matmulVariantByName('vec4-reg16x16+nndW');
/** Before timing, on a GPU: register blocks that do not spill on GPUs. */
const GPU_DEFAULT_VARIANT = matmulVariantByName('vec4-reg8x8');

/**
 * The variant to use without timing (tests, tools that do not time): SOFTWARE_VARIANT on SwiftShader, vec4-reg8x8
 * elsewhere. The lab and the benchmark pass chooseMatmulVariant's choice to GpuModel instead.
 */
export function presetMatmulVariant(adapter: AdapterIdentity | null): MatmulVariant {
  return adapter && isSwiftShader(adapter) ? SOFTWARE_VARIANT : GPU_DEFAULT_VARIANT;
}

export interface VariantChoice {
  variant: MatmulVariant;
  /** How it was chosen: known for this adapter kind, read from the cache, or timed now (then `timings`). */
  source: 'known' | 'cached' | 'timed';
  timings: VariantTiming[];
}

export interface VariantTiming {
  variant: string;
  /**
   * Milliseconds for the forward, dinp and dW products of the probe's Linear and of its lm_head, each forward after
   * its LayerNorm (fused into it by the +ln variants).
   */
  ms: number;
}

/**
 * Pick the matmul variant for this device before any GpuModel is built on it: on SwiftShader the known winner
 * without timing; elsewhere the cached choice for this adapter, or, the first time, each of timedVariants timed on a
 * Linear's three products and an lm_head's (`probe`: rows × width, wall time over a few submissions after a
 * warm-up) and the fastest kept in the cache.
 */
export async function chooseMatmulVariant(
  device: GPUDevice,
  adapter: AdapterIdentity | null = deviceAdapter(device),
  options: { cache?: VariantCache; probe?: { rows: number; width: number; repeats: number } } = {},
): Promise<VariantChoice> {
  const set = (
    variant: MatmulVariant,
    source: VariantChoice['source'],
    timings: VariantTiming[] = [],
  ): VariantChoice => ({ variant, source, timings });
  if (adapter && isSwiftShader(adapter)) return set(SOFTWARE_VARIANT, 'known');
  const cache = options.cache ?? processCache;
  const key = variantCacheKey(adapter);
  // A cache that cannot be read (storage blocked, quota) only costs the timing.
  const cached = await cache.get(key).catch(() => undefined);
  const candidates = timedVariants(adapter);
  const hit = candidates.find((v) => v.name === cached);
  if (hit) return set(hit, 'cached');
  const { rows, width, repeats } = options.probe ?? { rows: 1024, width: 256, repeats: 3 };
  const timings = await timeVariants(device, candidates, rows, width, repeats);
  const best = candidates.find((v) => v.name === timings.reduce((x, y) => (y.ms < x.ms ? y : x)).variant)!;
  await cache.set(key, best.name).catch(() => undefined);
  return set(best, 'timed', timings);
}

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
 * The dispatches of one product C (M,N) = op(A)·op(B) under variant v as the model records them (model-ops.ts,
 * matmulOp and weightGrad), for the timing probe and the benchmark: the transposes into scratch (operandTransposes)
 * first; a split variant's dW product as its slices into a scratch, then their sum into C. `alloc` makes the
 * scratch and the uniform blocks (u32 fields in order). `slices` forces a dW product's split (tests). `storage`: how
 * A, B, C and aux hold their values (an activation kept in f16: activation-storage.ts); a transposed copy is f32.
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
  let { a, b } = bufs;
  const { bias, c, aux } = bufs;
  const S = slices;
  const L = lanes.lanes;
  if (S > 1) {
    // With biasGrad, aux is the bias gradient: the slices' column sums go to a scratch of their own that the reduce
    // adds into it. Stacked, each lane's partials are S·M·N floats after the last's, and its bias sums S·M.
    const split = matmulSplitK(f, M, N, K, v, S, storage, lanes);
    const scratch = alloc.storage(Math.max(4, split.scratch));
    const biasScratch = alloc.storage(Math.max(4, split.biasScratch));
    return [
      kernels.dispatch(
        split.partial.def,
        [
          alloc.uniform(...fieldValues(MATMUL_DIMS, split.partial.dims)),
          a,
          b,
          bias,
          scratch,
          f.biasGrad ? biasScratch : aux,
        ],
        split.partial.workgroups,
      ),
      kernels.dispatch(
        split.reduce.def,
        [alloc.uniform(...fieldValues(SPLITK_REDUCE_DIMS, split.reduce.dims)), scratch, biasScratch, c, aux],
        split.reduce.workgroups,
      ),
    ];
  }
  const list: Dispatch[] = [];
  // A transposed operand's copy: each lane's rows·cols floats after the last's, whatever its stride in the source.
  const transpose = (src: GPUBuffer, [rows, cols]: Shape2, stored: StorageType, srcLane: number): GPUBuffer => {
    const dst = alloc.storage(Math.max(4, L * rows * cols));
    const t = transposeKernel(rows, cols, stored, L);
    list.push(kernels.dispatch(t.def, [alloc.uniform(rows, cols, srcLane), src, dst], t.workgroups));
    return dst;
  };
  const t = operandTransposes(f, M, N, K, v);
  let st = storage;
  if (t) {
    a = transpose(a, t.a, st.a, lanes.a);
    st = { ...st, a: 'f32' };
    if (t.b) {
      b = transpose(b, t.b, st.b, lanes.b);
      st = { ...st, b: 'f32' };
    }
  }
  const { def, workgroups } = matmulKernel(f, M, N, K, v, st, L);
  const dims = matmulDims(M, N, K, t ? transposedLanes(lanes, t) : lanes);
  list.push(kernels.dispatch(def, [alloc.uniform(...fieldValues(MATMUL_DIMS, dims)), a, b, bias, c, aux], workgroups));
  return list;
}
