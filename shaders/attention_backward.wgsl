// Backward of attention, one element per thread. Composed after common/attention_prologue.wgsl (Dims, legend)
// and common/attention_backward_bindings.wgsl with H = f32.
// dscores: datt[i,j] = dout_i · v_j;  dpreatt[i,j] = att[i,j]·(datt[i,j] − Σ_j' att[i,j']·datt[i,j'])  (softmax)
// dqkv:    dq_t = scale·Σ_j dpreatt[t,j]·k_j;  dk_t = scale·Σ_i dpreatt[i,t]·q_i;  dv_t = Σ_i att[i,t]·dout_i
// Each thread owns the elements it writes, so dqkv (B,T,3C) is written without atomics.

@compute @workgroup_size(WG)
fn dscores(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg); // (b, h, i)
  if (row >= d.B * d.NH * d.T) { return; }
  let q = queryRow(row);
  let b = q.x;
  let h = q.y;
  let i = q.z;
  let hs = d.C / d.NH;
  let C3 = 3u * d.C;
  let oBase = (b * d.T + i) * d.C + h * hs;
  var s = 0.0;
  for (var j = 0u; j < d.T; j++) {
    let vBase = (b * d.T + j) * C3 + 2u * d.C + h * hs;
    var datt = 0.0;
    for (var e = 0u; e < hs; e++) { datt += dout[oBase + e] * qkv[vBase + e]; }
    dpreatt[row * d.T + j] = datt;
    s += att[row * d.T + j] * datt;
  }
  for (var j = 0u; j < d.T; j++) {
    let a = att[row * d.T + j];
    dpreatt[row * d.T + j] = a * (dpreatt[row * d.T + j] - s);
  }
}

@compute @workgroup_size(WG)
fn dqkv_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = thread_index(gid, nwg); // (b, t, c)
  if (idx >= d.B * d.T * d.C) { return; }
  let c = idx % d.C;
  let t = (idx / d.C) % d.T;
  let b = idx / (d.C * d.T);
  let hs = d.C / d.NH;
  let h = c / hs;
  let C3 = 3u * d.C;
  let rowT = (b * d.NH + h) * d.T; // row index of (b, h, 0)
  var dq = 0.0;
  for (var j = 0u; j < d.T; j++) {
    dq += dpreatt[(rowT + t) * d.T + j] * qkv[(b * d.T + j) * C3 + d.C + c];
  }
  var dk = 0.0;
  var dv = 0.0;
  for (var i = 0u; i < d.T; i++) {
    dk += dpreatt[(rowT + i) * d.T + t] * qkv[(b * d.T + i) * C3 + c];
    dv += att[(rowT + i) * d.T + t] * dout[(b * d.T + i) * d.C + c];
  }
  let base = (b * d.T + t) * C3;
  dqkv[base + c] = dq * d.scale;
  dqkv[base + d.C + c] = dk * d.scale;
  dqkv[base + 2u * d.C + c] = dv;
}
