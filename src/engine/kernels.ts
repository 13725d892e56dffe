// Every kernel of the model, declared once: WGSL source, entry point, binding kinds. The GPU model and the kernel
// tests both bind these, so a test exercises exactly the pipeline that training runs. A kernel's source is composed
// here from the shared pieces in shaders/common/ and its own file (composeWgsl): the 1-D kernels' thread index and
// workgroup size, the attention kernels' uniform and bindings, the matmul kernels' bindings and epilogues.
import adamwWgsl from '../../shaders/adamw.wgsl?raw';
import attentionBackwardWgsl from '../../shaders/attention_backward.wgsl?raw';
import attentionBackwardVec4Wgsl from '../../shaders/attention_backward_vec4.wgsl?raw';
import attentionForwardWgsl from '../../shaders/attention_forward.wgsl?raw';
import attentionForwardSubgroupWgsl from '../../shaders/attention_forward_subgroup.wgsl?raw';
import attentionForwardVec4Wgsl from '../../shaders/attention_forward_vec4.wgsl?raw';
import attentionBackwardBindingsWgsl from '../../shaders/common/attention_backward_bindings.wgsl?raw';
import attentionForwardBindingsWgsl from '../../shaders/common/attention_forward_bindings.wgsl?raw';
import attentionPrologueWgsl from '../../shaders/common/attention_prologue.wgsl?raw';
import geluWgsl from '../../shaders/common/gelu.wgsl?raw';
import grid1dWgsl from '../../shaders/common/grid1d.wgsl?raw';
import matmulPrologueWgsl from '../../shaders/common/matmul_prologue.wgsl?raw';
import crossentropyBindingsWgsl from '../../shaders/common/crossentropy_bindings.wgsl?raw';
import layernormBackwardBindingsWgsl from '../../shaders/common/layernorm_backward_bindings.wgsl?raw';
import layernormForwardBindingsWgsl from '../../shaders/common/layernorm_forward_bindings.wgsl?raw';
import lanesWgsl from '../../shaders/common/lanes.wgsl?raw';
import rowReduceWgsl from '../../shaders/common/row_reduce.wgsl?raw';
import crossentropyWgsl from '../../shaders/crossentropy.wgsl?raw';
import crossentropySubgroupWgsl from '../../shaders/crossentropy_subgroup.wgsl?raw';
import encoderBackwardWgsl from '../../shaders/encoder_backward.wgsl?raw';
import encoderForwardWgsl from '../../shaders/encoder_forward.wgsl?raw';
import layernormBackwardWgsl from '../../shaders/layernorm_backward.wgsl?raw';
import layernormBackwardSubgroupWgsl from '../../shaders/layernorm_backward_subgroup.wgsl?raw';
import layernormForwardWgsl from '../../shaders/layernorm_forward.wgsl?raw';
import layernormForwardSubgroupWgsl from '../../shaders/layernorm_forward_subgroup.wgsl?raw';
import matmulWgsl from '../../shaders/matmul.wgsl?raw';
import matmulTiledWgsl from '../../shaders/matmul_tiled.wgsl?raw';
import matmulTiledLayernormWgsl from '../../shaders/matmul_tiled_layernorm.wgsl?raw';
import matmulTiledPlainWgsl from '../../shaders/common/matmul_tiled_plain.wgsl?raw';
import matmulVec4Wgsl from '../../shaders/matmul_vec4.wgsl?raw';
import matmulVec4x16Wgsl from '../../shaders/matmul_vec4_16.wgsl?raw';
import matmulVec4x16LoadsFirstWgsl from '../../shaders/matmul_vec4_16_loads_first.wgsl?raw';
import matmulSplitKReduceWgsl from '../../shaders/matmul_splitk_reduce.wgsl?raw';
import reduceWgsl from '../../shaders/reduce.wgsl?raw';
import residualWgsl from '../../shaders/residual.wgsl?raw';
import transposeWgsl from '../../shaders/transpose.wgsl?raw';
import { composeWgsl, grid1d, grid1dParts, WG, type BindingKind, type KernelDef } from './pipelines';
import { align } from '../model/params';
import type { MatmulVariant } from './matmul-variants';
import type { ReductionVariant } from './reduction-variants';
import type { MATMUL_DIMS, SPLITK_REDUCE_DIMS, UniformValues } from './uniforms';

/** A uniform, then `reads` read-only and `writes` read-write storage buffers: a kernel's bindings in order. */
const bindings = (reads: number, writes: number): BindingKind[] => [
  'uniform',
  ...Array<BindingKind>(reads).fill('read'),
  ...Array<BindingKind>(writes).fill('rw'),
];

/** A kernel on grid1d's grid: its source after the thread index (shaders/common/grid1d.wgsl), its workgroup WG. */
const onGrid1d = (label: string, code: string, entryPoint: string, bindings: BindingKind[]): KernelDef => ({
  label,
  code: composeWgsl(grid1dWgsl, code),
  entryPoint,
  bindings,
  constants: { WG },
});

/**
 * Invocations per row of the subgroup kernels (shaders/common/row_reduce.wgsl): one or more whole subgroups on
 * every adapter (subgroup sizes are powers of two), and enough lanes to cover a row of C = 64 in one pass.
 */
export const ROW_WG = 64;

