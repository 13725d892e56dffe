// Backward of LayerNorm as shaders/layernorm_backward.wgsl computes it, for C % 4 == 0, every (N,C) and (C) array
// read in vec4s (R = vec4f; C4 = C/4): a quarter of the loads, which is what software adapters pay for.
// dinput:  dinp[n,:] += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm)),  dnorm = dout·weight, norm = (x−μ)·rstd
// dparams: dweight[c] += Σ_n dout[n,c]·norm[n,c];  dbias[c] += Σ_n dout[n,c]
// One thread per row (dinput) or per 4 columns (dparams: C4 threads, hence its smaller workgroup, kernels.ts
// COLUMN_WG, so that even C4 = 16 threads spread over more than one workgroup, i.e. more than one core of a CPU
// adapter). Composed after common/layernorm_backward_bindings.wgsl.
@compute @workgroup_size(WG)
fn dinput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg);
  if (row >= d.N) { return; }
  let C4 = d.C / 4u;
  let base = row * C4;
  let m = mean[row];
  let s = rstd[row];
  var dnorm_sum = vec4f(0.0);
  var dnorm_norm_sum = vec4f(0.0);
  for (var c = 0u; c < C4; c++) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    dnorm_sum += dnorm;
    dnorm_norm_sum += dnorm * norm;
  }
  let ones = vec4f(1.0);
  let dnorm_mean = dot(dnorm_sum, ones) / f32(d.C);
  let dnorm_norm_mean = dot(dnorm_norm_sum, ones) / f32(d.C);
  for (var c = 0u; c < C4; c++) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    dinp[base + c] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
  }
}

@compute @workgroup_size(WG)
fn dparams(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = thread_index(gid, nwg);
  let C4 = d.C / 4u;
  if (c >= C4) { return; }
  var dw = vec4f(0.0);
  var db = vec4f(0.0);
  for (var n = 0u; n < d.N; n++) {
    let g = dout[n * C4 + c];
    dw += g * (inp[n * C4 + c] - mean[n]) * rstd[n];
    db += g;
  }
  dweight[c] += dw;
  dbias[c] += db;
}
