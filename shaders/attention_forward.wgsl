// Multi-head self-attention's forward, one element per thread. Composed after common/attention_prologue.wgsl
// (Dims, legend) and common/attention_forward_bindings.wgsl with H = f32.
// softmax: att[b,h,i,:] = softmax(q_i·k_j / sqrt(hs)), with j > i masked when causal (bidirectional: no mask).
// values:  out[b,i,h·hs+e] = Σ_j att[b,h,i,j] · v[b,j,h,e]

@compute @workgroup_size(WG)
fn softmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg); // (b, h, i)
  if (row >= d.B * d.NH * d.T) { return; }
  let i = row % d.T;
  let h = (row / d.T) % d.NH;
  let b = row / (d.T * d.NH);
  let hs = d.C / d.NH;
  let C3 = 3u * d.C;
  let qBase = (b * d.T + i) * C3 + h * hs;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = i + 1u; }
  var maxv = -3.0e38;
  for (var j = 0u; j < jEnd; j++) {
    let kBase = (b * d.T + j) * C3 + d.C + h * hs;
    var s = 0.0;
    for (var e = 0u; e < hs; e++) { s += qkv[qBase + e] * qkv[kBase + e]; }
    s = s * d.scale;
    att[row * d.T + j] = s;
    maxv = max(maxv, s);
  }
  var sum = 0.0;
  for (var j = 0u; j < jEnd; j++) {
    let e = exp(att[row * d.T + j] - maxv);
    att[row * d.T + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < d.T; j++) {
    if (j < jEnd) { att[row * d.T + j] *= inv; } else { att[row * d.T + j] = 0.0; }
  }
}

@compute @workgroup_size(WG)
fn values(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = thread_index(gid, nwg); // (b, i, c)
  if (idx >= d.B * d.T * d.C) { return; }
  let c = idx % d.C;
  let i = (idx / d.C) % d.T;
  let b = idx / (d.C * d.T);
  let hs = d.C / d.NH;
  let h = c / hs;
  let row = (b * d.NH + h) * d.T + i;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = i + 1u; }
  var acc = 0.0;
  for (var j = 0u; j < jEnd; j++) {
    acc += att[row * d.T + j] * qkv[(b * d.T + j) * 3u * d.C + 2u * d.C + c];
  }
  out[idx] = acc;
}
