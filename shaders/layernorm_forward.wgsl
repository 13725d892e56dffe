// LayerNorm over the last dimension (eps 1e-5, biased variance, as torch.nn.functional.layer_norm).
// inp, out (N,C) with N = B·T rows; saves mean and rstd (N) for the backward pass.
// One thread per row; composed after common/layernorm_forward_bindings.wgsl.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg);
  if (row >= d.N) { return; }
  let base = row * d.C;
  var m = 0.0;
  for (var c = 0u; c < d.C; c++) { m += inp[base + c]; }
  m = m / f32(d.C);
  var v = 0.0;
  for (var c = 0u; c < d.C; c++) { let x = inp[base + c] - m; v += x * x; }
  v = v / f32(d.C);
  let s = 1.0 / sqrt(v + 1e-5);
  for (var c = 0u; c < d.C; c++) {
    out[base + c] = (inp[base + c] - m) * s * weight[c] + bias[c];
  }
  mean[row] = m;
  rstd[row] = s;
}
