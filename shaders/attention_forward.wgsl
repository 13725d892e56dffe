// Multi-head self-attention's forward, one thread per query row (b, h, i), in one dispatch. Composed after
// common/attention_prologue.wgsl (Dims, legend) and common/attention_forward_bindings.wgsl with H = f32.
//   att[b,h,i,:]       = softmax(q_i·k_j / sqrt(hs)), with j > i masked (zero) when causal (bidirectional: no mask)
//   out[b,i,h·hs + e]  = Σ_j att[b,h,i,j] · v[b,j,h,e]
// The probabilities go through att (the backward reads them) and the weighted sum reads back only this thread's
// own row, so no barrier is needed. No flash-style tiling (Dao et al. 2022): it exists to avoid writing the T×T
// scores, which the backward needs here, and at the lab's T ≤ 64 a row is at most 256 bytes, read back from cache.

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = thread_index(gid, nwg); // (b, h, i)
  if (row >= d.B * d.NH * d.T) { return; }
  let q = queryRow(row);
  let b = q.x;
  let h = q.y;
  let i = q.z;
  let hs = d.C / d.NH;
  let C3 = 3u * d.C;
  let qBase = (b * d.T + i) * C3 + h * hs;
  let base = row * d.T;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = i + 1u; }
  var maxv = -3.0e38;
  for (var j = 0u; j < jEnd; j++) {
    let kBase = (b * d.T + j) * C3 + d.C + h * hs;
    var s = 0.0;
    for (var e = 0u; e < hs; e++) { s += qkv[qBase + e] * qkv[kBase + e]; }
    s = s * d.scale;
    att[base + j] = s;
    maxv = max(maxv, s);
  }
  var sum = 0.0;
  for (var j = 0u; j < jEnd; j++) {
    let e = exp(att[base + j] - maxv);
    att[base + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < d.T; j++) {
    if (j < jEnd) { att[base + j] *= inv; } else { att[base + j] = 0.0; }
  }
  // The weighted sum 4 channels at a time, so that each probability is loaded once per 4 channels; a ragged last
  // block clamps its channel (loads stay inside the head) and stores only the real ones.
  let vBase = b * d.T * C3 + 2u * d.C + h * hs;
  let oBase = (b * d.T + i) * d.C + h * hs;
  for (var e0 = 0u; e0 < hs; e0 += 4u) {
    let e = min(vec4u(e0, e0 + 1u, e0 + 2u, e0 + 3u), vec4u(hs - 1u));
    var acc = vec4f(0.0);
    for (var j = 0u; j < jEnd; j++) {
      let v = vBase + j * C3 + e;
      acc += att[base + j] * vec4f(qkv[v.x], qkv[v.y], qkv[v.z], qkv[v.w]);
    }
    out[oBase + e0] = acc.x;
    if (e0 + 1u < hs) { out[oBase + e0 + 1u] = acc.y; }
    if (e0 + 2u < hs) { out[oBase + e0 + 2u] = acc.z; }
    if (e0 + 3u < hs) { out[oBase + e0 + 3u] = acc.w; }
  }
}
