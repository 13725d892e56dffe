// Multi-head self-attention after c_attn (nanoGPT's CausalSelfAttention without the projections).
// qkv (B,T,3C): q, k, v in that order, heads split as view(B,T,NH,hs); att (B,NH,T,T); out (B,T,C).
// softmax: att[b,h,i,:] = softmax(q_i·k_j / sqrt(hs)), with j > i masked when causal (bidirectional: no mask).
// values:  out[b,i,h·hs+e] = Σ_j att[b,h,i,j] · v[b,j,h,e]
struct Dims { B: u32, T: u32, C: u32, NH: u32, causal: u32, scale: f32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn softmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u; // (b, h, i)
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

@compute @workgroup_size(64)
fn values(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 64u; // (b, i, c)
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
