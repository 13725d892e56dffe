// Matmul kernel variants and the choice between them per adapter. A variant says which kernels compute a Linear's
// three products (src/engine/kernels/, matmulKernel): the vec4 register-blocked kernels where the shapes allow
// (shaders/matmul_vec4.wgsl) or not, and the general kernel for every other shape — the scalar register-blocked one
// (shaders/matmul.wgsl) or the shared-memory tiled one (shaders/matmul_tiled.wgsl).
//
// Software adapters (SwiftShader) gather every loaded float lane by lane and execute workgroup barriers very
// slowly, so the register-blocked vec4 kernels win there (bench/README.md has the figures); GPUs reward shared
// memory. The choice is known for the two CPU adapters the lab meets (SwiftShader, lavapipe) and timed once per adapter
// elsewhere; autotune.ts keeps it, with the adapter's other kernel choices, so that later runs on that adapter skip
// the timing.

export * from './adapter';
import { deviceAdapter, isCpuAdapter, isLavapipe, isSwiftShader, type AdapterIdentity } from './adapter';
import { timeVariants } from './matmul-probe';

export { probeAllocator, productDispatches, timeVariants } from './matmul-probe';

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

/**
 * Every variant, each with why it is kept: chosen by an adapter (SwiftShader, lavapipe, an H200: docs/kernel-notes.md,
 * "Which matmul variant won where"), or never timed on a GPU yet, which the timing on the first GPU decides.
 */
export const MATMUL_VARIANTS: MatmulVariant[] = [
  // lavapipe's and SwiftShader's choice before the tn and nn forms; the base the other 16×16 variants vary.
  { name: 'vec4-reg16x16', vec4: 16, general: 'reg4x4' },
  // Before timing on a GPU (presetMatmulVariant): 8×8 register blocks do not spill there.
  { name: 'vec4-reg8x8', vec4: 8, general: 'reg4x4' },
  // Chosen on the H200 (0.41 ms for the probe against 0.65–2.12 for the rest).
  { name: 'tiled64', vec4: false, general: 'tiled64' },
  // The scalar baseline: every product on one kernel (the benchmark's reference; the tests' unfused path).
  { name: 'reg4x4', vec4: false, general: 'reg4x4' },
  // Split-K (three bases) and LayerNorm fusion (two): for GPUs, and not yet timed on one.
  { name: 'vec4-reg8x8+splitK', vec4: 8, general: 'reg4x4', splitK: SPLIT_K },
  { name: 'vec4-reg8x8+tiled64+splitK', vec4: 8, general: 'tiled64', splitK: SPLIT_K },
  { name: 'tiled64+splitK', vec4: false, general: 'tiled64', splitK: SPLIT_K },
  { name: 'tiled64+ln', vec4: false, general: 'tiled64', fuseLayerNorm: true },
  { name: 'tiled64+splitK+ln', vec4: false, general: 'tiled64', splitK: SPLIT_K, fuseLayerNorm: true },
  // lavapipe's runner-up (101 ms against 71); the tn form at 8×8, for an adapter whose 16×16 blocks spill.
  { name: 'vec4-reg8x8+tn', vec4: 8, general: 'reg4x4', tnOnly: true },
  // Chosen on lavapipe (known there: LAVAPIPE_VARIANT).
  { name: 'vec4-reg16x16+tn', vec4: 16, general: 'reg4x4', tnOnly: true, loadsFirst: true },
  // Chosen on SwiftShader (known there: SOFTWARE_VARIANT).
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

/**
 * The variants timed on an adapter. A CPU adapter (other than SwiftShader and lavapipe, whose choices are known) has
 * a few cores, which the unsplit kernels already fill
 * (fitWorkgroup), so it times only those: split-K would add a reduce pass for parallelism it cannot use, and on
 * lavapipe the probe put split and unsplit within its run-to-run noise (158 against 175 ms one run, the reverse
 * order another), so timing them there would only let noise pick an extra pass and lengthen the first step. Nor the
 * +ln variants: they fuse LayerNorm into the tiled kernel, on which lavapipe trains at a quarter of its chosen
 * variant's rate (docs/kernel-notes.md, "LayerNorm fused into the tiled matmul").
 */
export const timedVariants = (a: AdapterIdentity | null): MatmulVariant[] =>
  a && isCpuAdapter(a) ? MATMUL_VARIANTS.filter((v) => !v.splitK && !v.fuseLayerNorm) : MATMUL_VARIANTS;

/**
 * The variant SwiftShader runs best (measured: docs/kernel-notes.md, "dW products as nn"): the 16×16 kernels, the dW
 * products on nn over the output gradient transposed, whose tn kernel is its slowest.
 */
export const SOFTWARE_VARIANT = matmulVariantByName('vec4-reg16x16+nndW');
/**
 * The variant lavapipe runs best, timed there on every probe since 2026-12-01 (docs/kernel-notes.md, "Every product
 * as tn": 71 ms against 101 for the runner-up): known, so that its first run does not compile every variant to time it.
 */
export const LAVAPIPE_VARIANT = matmulVariantByName('vec4-reg16x16+tn');
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
  /** How it was chosen: known for this adapter kind, the cached name, or timed now (then `timings`). */
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
 * Pick the matmul variant for this device before any GpuModel is built on it: on SwiftShader and lavapipe the known
 * winner without timing; elsewhere `cached` (the name autotune.ts kept for this adapter) where it names one of
 * timedVariants, or each of them timed on a Linear's three products and an lm_head's (`probe`: rows × width, wall
 * time over a few submissions after a warm-up) and the fastest taken.
 */
export async function chooseMatmulVariant(
  device: GPUDevice,
  adapter: AdapterIdentity | null = deviceAdapter(device),
  options: { cached?: string; probe?: { rows: number; width: number; repeats: number } } = {},
): Promise<VariantChoice> {
  const set = (
    variant: MatmulVariant,
    source: VariantChoice['source'],
    timings: VariantTiming[] = [],
  ): VariantChoice => ({ variant, source, timings });
  if (adapter && isSwiftShader(adapter)) return set(SOFTWARE_VARIANT, 'known');
  if (adapter && isLavapipe(adapter)) return set(LAVAPIPE_VARIANT, 'known');
  const candidates = timedVariants(adapter);
  const hit = candidates.find((v) => v.name === options.cached);
  if (hit) return set(hit, 'cached');
  const { rows, width, repeats } = options.probe ?? { rows: 1024, width: 256, repeats: 3 };
  const timings = await timeVariants(device, candidates, rows, width, repeats);
  const best = candidates.find((v) => v.name === timings.reduce((x, y) => (y.ms < x.ms ? y : x)).variant)!;
  return set(best, 'timed', timings);
}
