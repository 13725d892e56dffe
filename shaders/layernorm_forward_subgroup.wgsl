// LayerNorm forward as shaders/layernorm_forward.wgsl computes it (two passes: mean, then the biased variance about
// it), with one workgroup per row: invocations stride over the row's C values and the sums are row_sum
// reductions (common/row_reduce.wgsl). Composed after that and common/layernorm_forward_bindings.wgsl.
@compute @workgroup_size(ROW_WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) index: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) size: u32,
) {
  let row = row_index(wid, nwg);
  if (row >= d.N) { return; }
  let l = Lanes(index, lane, size);
  let base = row * d.C;
  var s = 0.0;
  for (var c = index; c < d.C; c += ROW_WG) { s += inp[base + c]; }
  let m = row_sum(s, l) / f32(d.C);
  var v = 0.0;
  for (var c = index; c < d.C; c += ROW_WG) { let x = inp[base + c] - m; v += x * x; }
  let r = 1.0 / sqrt(row_sum(v, l) / f32(d.C) + 1e-5);
  for (var c = index; c < d.C; c += ROW_WG) {
    out[base + c] = (inp[base + c] - m) * r * weight[c] + bias[c];
  }
  if (index == 0u) {
    mean[row] = m;
    rstd[row] = r;
  }
}