/**
 * A kernel with one workgroup of ROW_WG invocations per row, reducing with subgroup operations: its source after
 * the row reductions (shaders/common/row_reduce.wgsl, which enables `subgroups`) and the op's bindings.
 */
const onRows = (label: string, prologue: string, code: string, entryPoint: string, bindings: BindingKind[]) => ({
  label,
  code: composeWgsl(rowReduceWgsl, prologue, code),
  entryPoint,
  bindings,
  constants: { ROW_WG },
});

/** Workgroup counts for one workgroup per row: rows past maxPerDim spill into y (row_index in row_reduce.wgsl). */
export function gridRows(rows: number, maxPerDim = 65535): [number, number, number] {
  const n = Math.max(1, rows);
  if (n <= maxPerDim) return [n, 1, 1];
  return [maxPerDim, Math.ceil(n / maxPerDim), 1];
}

/**
 * The element R in which a row-wise 1-D kernel (LayerNorm, the embedding, the bias gradient) reads its (·,C) and (C)
 * arrays: f32, or vec4f where the width is a multiple of 4, which reads a row in C/4 loads (software adapters pay per
 * load). R_LANES is its floats, total() the sum of its lanes; the kernels index W = C / R_LANES elements per row.
 */
const rowElement = (R: 'f32' | 'vec4f') =>
  R === 'vec4f'
    ? 'alias R = vec4f;\nconst R_LANES = 4u;\nfn total(x: R) -> f32 { return dot(x, vec4f(1.0)); }'
    : 'alias R = f32;\nconst R_LANES = 1u;\nfn total(x: R) -> f32 { return x; }';
/** A row-wise kernel's source in both forms: after the f32 row element, and after the vec4f one. */
const overRowElement = (...parts: string[]) => ({
  f32: composeWgsl(rowElement('f32'), ...parts),
  vec4: composeWgsl(rowElement('vec4f'), ...parts),
});
const LAYERNORM_FORWARD = overRowElement(lanesWgsl, layernormForwardBindingsWgsl, layernormForwardWgsl);
const LAYERNORM_BACKWARD = overRowElement(lanesWgsl, layernormBackwardBindingsWgsl, layernormBackwardWgsl);
const ENCODER_FORWARD = overRowElement(lanesWgsl, encoderForwardWgsl);
const ENCODER_BACKWARD = overRowElement(lanesWgsl, encoderBackwardWgsl);

/**
 * Stacked lanes for the row-wise kernels (LayerNorm, the embedding) and the optimizer's: `lanes` models of one
 * shape whose rows are stacked along the batch, `rows` (B·T) each, and whose parameters and gradients lie `params`
 * floats apart (one parameter table each); their step statistics `stats` floats apart (shaders/common/lanes.wgsl,
 * reduce.wgsl, adamw.wgsl). The matmuls take theirs per product (LaneStrides).
 */
export interface RowLanes {
  lanes: number;
  rows: number;
  params: number;
  stats: number;
}
export const ONE_ROW_LANE: RowLanes = { lanes: 1, rows: 0, params: 0, stats: 0 };

/** A kernel with the stacked lanes' pipeline constants (its own, unchanged, for one lane). */
function withLanes(def: KernelDef, l: RowLanes, names: ('LANE_ROWS' | 'LANE_PARAMS' | 'LANE_STATS')[]): KernelDef {
  if (l.lanes === 1) return def;
  const values = { LANE_ROWS: l.rows, LANE_PARAMS: l.params, LANE_STATS: l.stats };
  if (l.params % 4 !== 0) throw new Error(`stacked lanes: ${l.params} floats per lane is not a multiple of 4`);
  const constants = Object.fromEntries(names.map((n) => [n, values[n]]));
  return { ...def, constants: { ...def.constants, ...constants } };
}
/** A row-wise kernel (shaders/common/lanes.wgsl) with the stacked lanes' rows and parameters. */
const withRowLanes = (def: KernelDef, l: RowLanes): KernelDef => withLanes(def, l, ['LANE_ROWS', 'LANE_PARAMS']);

/**
 * Threads per workgroup of the vec4 column sums (LayerNorm's dparams): they have one thread per 4 columns, as few
 * as 16 or 32 at the presets' widths, and a CPU adapter runs each workgroup on one core, so their workgroups are
 * small enough that those threads still spread over several. (On a GPU they are among a step's smallest kernels
 * either way; the subgroup LayerNorm, where chosen, has its own grid.) The vec4 LayerNorm backward, whose dispatch
 * also takes dinput's rows, runs those on the same small workgroups.
 */
export const COLUMN_WG = 8;

/** A 1-D kernel with COLUMN_WG threads per workgroup (see there), and its workgroup counts for `threads`. */
const onColumns = (label: string, code: string, entryPoint: string, bindings: BindingKind[]): KernelDef => ({
  ...onGrid1d(label, code, entryPoint, bindings),
  constants: { WG: COLUMN_WG },
});
export const gridColumns = (threads: number): [number, number, number] => [
  Math.max(1, Math.ceil(threads / COLUMN_WG)),
  1,
  1,
];
const CROSSENTROPY = composeWgsl(crossentropyBindingsWgsl, crossentropyWgsl);

/** An attention kernel's source over H, the element along the head dimension (vec4f where hs % 4 == 0). */
const attention = (H: 'f32' | 'vec4f', bindings: string, code: string) =>
  composeWgsl(attentionPrologueWgsl, `alias H = ${H};`, bindings, code);
