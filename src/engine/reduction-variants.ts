// Reduction variants and the choice between them per adapter. A variant says how the row reductions of LayerNorm
// (forward, dinput, and dparams' column sums), of the fused cross-entropy and of attention's forward (its softmax)
// run (src/engine/kernels/, layernormKernels, crossentropyKernel and attentionKernels): one invocation per row
// (or block of rows) looping over it (shaders/layernorm_forward.wgsl, …), which needs nothing of the device, or one
// workgroup per row reducing with subgroup operations (shaders/*_subgroup.wgsl), which needs the optional
// 'subgroups' feature. It also says how the loss and the gradient norm sum their chunks (kernels.ts,
// reducePartials): one invocation per chunk without barriers under 'thread', a workgroup tree under 'subgroup'.
//
// With N = B·T ≈ 2,000 rows, one invocation per row leaves most of a GPU idle; a CPU adapter, whose invocations
// are SIMD lanes of a few cores, may still prefer it (no barriers). So without subgroups the choice is 'thread';
// on SwiftShader and lavapipe it is known ('thread'); with them elsewhere both are timed once per adapter, and autotune.ts keeps
// the result with the adapter's other kernel choices.
import { KernelCache, timeSubmission, uniformData } from './pipelines';
import { NO_COLUMN } from './uniforms';
import {
  attentionKernels,
  crossentropyKernel,
  layernormKernels,
  REDUCE_CHUNK,
  REDUCE_FINALIZE_GRID,
  reduceKernel,
  reducePartials,
} from './kernels';
import { deviceAdapter, isLavapipe, isSwiftShader, type AdapterIdentity } from './adapter';
import type { VariantTiming } from './matmul-variants';

export interface ReductionVariant {
  name: string;
  /**
   * One invocation per row ('thread'; attention's vec4 forward: per 4 query rows), or one workgroup per row with
   * subgroup reductions ('subgroup'). The first stage of the loss and gradient-norm sums follows: one invocation per
   * chunk, no barriers ('thread'), or a workgroup per chunk summing in a tree ('subgroup').
   */
  rows: 'thread' | 'subgroup';
}

export const THREAD_ROWS: ReductionVariant = { name: 'thread-rows', rows: 'thread' };
export const SUBGROUP_ROWS: ReductionVariant = { name: 'subgroup-rows', rows: 'subgroup' };
export const REDUCTION_VARIANTS: ReductionVariant[] = [THREAD_ROWS, SUBGROUP_ROWS];

/** Whether the device was opened with the 'subgroups' feature (acquireGpu asks for it where the adapter has it). */
export const hasSubgroups = (device: GPUDevice): boolean => device.features.has('subgroups');

/** The variants this device can run: THREAD_ROWS always, SUBGROUP_ROWS with the 'subgroups' feature. */
export const reductionVariantsFor = (device: GPUDevice): ReductionVariant[] =>
  hasSubgroups(device) ? REDUCTION_VARIANTS : [THREAD_ROWS];

/** The sequence length of the attention forward that timeReductionVariants times (the presets' block sizes are 32–64). */
const ATTENTION_PROBE_T = 32;

export interface ReductionChoice {
  variant: ReductionVariant;
  /** How it was chosen: no subgroups on this device, known (SwiftShader, lavapipe), the cached name, or timed now (then `timings`). */
  source: 'unavailable' | 'known' | 'cached' | 'timed';
  timings: VariantTiming[];
}

/**
 * Pick the reduction variant for this device: THREAD_ROWS without the 'subgroups' feature; else `cached` (the name
 * autotune.ts kept for this adapter) where it names a variant, or both variants timed on a LayerNorm forward and
 * backward, a cross-entropy and an attention forward (`probe`: rows × width, over a vocabulary of `vocab`; see
 * timeReductionVariants) and the faster taken.
 */
export async function chooseReductionVariant(
  device: GPUDevice,
  adapter: AdapterIdentity | null = deviceAdapter(device),
  options: { cached?: string; probe?: { rows: number; width: number; vocab: number; repeats: number } } = {},
): Promise<ReductionChoice> {
  if (!hasSubgroups(device)) return { variant: THREAD_ROWS, source: 'unavailable', timings: [] };
  // Measured (bench/README.md): SwiftShader runs the subgroup kernels 5–50× slower (its barriers are very slow), so
  // its choice is known, and the page's first run there does not spend seconds timing both.
  if (adapter && isSwiftShader(adapter)) return { variant: THREAD_ROWS, source: 'known', timings: [] };
  // lavapipe: one thread per row, 11.0 ms against 51.4 for the subgroup kernels on the probe (docs/kernel-notes.md).
  if (adapter && isLavapipe(adapter)) return { variant: THREAD_ROWS, source: 'known', timings: [] };
  const hit = REDUCTION_VARIANTS.find((v) => v.name === options.cached);
  if (hit) return { variant: hit, source: 'cached', timings: [] };
  const { rows, width, vocab, repeats } = options.probe ?? { rows: 2048, width: 256, vocab: 64, repeats: 3 };
  const timings = await timeReductionVariants(device, REDUCTION_VARIANTS, rows, width, vocab, repeats);
  const fastest = timings.reduce((x, y) => (y.ms < x.ms ? y : x)).variant;
  const best = REDUCTION_VARIANTS.find((v) => v.name === fastest)!;
  return { variant: best, source: 'timed', timings };
}

