// LayerNorm forward as shaders/layernorm_forward.wgsl computes it (two passes: mean, then the biased variance about
// it), with one workgroup per row: invocations stride over the row's C values and the sums are row_sum
// reductions (common/row_reduce.wgsl). Composed after that, common/lanes.wgsl and
// common/layernorm_forward_bindings.wgsl. Stacked lanes: each row normalised with its lane's weight and bias.
@compute @workgroup_size(ROW_WG)
fn main(g: RowGroup, l: Lanes) {
  let row = row_index(g);
  if (row >= d.N) { return; }
  let base = row * d.C;
  let p = lane_params(lane_of_row(row), 1u);
  var s = 0.0;
  for (var c = l.index; c < d.C; c += ROW_WG) { s += inp[base + c]; }
  let m = row_sum(s, l) / f32(d.C);
  var v = 0.0;
  for (var c = l.index; c < d.C; c += ROW_WG) { let x = inp[base + c] - m; v += x * x; }
  let r = 1.0 / sqrt(row_sum(v, l) / f32(d.C) + 1e-5);
  for (var c = l.index; c < d.C; c += ROW_WG) {
    out[base + c] = (inp[base + c] - m) * r * weight[p + c] + bias[p + c];
  }
  if (l.index == 0u) {
    mean[row] = m;
    rstd[row] = r;
  }
}