const ATTENTION_FORWARD = attention('f32', attentionForwardBindingsWgsl, attentionForwardWgsl);
const ATTENTION_BACKWARD = attention('f32', attentionBackwardBindingsWgsl, attentionBackwardWgsl);
const ATTENTION_FORWARD_VEC4 = attention('vec4f', attentionForwardBindingsWgsl, attentionForwardVec4Wgsl);
const ATTENTION_BACKWARD_VEC4 = attention('vec4f', attentionBackwardBindingsWgsl, attentionBackwardVec4Wgsl);

export const KERNELS = {
  encoderForward: onGrid1d('encoder_forward', ENCODER_FORWARD.f32, 'main', bindings(3, 1)),
  encoderBackward: onGrid1d('encoder_backward', ENCODER_BACKWARD.f32, 'backward', bindings(2, 2)),
  layernormForward: onGrid1d('layernorm_forward', LAYERNORM_FORWARD.f32, 'main', bindings(3, 3)),
  layernormBackward: onGrid1d('layernorm_backward', LAYERNORM_BACKWARD.f32, 'backward', bindings(5, 3)),
  // The same ops for C % 4 == 0, over vec4s: see encoderForwardKernel, encoderBackwardKernel and layernormKernels,
  // which choose by shape.
  encoderForwardVec4: onGrid1d('encoder_forward_vec4', ENCODER_FORWARD.vec4, 'main', bindings(3, 1)),
  encoderBackwardVec4: onGrid1d('encoder_backward_vec4', ENCODER_BACKWARD.vec4, 'backward', bindings(2, 2)),
  layernormForwardVec4: onGrid1d('layernorm_forward_vec4', LAYERNORM_FORWARD.vec4, 'main', bindings(3, 3)),
  layernormBackwardVec4: onColumns('layernorm_backward_vec4', LAYERNORM_BACKWARD.vec4, 'backward', bindings(5, 3)),
  attentionForward: onGrid1d('attention_forward', ATTENTION_FORWARD, 'main', bindings(1, 2)),
  attentionDscores: onGrid1d('attention_backward', ATTENTION_BACKWARD, 'dscores', bindings(3, 2)),
  attentionDqkv: onGrid1d('attention_backward', ATTENTION_BACKWARD, 'dqkv_main', bindings(3, 2)),
  // The same ops for hs % 4 == 0, read as vec4 with register tiles (same bindings; see attention*_vec4.wgsl).
  attentionForwardVec4: onGrid1d('attention_forward_vec4', ATTENTION_FORWARD_VEC4, 'main', bindings(1, 2)),
  attentionDscoresVec4: onGrid1d('attention_backward_vec4', ATTENTION_BACKWARD_VEC4, 'dscores', bindings(3, 2)),
  attentionDqkvVec4: onGrid1d('attention_backward_vec4', ATTENTION_BACKWARD_VEC4, 'dqkv_main', bindings(3, 2)),
  residualAccumulate: onGrid1d('residual', residualWgsl, 'accumulate', bindings(2, 1)),
  crossentropy: onGrid1d('crossentropy', CROSSENTROPY, 'main', ['uniform', 'rw', 'read', 'read', 'rw']),
  adamw: onGrid1d('adamw', adamwWgsl, 'main', ['uniform', 'rw', 'read', 'rw', 'rw', 'read', 'read']),
} satisfies Record<string, KernelDef>;

/**
 * The same LayerNorm, cross-entropy and attention forward ops with one workgroup per row (per column for dparams;
 * per query row for attention), reduced with subgroup operations; same bindings and uniforms. Only for a device
 * with the 'subgroups' feature.
 */
export const SUBGROUP_KERNELS = {
  layernormForward: onRows(
    'layernorm_forward_subgroup',
    composeWgsl(rowElement('f32'), lanesWgsl, layernormForwardBindingsWgsl),
    layernormForwardSubgroupWgsl,
    'main',
    bindings(3, 3),
  ),
  layernormBackward: onRows(
    'layernorm_backward_subgroup',
    composeWgsl(rowElement('f32'), lanesWgsl, layernormBackwardBindingsWgsl),
    layernormBackwardSubgroupWgsl,
    'backward',
    bindings(5, 3),
  ),
  crossentropy: onRows('crossentropy_subgroup', crossentropyBindingsWgsl, crossentropySubgroupWgsl, 'main', [
    'uniform',
    'rw',
    'read',
    'read',
    'rw',
  ]),
  attentionForward: onRows(
    'attention_forward_subgroup',
    composeWgsl(attentionPrologueWgsl, 'alias H = f32;', attentionForwardBindingsWgsl),
    attentionForwardSubgroupWgsl,
    'main',
    bindings(1, 2),
  ),
} satisfies Record<string, KernelDef>;

/**
 * LayerNorm's kernels over N rows of width C under variant v, with their workgroup counts: forward (N,C), and the
 * backward's two halves in one dispatch (dparams' column sums in the first workgroups, dinput's rows after them;
 * shaders/layernorm_backward*.wgsl). They read the same inputs and write different outputs, so one dispatch does
 * both: a GPU pays for a dispatch and its barrier whatever the work in it.
 */