/**
 * Time variants on a LayerNorm over rows × width (forward, and backward: dinput and dparams), a cross-entropy over rows × vocab, an
 * attention forward over the same rows as sequences of ATTENTION_PROBE_T with heads of 32, and a gradient norm over
 * rows × width values (wall time of the dispatches, the fastest of `repeats` submissions after a warm-up). Allocates its own buffers and destroys them.
 */
export async function timeReductionVariants(
  device: GPUDevice,
  variants: ReductionVariant[],
  rows: number,
  width: number,
  vocab: number,
  repeats: number,
): Promise<VariantTiming[]> {
  const kernels = KernelCache.of(device);
  const made: GPUBuffer[] = [];
  const buffer = (data: Float32Array | Int32Array | ArrayBuffer, usage: number) => {
    const bytes = data instanceof ArrayBuffer ? data : (data.buffer as ArrayBuffer);
    const b = device.createBuffer({ size: Math.max(16, bytes.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, bytes);
    made.push(b);
    return b;
  };
  const storage = (floats: number) =>
    buffer(
      new Float32Array(floats).map((_, i) => ((i * 7919) % 13) / 13 - 0.5),
      GPUBufferUsage.STORAGE,
    );
  const N = rows;
  const C = width;
  const V = vocab;
  const lnUniform = buffer(uniformData({ u32: [N, C] }), GPUBufferUsage.UNIFORM);
  // Rows of V: no pad; one head, none of them soft.
  const ceUniform = buffer(
    uniformData({ u32: [N, V, V, 1, N * V, NO_COLUMN, 1, NO_COLUMN], f32: [0] }),
    GPUBufferUsage.UNIFORM,
  );
  const [inp, w, b, out, mean, rstd, dout, dinp, dw, db] = [N * C, C, C, N * C, N, N, N * C, N * C, C, C].map(storage);
  // The cross-entropy writes its gradient over the logits, so later repeats see other (finite) values: no matter.
  const logits = storage(N * V);
  const targets = buffer(
    Int32Array.from({ length: N }, (_, i) => (i * 31) % V),
    GPUBufferUsage.STORAGE,
  );
  const weights = buffer(new Float32Array(N).fill(1 / N), GPUBufferUsage.STORAGE);
  const losses = storage(N);
  // Attention: rows = B·T tokens of width C in heads of 32 (the presets' head size), causal.
  const aT = ATTENTION_PROBE_T;
  const aB = Math.max(1, Math.floor(N / aT));
  const aNH = Math.max(1, Math.floor(C / 32));
  const aC = 32 * aNH;
  const attUniform = buffer(
    uniformData({ u32: [aB, aT, aC, aNH, 1], f32: [1 / Math.sqrt(32)] }),
    GPUBufferUsage.UNIFORM,
  );
  const [qkv, att, atty] = [aB * aT * 3 * aC, aB * aNH * aT * aT, aB * aT * aC].map(storage);
  // The loss's sum over the N rows' losses, and a gradient norm over as many values as the LayerNorm's rows × width
  // (2048 × 256: a mid-sized model's parameters).
  const P = N * C;
  const sumUniform = buffer(uniformData({ u32: [N, P, REDUCE_CHUNK, 0, 4], f32: [1] }), GPUBufferUsage.UNIFORM);
  const [lossPartials, partials, stats] = [Math.ceil(N / REDUCE_CHUNK), Math.ceil(P / REDUCE_CHUNK), 16].map(storage);
  const sumBinds = [sumUniform, losses, dinp!, lossPartials!, partials!, stats!];
  const result: VariantTiming[] = [];
  for (const v of variants) {
    const ln = layernormKernels(N, C, v);
    const back = [dout!, inp!, w!, mean!, rstd!, dinp!, dw!, db!];
    const [ce, ceGrid] = crossentropyKernel(N, v);
    const list = [
      kernels.dispatch(ln.forward[0], [lnUniform, inp!, w!, b!, out!, mean!, rstd!], ln.forward[1]),
      kernels.dispatch(ln.backward[0], [lnUniform, ...back], ln.backward[1]),
      kernels.dispatch(ce, [ceUniform, logits, targets, weights, losses, weights], ceGrid), // soft: unread
      ...attentionKernels(aB, aT, aC, aNH, v).forward.map(([def, wg]) =>
        kernels.dispatch(def, [attUniform, qkv!, att!, atty!], wg),
      ),
      ((partial) => kernels.dispatch(partial[0], sumBinds, partial[1]))(reducePartials(N, P, v)),
      kernels.dispatch(reduceKernel('finalize'), sumBinds, REDUCE_FINALIZE_GRID),
    ];
    result.push({ variant: v.name, ms: await timeSubmission(device, list, repeats) });
  }
  for (const x of made) x.destroy();
  return result;
}
