// LayerNorm forward as shaders/layernorm_forward.wgsl computes it (two passes: mean, then the biased variance about
// it; eps 1e-5), one thread per row, for C % 4 == 0: the row is read in C4 = C/4 vec4s (R = vec4f), a quarter of the
// loads. Software adapters (SwiftShader) gather every loaded value lane by lane and their speed follows the number
// of loads. Composed after common/layernorm_forward_bindings.wgsl; inp, out (N,C4), weight, bias (C4).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg);
  if (row >= d.N) { return; }
  let C4 = d.C / 4u;
  let base = row * C4;
  let ones = vec4f(1.0);
  var s = vec4f(0.0);
  for (var c = 0u; c < C4; c++) { s += inp[base + c]; }
  let m = dot(s, ones) / f32(d.C);
  var v = vec4f(0.0);
  for (var c = 0u; c < C4; c++) { let x = inp[base + c] - m; v += x * x; }
  let r = 1.0 / sqrt(dot(v, ones) / f32(d.C) + 1e-5);
  for (var c = 0u; c < C4; c++) {
    out[base + c] = (inp[base + c] - m) * r * weight[c] + bias[c];
  }
  mean[row] = m;
  rstd[row] = r;
}
