// The row-wise, loss, reduction, optimizer and attention kernels: two tables (one thread per row, and one workgroup
// per row with subgroups), and the functions that choose between them by shape and reduction variant.
import adamwWgsl from '../../../shaders/adamw.wgsl?raw';
import attentionBackwardWgsl from '../../../shaders/attention_backward.wgsl?raw';
import attentionBackwardVec4Wgsl from '../../../shaders/attention_backward_vec4.wgsl?raw';
import attentionForwardWgsl from '../../../shaders/attention_forward.wgsl?raw';
import attentionForwardSubgroupWgsl from '../../../shaders/attention_forward_subgroup.wgsl?raw';
import attentionForwardVec4Wgsl from '../../../shaders/attention_forward_vec4.wgsl?raw';
import attentionBackwardBindingsWgsl from '../../../shaders/common/attention_backward_bindings.wgsl?raw';
import attentionForwardBindingsWgsl from '../../../shaders/common/attention_forward_bindings.wgsl?raw';
import attentionPrologueWgsl from '../../../shaders/common/attention_prologue.wgsl?raw';
import grid1dWgsl from '../../../shaders/common/grid1d.wgsl?raw';
import crossentropyBindingsWgsl from '../../../shaders/common/crossentropy_bindings.wgsl?raw';
import layernormBackwardBindingsWgsl from '../../../shaders/common/layernorm_backward_bindings.wgsl?raw';
import layernormForwardBindingsWgsl from '../../../shaders/common/layernorm_forward_bindings.wgsl?raw';
import lanesWgsl from '../../../shaders/common/lanes.wgsl?raw';
import crossentropyWgsl from '../../../shaders/crossentropy.wgsl?raw';
import crossentropySubgroupWgsl from '../../../shaders/crossentropy_subgroup.wgsl?raw';
import encoderBackwardWgsl from '../../../shaders/encoder_backward.wgsl?raw';
import encoderForwardWgsl from '../../../shaders/encoder_forward.wgsl?raw';
import layernormBackwardWgsl from '../../../shaders/layernorm_backward.wgsl?raw';
import layernormBackwardSubgroupWgsl from '../../../shaders/layernorm_backward_subgroup.wgsl?raw';
import layernormForwardWgsl from '../../../shaders/layernorm_forward.wgsl?raw';
import layernormForwardSubgroupWgsl from '../../../shaders/layernorm_forward_subgroup.wgsl?raw';
import reduceWgsl from '../../../shaders/reduce.wgsl?raw';
import residualWgsl from '../../../shaders/residual.wgsl?raw';
import { composeWgsl, grid1d, grid1dParts, type KernelDef } from '../pipelines';
import type { ReductionVariant } from '../reduction-variants';
import {
  bindings,
  COLUMN_WG,
  gridRows,
  onColumns,
  onGrid1d,
  onRows,
  ONE_ROW_LANE,
  overRowElement,
  rowElement,
  withLanes,
  withRowLanes,
  type RowLanes,
} from './common';

const LAYERNORM_FORWARD = overRowElement(lanesWgsl, layernormForwardBindingsWgsl, layernormForwardWgsl);
const LAYERNORM_BACKWARD = overRowElement(lanesWgsl, layernormBackwardBindingsWgsl, layernormBackwardWgsl);
const ENCODER_FORWARD = overRowElement(lanesWgsl, encoderForwardWgsl);
const ENCODER_BACKWARD = overRowElement(lanesWgsl, encoderBackwardWgsl);
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
  crossentropy: onGrid1d('crossentropy', CROSSENTROPY, 'main', ['uniform', 'rw', 'read', 'read', 'rw', 'read']),
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
    'read',
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
