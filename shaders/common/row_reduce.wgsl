// Reductions over a row by one workgroup of ROW_WG invocations, for the subgroup kernels (shaders/*_subgroup.wgsl;
// composed first, since `enable` must open the module). Each subgroup reduces with subgroupAdd/subgroupMax, then
// the subgroups' results meet in workgroup memory. The subgroup size S is the adapter's, 4 to 128, known only when
// the kernel runs, and WGSL does not say which invocations share a subgroup; so lane 0 of each subgroup leaves its
// result in its own invocation's slot (the others leave the identity), each lane i folds slots i, i+S, i+2S, …, and
// a second subgroup reduction gives every subgroup the workgroup's result. That holds for any grouping of the
// invocations whose subgroups number their lanes 0..S−1 (0..ROW_WG−1 when S > ROW_WG): every slot is folded once.
enable subgroups;

// Invocations per row, set from src/engine/kernels/ (ROW_WG).
override ROW_WG: u32;

/**
 * Which row a workgroup has (entry-point input, uniform across the workgroup, so a kernel may return on it before
 * its barriers).
 */
struct RowGroup {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
}

/** Where an invocation sits (entry-point input): its index in the workgroup, its subgroup lane, the subgroup size. */
struct Lanes {
  @builtin(local_invocation_index) index: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) size: u32,
}

var<workgroup> row_partials: array<vec2f, ROW_WG>;

/** The row (or column) of a workgroup: rows past 65535 spill into y, as gridRows lays them out. */
fn row_index(g: RowGroup) -> u32 { return g.wid.x + g.wid.y * g.nwg.x; }

/** Σ of x over the workgroup, in every invocation. Call in uniform control flow (it holds barriers). */
fn row_sum2(x: vec2f, l: Lanes) -> vec2f {
  let s = subgroupAdd(x);
  workgroupBarrier(); // the previous reduction's reads of row_partials are done
  row_partials[l.index] = select(vec2f(0.0), s, l.lane == 0u);
  workgroupBarrier();
  var acc = vec2f(0.0);
  for (var j = l.lane; j < ROW_WG; j += l.size) { acc += row_partials[j]; }
  return subgroupAdd(acc);
}

fn row_sum(x: f32, l: Lanes) -> f32 { return row_sum2(vec2f(x, 0.0), l).x; }

/** max of x over the workgroup, in every invocation. Call in uniform control flow. */
fn row_max(x: f32, l: Lanes) -> f32 {
  let s = subgroupMax(x);
  workgroupBarrier();
  row_partials[l.index] = vec2f(select(-3.0e38, s, l.lane == 0u), 0.0);
  workgroupBarrier();
  var acc = -3.0e38;
  for (var j = l.lane; j < ROW_WG; j += l.size) { acc = max(acc, row_partials[j].x); }
  return subgroupMax(acc);
}
