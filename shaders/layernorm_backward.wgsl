// Backward of LayerNorm (llm.c's layernorm_backward, split in two so that no two threads write one element).
// dinput:  dinp[n,:] += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm)),  dnorm = dout·weight, norm = (x−μ)·rstd
// dparams: dweight[c] += Σ_n dout[n,c]·norm[n,c];  dbias[c] += Σ_n dout[n,c]
// dout, inp, dinp (N,C); mean, rstd (N); weight, dweight, dbias (C)
// One thread per row (dinput) or column (dparams); composed after common/layernorm_backward_bindings.wgsl.
@compute @workgroup_size(WG)
fn dinput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg);
  if (row >= d.N) { return; }
  let base = row * d.C;
  let m = mean[row];
  let s = rstd[row];
  var dnorm_mean = 0.0;
  var dnorm_norm_mean = 0.0;
  for (var c = 0u; c < d.C; c++) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    dnorm_mean += dnorm;
    dnorm_norm_mean += dnorm * norm;
  }
  dnorm_mean = dnorm_mean / f32(d.C);
  dnorm_norm_mean = dnorm_norm_mean / f32(d.C);
  for (var c = 0u; c < d.C; c++) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    dinp[base + c] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
  }
}

@compute @workgroup_size(WG)
fn dparams(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = thread_index(gid, nwg);
  if (c >= d.C) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var n = 0u; n < d.N; n++) {
    let g = dout[n * d.C + c];
    dw += g * (inp[n * d.C + c] - mean[n]) * rstd[n];
    db += g;
  }
  dweight[c] += dw;
  dbias[c] += db;
}