export function layernormKernels(
  N: number,
  C: number,
  v: ReductionVariant,
  l: RowLanes = ONE_ROW_LANE,
): Record<'forward' | 'backward', [KernelDef, [number, number, number]]> {
  // Stacked: N counts every lane's rows; the column sums are per lane (L·C of them).
  const L = l.lanes;
  if (L > 1 && N !== L * l.rows) throw new Error(`LayerNorm over ${N} rows: not ${L} lanes of ${l.rows}`);
  if (v.rows === 'subgroup') {
    return {
      forward: [withRowLanes(SUBGROUP_KERNELS.layernormForward, l), gridRows(N)],
      backward: [withRowLanes(SUBGROUP_KERNELS.layernormBackward, l), gridRows(L * C + N)],
    };
  }
  if (C % 4 === 0) {
    return {
      forward: [withRowLanes(KERNELS.layernormForwardVec4, l), grid1d(N)],
      backward: [withRowLanes(KERNELS.layernormBackwardVec4, l), grid1dParts((L * C) / 4, N, COLUMN_WG)],
    };
  }
  return {
    forward: [withRowLanes(KERNELS.layernormForward, l), grid1d(N)],
    backward: [withRowLanes(KERNELS.layernormBackward, l), grid1dParts(L * C, N)],
  };
}

/** The embedding's forward over tokens (B,T) and width C, with workgroup counts: vec4 where C % 4 == 0. */
export function encoderForwardKernel(
  B: number,
  T: number,
  C: number,
  l: RowLanes = ONE_ROW_LANE,
): [KernelDef, [number, number, number]] {
  // Stacked: B counts every lane's sequences.
  return C % 4 === 0
    ? [withRowLanes(KERNELS.encoderForwardVec4, l), grid1d((B * T * C) / 4)]
    : [withRowLanes(KERNELS.encoderForward, l), grid1d(B * T * C)];
}

/**
 * The embedding's backward over tokens (B,T) and width C, with workgroup counts: dwte (V,C) and dwpe (T,C) in one
 * dispatch (dwte's threads, then dwpe's: grid1dParts), each thread owning one element, or 4 adjacent ones (vec4)
 * where C % 4 == 0. Same bindings either way.
 */
export function encoderBackwardKernel(
  T: number,
  C: number,
  V: number,
  l: RowLanes = ONE_ROW_LANE,
): [KernelDef, [number, number, number]] {
  // Stacked: each lane's dwte threads, then each lane's dwpe threads.
  const L = l.lanes;
  if (C % 4 === 0) return [withRowLanes(KERNELS.encoderBackwardVec4, l), grid1dParts((L * V * C) / 4, (L * T * C) / 4)];
  return [withRowLanes(KERNELS.encoderBackward, l), grid1dParts(L * V * C, L * T * C)];
}

/** The fused cross-entropy kernel over `rows` rows (H·B·T) under variant v, with its workgroup counts. */
export function crossentropyKernel(rows: number, v: ReductionVariant): [KernelDef, [number, number, number]] {
  return v.rows === 'subgroup' ? [SUBGROUP_KERNELS.crossentropy, gridRows(rows)] : [KERNELS.crossentropy, grid1d(rows)];
}

/**
 * The loss's and the gradient norm's sums (shaders/reduce.wgsl), both in each dispatch (bindings: uniform, x0, x1,
 * partials0, partials1, stats).
 */
export const reduceKernel = (entryPoint: 'partial' | 'partial_serial' | 'finalize'): KernelDef => ({
  label: `reduce_${entryPoint}`,
  // After the 1-D thread index, which partial_serial's grid uses (grid1dParts; WG is set for it alone).
  code: composeWgsl(grid1dWgsl, reduceWgsl),
  entryPoint,
  bindings: ['uniform', 'read', 'read', 'rw', 'rw', 'rw'],
  constants: entryPoint === 'partial_serial' ? { WG: REDUCE_SERIAL_WG } : {},
});

/** Invocations per workgroup of the reduction's serial partial sums (shaders/reduce.wgsl, partial_serial). */
export const REDUCE_SERIAL_WG = 4;

/**
 * Elements per chunk of the first stage of the deterministic reductions (loss, gradient norm): a multiple of 4
 * (partial_serial sums 4 at a time) and of the tree's 256 invocations.
 */
export const REDUCE_CHUNK = 4096;

/**
 * The first stage of the two sums over n0 and n1 values (the loss's and the gradient norm's, shaders/reduce.wgsl)
 * under reduction variant v, with its workgroup counts: one invocation per chunk, without barriers, where the
 * variant reduces rows with one thread each (CPU adapters, and devices without subgroups), sum 1's from the next
 * whole workgroup; a workgroup per chunk summing in a tree otherwise (GPUs), sum 0's chunks first. Both write the
 * same partials for the same finalize, which runs on REDUCE_FINALIZE_GRID: a workgroup per sum.
 */
export function reducePartials(
  n0: number,
  n1: number,
  v: ReductionVariant,
  l: RowLanes = ONE_ROW_LANE,
): [KernelDef, [number, number, number]] {
  // Stacked: n0 and n1 per lane, workgroup z the lane.
  const [p0, p1] = [n0, n1].map((n) => Math.ceil(n / REDUCE_CHUNK)) as [number, number];
  if (v.rows === 'thread') {
    const [x, y] = grid1dParts(p0, p1, REDUCE_SERIAL_WG);
    return [withLanes(reduceKernel('partial_serial'), l, ['LANE_STATS']), [x, y, l.lanes]];
  }
  if (p0 + p1 > 65535) throw new Error(`reduce: ${n0} and ${n1} values need more than 65,535 workgroups`);
  return [withLanes(reduceKernel('partial'), l, ['LANE_STATS']), [Math.max(1, p0 + p1), 1, l.lanes]];
}
export const REDUCE_FINALIZE_GRID: [number, number, number] = [2, 1, 1];

