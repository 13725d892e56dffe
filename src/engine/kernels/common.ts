// What every kernel table builds on: binding lists, the 1-D, per-row and per-column grids, and the stacked
// lanes' pipeline constants.
import grid1dWgsl from '../../../shaders/common/grid1d.wgsl?raw';
import rowReduceWgsl from '../../../shaders/common/row_reduce.wgsl?raw';
import { composeWgsl, WG, type BindingKind, type KernelDef } from '../pipelines';

/** A uniform, then `reads` read-only and `writes` read-write storage buffers: a kernel's bindings in order. */
export const bindings = (reads: number, writes: number): BindingKind[] => [
  'uniform',
  ...Array<BindingKind>(reads).fill('read'),
  ...Array<BindingKind>(writes).fill('rw'),
];

/** A kernel on grid1d's grid: its source after the thread index (shaders/common/grid1d.wgsl), its workgroup WG. */
export const onGrid1d = (label: string, code: string, entryPoint: string, bindings: BindingKind[]): KernelDef => ({
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
export const onRows = (label: string, prologue: string, code: string, entryPoint: string, bindings: BindingKind[]) => ({
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
export const rowElement = (R: 'f32' | 'vec4f') =>
  R === 'vec4f'
    ? 'alias R = vec4f;\nconst R_LANES = 4u;\nfn total(x: R) -> f32 { return dot(x, vec4f(1.0)); }'
    : 'alias R = f32;\nconst R_LANES = 1u;\nfn total(x: R) -> f32 { return x; }';
/** A row-wise kernel's source in both forms: after the f32 row element, and after the vec4f one. */
export const overRowElement = (...parts: string[]) => ({
  f32: composeWgsl(rowElement('f32'), ...parts),
  vec4: composeWgsl(rowElement('vec4f'), ...parts),
});

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
export function withLanes(
  def: KernelDef,
  l: RowLanes,
  names: ('LANE_ROWS' | 'LANE_PARAMS' | 'LANE_STATS')[],
): KernelDef {
  if (l.lanes === 1) return def;
  const values = { LANE_ROWS: l.rows, LANE_PARAMS: l.params, LANE_STATS: l.stats };
  if (l.params % 4 !== 0) throw new Error(`stacked lanes: ${l.params} floats per lane is not a multiple of 4`);
  const constants = Object.fromEntries(names.map((n) => [n, values[n]]));
  return { ...def, constants: { ...def.constants, ...constants } };
}
/** A row-wise kernel (shaders/common/lanes.wgsl) with the stacked lanes' rows and parameters. */
export const withRowLanes = (def: KernelDef, l: RowLanes): KernelDef => withLanes(def, l, ['LANE_ROWS', 'LANE_PARAMS']);

/**
 * Threads per workgroup of the vec4 column sums (LayerNorm's dparams): they have one thread per 4 columns, as few
 * as 16 or 32 at the presets' widths, and a CPU adapter runs each workgroup on one core, so their workgroups are
 * small enough that those threads still spread over several. (On a GPU they are among a step's smallest kernels
 * either way; the subgroup LayerNorm, where chosen, has its own grid.) The vec4 LayerNorm backward, whose dispatch
 * also takes dinput's rows, runs those on the same small workgroups.
 */
export const COLUMN_WG = 8;

/** A 1-D kernel with COLUMN_WG threads per workgroup (see there), and its workgroup counts for `threads`. */
export const onColumns = (label: string, code: string, entryPoint: string, bindings: BindingKind[]): KernelDef => ({
  ...onGrid1d(label, code, entryPoint, bindings),
  constants: { WG: COLUMN_WG },
});
export const gridColumns = (threads: number): [number, number, number] => [
  Math.max(1, Math.ceil(threads / COLUMN_WG)),
  1,
  1,
];
