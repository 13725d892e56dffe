// LayerNorm over the last dimension (eps 1e-5, biased variance, as torch.nn.functional.layer_norm).
// inp, out (N,C) with N = B·T rows; saves mean and rstd (N) for the backward pass.
// One thread per row, two passes (mean, then the variance about it). Composed after the row element (R: f32, or vec4f
// where C % 4 == 0, a quarter of the loads, which is what software adapters pay for; W = C / R_LANES elements per
// row; total() sums an element's lanes: src/engine/kernels/), common/lanes.wgsl and
// common/layernorm_forward_bindings.wgsl. Stacked lanes: each row normalised with its lane's weight and bias.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg);
  if (row >= d.N) { return; }
  let W = d.C / R_LANES;
  let base = row * W;
  let p = lane_params(lane_of_row(row), R_LANES);
  var s = R(0.0);
  for (var c = 0u; c < W; c++) { s += inp[base + c]; }
  let m = total(s) / f32(d.C);
  var v = R(0.0);
  for (var c = 0u; c < W; c++) { let x = inp[base + c] - m; v += x * x; }
  let r = 1.0 / sqrt(total(v) / f32(d.C) + 1e-5);
  for (var c = 0u; c < W; c++) {
    out[base + c] = (inp[base + c] - m) * r * weight[p + c] + bias[p + c];
  }
  mean[row] = m;
  rstd[row] = r;
}