/** The reductions' second stage: a workgroup per sum, and per lane (each writing its results LANE_STATS apart). */
export const reduceFinalize = (l: RowLanes = ONE_ROW_LANE): [KernelDef, [number, number, number]] => [
  withLanes(reduceKernel('finalize'), l, ['LANE_STATS']),
  [2, 1, l.lanes],
];

/** AdamW over every lane's P parameters (P per lane, a multiple of 4), one thread per 4. */
export function adamwKernel(P: number, l: RowLanes = ONE_ROW_LANE): [KernelDef, [number, number, number]] {
  if (P % 4 !== 0) throw new Error(`AdamW updates 4 parameters per thread; the table's ${P} floats are not`);
  if (l.lanes > 1 && l.params !== P) throw new Error(`AdamW over ${P} parameters a lane, stacked ${l.params} apart`);
  return [withLanes(KERNELS.adamw, l, ['LANE_PARAMS', 'LANE_STATS']), grid1d((l.lanes * P) / 4)];
}

export interface MatmulFlags {
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
  accumulate?: boolean;
  /** Epilogue: C keeps the result, aux (binding 5) receives gelu(result) — c_fc's forward. */
  gelu?: boolean;
  /** Epilogue: C = result · gelu'(aux) — the gradient into c_fc's output, aux its pre-activation. */
  geluGrad?: boolean;
  /** Epilogue: C = result + aux — c_proj's forward adding its branch to the residual stream held in aux. */
  residual?: boolean;
  /**
   * Epilogue of a dW product (transA): aux (M) += the column sums of A — the Linear's bias gradient, db += Σ dout,
   * summed from the values the product loads anyway. Every kernel that runs a dW product has it: tn, the general
   * ones, and nn over dout transposed (an nnWeightGrads variant's; there M % 4 == 0).
   */
  biasGrad?: boolean;
}

/** How an activation is stored: f32, or f16 (`shader-f16`) where the model keeps it in half (plan.ts, HALF_ACTIVATIONS). */
export type StorageType = 'f32' | 'f16';

/**
 * How a matmul's A, B, C and aux hold their values (the bias is a parameter, f32): f16 only for the activations the
 * model stores in half, which the kernels read and write through the prologue's accessors (matmul_prologue.wgsl),
 * summing in f32. A dW product's C and a bias gradient's aux are gradients, always f32.
 */
export interface MatmulStorage {
  a: StorageType;
  b: StorageType;
  c: StorageType;
  aux: StorageType;
}
export const F32_STORAGE: MatmulStorage = { a: 'f32', b: 'f32', c: 'f32', aux: 'f32' };

const usesF16 = (s: MatmulStorage): boolean => Object.values(s).includes('f16');
/** The element E as stored under s: itself, or its f16 form. */
const stored = (E: 'f32' | 'vec4f', s: StorageType): string => (s === 'f32' ? E : E === 'vec4f' ? 'vec4h' : 'f16');
/** A suffix that names a kernel's f16 operands in its label (profiles tell the pipelines apart by it). */
const storageLabel = (s: MatmulStorage): string =>
  usesF16(s) ? '_h' + (['a', 'b', 'c', 'aux'] as const).filter((k) => s[k] === 'f16').join('') : '';

/**
 * A matmul kernel's source over E, the element its sums are in (vec4f for the vec4 kernels; E_LANES floats each),
 * with each operand stored as `storage` says: the shared bindings, accessors and GELU epilogue
 * (shaders/common/matmul_prologue.wgsl, gelu.wgsl) before the kernel's loops. Composed once per storage, so that
 * every product of a recording gets the same string (KernelCache keys its modules by source).
 */
const matmul = (E: 'f32' | 'vec4f', code: string) => {
  const sources = new Map<string, string>();
  return (storage: MatmulStorage): string => {
    const key = `${storage.a}${storage.b}${storage.c}${storage.aux}`;
    let source = sources.get(key);
    if (source === undefined) {
      source = composeWgsl(
        ...(usesF16(storage) ? ['enable f16;'] : []),
        `alias E = ${E};`,
        `const E_LANES = ${E === 'vec4f' ? 4 : 1}u;`,
        `alias SA = ${stored(E, storage.a)};`,
        `alias SB = ${stored(E, storage.b)};`,
        `alias SC = ${stored(E, storage.c)};`,
        `alias SX = ${stored(E, storage.aux)};`,
        geluWgsl,
        matmulPrologueWgsl,
        code,
      );
      sources.set(key, source);
    }
    return source;
  };
};
const MATMUL_WGSL = matmul('f32', matmulWgsl);
// The tiled kernel after its hooks: op(A) as stored, or a LayerNorm of it (the fused forward, layernormMatmulKernel).
const MATMUL_TILED_WGSL = matmul('f32', composeWgsl(matmulTiledPlainWgsl, matmulTiledWgsl));
const MATMUL_TILED_LAYERNORM_WGSL = matmul('f32', composeWgsl(matmulTiledLayernormWgsl, matmulTiledWgsl));
const MATMUL_VEC4_WGSL = matmul('vec4f', matmulVec4Wgsl);
// Generated by tools/gen-matmul-unrolled.mjs, in two orders of the same arithmetic (the variant's loadsFirst).
const MATMUL_VEC4X16_WGSL = matmul('vec4f', matmulVec4x16Wgsl);
const MATMUL_VEC4X16_LOADS_FIRST_WGSL = matmul('vec4f', matmulVec4x16LoadsFirstWgsl);

