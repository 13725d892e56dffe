// Backward of the embedding. Each thread owns one output element and sums over (b,t) in a fixed order: WGSL has
// no float atomics, and a fixed order keeps gradients deterministic.
// dwte[v,c] += Σ_{b,t: tokens[b,t]=v} dout[b,t,c]        dwte (V,C)
// dwpe[t,c] += Σ_b dout[b,t,c]                           dwpe (blockSize,C)
struct Dims { B: u32, T: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> tokens: array<i32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(4) var<storage, read_write> dwpe: array<f32>;

@compute @workgroup_size(WG)
fn wte_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  if (i >= d.V * d.C) { return; }
  let v = i32(i / d.C);
  let c = i % d.C;
  var acc = 0.0;
  for (var bt = 0u; bt < d.B * d.T; bt++) {
    if (clamp(tokens[bt], 0, i32(d.V) - 1) == v) { acc += dout[bt * d.C + c]; }
  }
  dwte[i] += acc;
}

@compute @workgroup_size(WG)
fn wpe_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  if (i >= d.T * d.C) { return; }
  let t = i / d.C;
  let c = i % d.C;
  var acc = 0.0;
  for (var b = 0u; b < d.B; b++) { acc += dout[(b * d.T + t) * d.C + c]; }
  dwpe[i] += acc;
}
