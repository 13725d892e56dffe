// Backward of the embedding as shaders/encoder_backward.wgsl computes it, for C % 4 == 0: each thread owns 4
// adjacent output elements (C4 = C/4), so it reads each token id once per 4 channels and dout in vec4s, a quarter
// of the loads, which is what software adapters pay for. Fixed order, no atomics, as there.
// dwte[v,c] += Σ_{b,t: tokens[b,t]=v} dout[b,t,c]        dwte (V,C)
// dwpe[t,c] += Σ_b dout[b,t,c]                           dwpe (blockSize,C)
struct Dims { B: u32, T: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> tokens: array<i32>;
@group(0) @binding(2) var<storage, read> dout: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dwte: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dwpe: array<vec4f>;

@compute @workgroup_size(WG)
fn wte_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  let C4 = d.C / 4u;
  if (i >= d.V * C4) { return; }
  let v = i32(i / C4);
  let c = i % C4;
  var acc = vec4f(0.0);
  for (var bt = 0u; bt < d.B * d.T; bt++) {
    if (clamp(tokens[bt], 0, i32(d.V) - 1) == v) { acc += dout[bt * C4 + c]; }
  }
  dwte[i] += acc;
}

@compute @workgroup_size(WG)
fn wpe_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  let C4 = d.C / 4u;
  if (i >= d.T * C4) { return; }
  let t = i / C4;
  let c = i % C4;
  var acc = vec4f(0.0);
  for (var b = 0u; b < d.B; b++) { acc += dout[(b * d.T + t) * C4 + c]; }
  dwpe[i] += acc;
}