/**
 * The kernel that computes C (M,N) = op(A)·op(B) under variant v: one of the vec4 kernels when the variant has
 * them and the operands' contiguous dimensions are multiples of 4 (nt: K and N; nn: K and N; tn: M and N), else
 * the variant's general kernel, which takes any shape. A product that operandTransposes accepts runs on the kernel
 * it names, over operands the caller has transposed (tnOnly: nt and nn products as tn; nnWeightGrads: dW as nn).
 */
export function matmulPath(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  v: MatmulVariant,
): 'nt' | 'nn' | 'tn' | 'general' {
  if (!v.vec4 || N % 4 !== 0) return 'general';
  const t = operandTransposes(f, M, N, K, v);
  if (t) return t.path;
  if (!f.transA && f.transB && K % 4 === 0) return 'nt';
  if (!f.transA && !f.transB && K % 4 === 0) return 'nn';
  if (f.transA && !f.transB && M % 4 === 0) return 'tn';
  return 'general';
}

/** A matrix's shape as stored, (rows, cols): what transposeKernel takes. */
export type Shape2 = [rows: number, cols: number];

/**
 * The operands a product copies transposed first, by their stored shapes, and the vec4 kernel that then computes it
 * over the copies:
 *   tnOnly         an nt or nn product on the tn kernel: A (M,K) → Aᵀ (K,M), and for nt B (N,K) → Bᵀ (K,N) (nn's B
 *                  is (K,N) already);
 *   nnWeightGrads  a dW product (transA) on the nn kernel: A (K,M) → Aᵀ (M,K); B (K,N) is nn's already.
 * Null where nothing is transposed: other variants and products, and shapes the transpose kernel (multiples of 4)
 * or the target kernel cannot take. The caller transposes (transposeKernel) into scratch and binds the copies in
 * the operands' places; the kernels' epilogues (bias, accumulate, GELU, gelu', residual, the bias gradient) are the
 * same on every path.
 */
/**
 * The lane strides of a product's operands once operandTransposes' copies replace them: each copy is packed, lane
 * after lane (transposeKernel).
 */
export function transposedLanes(lanes: LaneStrides, t: { a: Shape2; b: Shape2 | null }): LaneStrides {
  if (lanes.lanes === 1) return lanes;
  return { ...lanes, a: t.a[0] * t.a[1], b: t.b ? t.b[0] * t.b[1] : lanes.b };
}

export function operandTransposes(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  v: MatmulVariant,
): { a: Shape2; b: Shape2 | null; path: 'tn' | 'nn' } | null {
  if (!v.vec4 || M % 4 !== 0 || N % 4 !== 0 || K % 4 !== 0) return null;
  if (v.tnOnly && !f.transA) return { a: [M, K], b: f.transB ? [N, K] : null, path: 'tn' };
  if (v.nnWeightGrads && f.transA && !f.transB) return { a: [K, M], b: null, path: 'nn' };
  return null;
}

const TRANSPOSE_WGSL = composeWgsl('alias S = vec4f;', transposeWgsl);
const TRANSPOSE_F16_WGSL = composeWgsl('enable f16;', 'alias S = vec4h;', transposeWgsl);

/**
 * dst (cols, rows) = srcᵀ for src (rows, cols), both multiples of 4 (bindings: uniform (rows, cols, srcLane), src, dst); src
 * stored as `src` says, dst always f32. With `lanes` > 1, that many such pairs (workgroup z the lane): lane z's
 * source srcLane floats (the uniform's) after the last's, its copy rows·cols floats after the last's (packed).
 */
export function transposeKernel(
  rows: number,
  cols: number,
  src: StorageType = 'f32',
  lanes = 1,
): { def: KernelDef; workgroups: [number, number, number] } {
  const tx = cols / 4;
  const ty = rows / 4;
  const [wx, wy] = fitWorkgroup(tx, ty);
  return {
    def: {
      label: src === 'f16' ? 'transpose_h' : 'transpose',
      code: src === 'f16' ? TRANSPOSE_F16_WGSL : TRANSPOSE_WGSL,
      entryPoint: 'main',
      bindings: bindings(1, 1),
      constants: { WG_X: wx, WG_Y: wy },
    },
    workgroups: [Math.ceil(tx / wx), Math.ceil(ty / wy), lanes],
  };
}

/**
 * Stacked lanes: `lanes` models of one shape whose products run in the same dispatches, lane l's operands each
 * starting l·stride floats into their buffers (workgroup z names the lane; shaders/common/matmul_prologue.wgsl,
 * STACKED). A stride is any multiple of 4 floats (the vec4 kernels index in vec4s); 0 shares the operand.
 */
export interface LaneStrides {
  lanes: number;
  a: number;
  b: number;
  bias: number;
  c: number;
  aux: number;
}

/** One lane: the kernels compiled without STACKED, which read no stride. */
export const ONE_LANE: LaneStrides = { lanes: 1, a: 0, b: 0, bias: 0, c: 0, aux: 0 };

/** The matmul kernels' uniform (uniforms.ts MATMUL_DIMS): the shape, the split (kSlice rows in `slices`) and lanes. */
export function matmulDims(
  M: number,
  N: number,
  K: number,
  lanes: LaneStrides = ONE_LANE,
  split: { kSlice: number; slices: number } = { kSlice: 0, slices: 1 },
): UniformValues<typeof MATMUL_DIMS> {
  const { a, b, bias, c, aux } = lanes;
  for (const [name, stride] of Object.entries({ a, b, bias, c, aux }))
    if (!Number.isInteger(stride) || stride < 0 || stride % 4 !== 0)
      throw new Error(`matmul ${M}×${N}×${K}: lane stride of ${name} (${stride}) is not a multiple of 4 floats`);
  return { M, N, K, ...split, laneA: a, laneB: b, laneBias: bias, laneC: c, laneX: aux };
}

/**
 * Workgroup shape for a grid of tx × ty threads: 8×8, halved while that leaves fewer than 16 workgroups (down to
 * 4 threads, one SIMD group of a software adapter), so that the small products of a tiny model still spread over
 * every core of a CPU adapter.
 */
export function fitWorkgroup(tx: number, ty: number): [number, number] {
  let wx = 8;
  let wy = 8;
  while (wx * wy > 4 && Math.ceil(tx / wx) * Math.ceil(ty / wy) < 16) {
    if (wx >= wy) wx /= 2;
    else wy /= 2;
  }
  return [wx, wy];
}

/**
 * C (M,N) = op(A)·op(B) [+ bias] [+= C], then the GELU epilogues: the kernel for this shape and its workgroup counts.
 * Bindings: uniform (matmulDims), A, B, bias, C, aux (bind any unused buffer, distinct from C, where no epilogue uses
 * it), each operand stored as `storage` says. With `lanes` > 1, that many products in one dispatch (STACKED, the
 * strides in the uniform).
 */
export function matmulKernel(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  v: MatmulVariant,
  storage: MatmulStorage = F32_STORAGE,
  lanes = 1,
): { def: KernelDef; workgroups: [number, number, number] } {
  const stacked: Record<string, number> = lanes > 1 ? { STACKED: 1 } : {};
  const labelled = (label: string) => (lanes > 1 ? `${label}_lanes` : label);
  const bindings: KernelDef['bindings'] = ['uniform', 'read', 'read', 'read', 'rw', 'rw'];
  const epilogue = {
    HAS_BIAS: f.bias ? 1 : 0,
    ACCUMULATE: f.accumulate ? 1 : 0,
    GELU: f.gelu ? 1 : 0,
    GELU_GRAD: f.geluGrad ? 1 : 0,
    RESIDUAL: f.residual ? 1 : 0,
    BIAS_GRAD: f.biasGrad ? 1 : 0,
  };
  const path = matmulPath(f, M, N, K, v);
  // The vec4 nn kernel sums A's rows for the bias gradient as vec4 groups of 4 rows; nt (a forward) has none.
  if (f.biasGrad && (path === 'nt' || (path === 'nn' && M % 4 !== 0)))
    throw new Error(`matmul ${M}×${N}×${K} under ${v.name}: the vec4 ${path} kernel cannot sum the bias gradient`);
  if (path !== 'general') {
    // Each thread: a 16×16 block (shaders/matmul_vec4_16.wgsl) or an 8×8 one (shaders/matmul_vec4.wgsl); 16×16
    // only where it still leaves 16 threads, so that a small product keeps a CPU adapter's cores busy.
    const t16 = v.vec4 === 16 && Math.ceil(N / 16) * Math.ceil(M / 16) >= 16;
    const tile = t16 ? 16 : 8;
    const tx = Math.ceil(N / tile);
    const ty = Math.ceil(M / tile);
    const [wx, wy] = fitWorkgroup(tx, ty);
    const loadsFirst = t16 && !!v.loadsFirst;
    const code = !t16 ? MATMUL_VEC4_WGSL : loadsFirst ? MATMUL_VEC4X16_LOADS_FIRST_WGSL : MATMUL_VEC4X16_WGSL;
    return {
      def: {
        label: labelled(`matmul_vec4_${tile}${loadsFirst ? 'lf' : ''}_${path}${storageLabel(storage)}`),
        code: code(storage),
        entryPoint: path,
        bindings,
        constants: { ...epilogue, ...stacked, WG_X: wx, WG_Y: wy },
      },
      workgroups: [Math.ceil(tx / wx), Math.ceil(ty / wy), lanes],
    };
  }
  const trans = { TRANS_A: f.transA ? 1 : 0, TRANS_B: f.transB ? 1 : 0 };
  if (v.general === 'tiled64') {
    // Each workgroup: a 64×64 tile of C (shaders/matmul_tiled.wgsl).
    return {
      def: {
        label: labelled(`matmul_tiled${storageLabel(storage)}`),
        code: MATMUL_TILED_WGSL(storage),
        entryPoint: 'main',
        bindings,
        constants: { ...trans, ...epilogue, ...stacked },
      },
      workgroups: [Math.ceil(N / 64), Math.ceil(M / 64), lanes],
    };
  }
  // Each thread: a 4×4 block (shaders/matmul.wgsl).
  const tx = Math.ceil(N / 4);
  const ty = Math.ceil(M / 4);
  const [wx, wy] = fitWorkgroup(tx, ty);
  return {
    def: {
      label: labelled(`matmul${storageLabel(storage)}`),
      code: MATMUL_WGSL(storage),
      entryPoint: 'main',
      bindings,
      constants: { ...trans, ...epilogue, ...stacked, WG_X: wx, WG_Y: wy },
    },
    workgroups: [Math.ceil(tx / wx), Math.ceil(ty / wy), lanes],
  };
}

/**
 * Where a LayerNorm's rstd (N) starts in its statistics buffer, after its mean (N): one buffer per LayerNorm, so that
 * a kernel can write both through one binding (the tiled matmul with LayerNorm fused into its operand binds eight
 * storage buffers, the most an adapter must allow), each half at an offset aligned to 256 bytes for the kernels that
 * bind them apart.
 */
export const lnRstdAt = (N: number): number => align(N);
/** Floats of a LayerNorm's statistics over N rows: mean (N) at 0, rstd (N) at lnRstdAt(N). */
export const lnStatsFloats = (N: number): number => lnRstdAt(N) + N;

/**
 * The forward of a Linear that reads a LayerNorm's output, with the LayerNorm fused into the tiled kernel's operand
 * (shaders/matmul_tiled_layernorm.wgsl): out (M,N) = ln(x) (M,K) · W (N,K)ᵀ [+ bias] [epilogue], where ln(x) =
 * (x − mean)·rstd·weight + bias row by row, in one dispatch that also writes ln(x) (M,K) and its statistics (mean,
 * then rstd at lnRstdAt floats) for the backward pass, as the LayerNorm kernel would. Only where variant v fuses
 * LayerNorm (fuseLayerNorm) and would compute this product on the tiled kernel; null elsewhere, and the caller records
 * the LayerNorm and the product apart. Bindings: matmulKernel's (A is x), then the LayerNorm's weight and bias as one
 * range (the bias lnBiasAt floats after the weight), its statistics, and its output.
 */
export function layernormMatmulKernel(
  f: MatmulFlags,
  M: number,
  N: number,
  K: number,
  v: MatmulVariant,
  at: { lnBiasAt: number; lnRstdAt: number },
  storage: MatmulStorage = F32_STORAGE,
): { def: KernelDef; workgroups: [number, number, number] } | null {
  if (!v.fuseLayerNorm || v.general !== 'tiled64' || matmulPath(f, M, N, K, v) !== 'general') return null;
  if (f.transA || !f.transB || f.accumulate || f.biasGrad) return null;
  const plain = matmulKernel(f, M, N, K, v, storage);
  if (at.lnBiasAt < K || at.lnRstdAt < M)
    throw new Error(`LayerNorm fused into ${M}×${N}×${K}: its bias or rstd would overlap the weight or mean`);
  return {
    def: {
      label: `matmul_tiled_layernorm${storageLabel(storage)}`,
      code: MATMUL_TILED_LAYERNORM_WGSL(storage),
      entryPoint: 'main',
      bindings: [...plain.def.bindings, 'read', 'rw', 'rw'],
      constants: { ...plain.def.constants, LN_BIAS_AT: at.lnBiasAt, LN_RSTD_AT: at.lnRstdAt },
    },
    workgroups: plain.workgroups,
  };
}

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

/**
 * Attention kernels and their grids under reduction variant v. Forward, one dispatch under every variant (so that
 * the plan's dispatch count needs no variant): one workgroup per query row with subgroup reductions
 * (SUBGROUP_KERNELS.attentionForward), else one thread per 4 query rows on vec4s when the head size allows (hs % 4 == 0),
 * else one thread per query row. Backward: the vec4 kernels when hs % 4 == 0, else the scalar ones.
 */
export function attentionKernels(
  B: number,
  T: number,
  C: number,
  NH: number,
  v: ReductionVariant,
): {
  forward: [KernelDef, [number, number, number]][];
  backward: [KernelDef, [number, number, number]][];
} {
  const hs = C / NH;
  const rows = B * NH * T;
  const subgroupForward: [KernelDef, [number, number, number]] = [SUBGROUP_KERNELS.attentionForward, gridRows(rows)];
  if (hs % 4 !== 0) {
    return {
      forward: [v.rows === 'subgroup' ? subgroupForward : [KERNELS.attentionForward, grid1d(rows)]],
      backward: [
        [KERNELS.attentionDscores, grid1d(rows)],
        [KERNELS.attentionDqkv, grid1d(B * T * C)],
      ],
    };
  }
  // Threads own 4 rows (queries or keys) of one (b, h); the backward's value-side kernel also splits hs into
  // blocks of 8, its dq tiles then its dk/dv tiles (grid1dParts; attention_backward_vec4.wgsl).
  const rowBlocks = B * NH * Math.ceil(T / 4);
  const tiles = rowBlocks * Math.ceil(hs / 8);
  return {
    forward: [v.rows === 'subgroup' ? subgroupForward : [KERNELS.attentionForwardVec4, grid1d(rowBlocks)]],
    backward: [
      [KERNELS.attentionDscoresVec4, grid1d(rowBlocks)],
      [KERNELS.attentionDqkvVec4, grid1dParts(tiles, tiles)],
    ],
  };
}
