// Backward of a Linear's bias: dbias[n] += Σ_m dout[m,n].      dout (M,N), dbias (N)
// One thread per column, summing rows in order (deterministic, no atomics).
struct Dims { M: u32, N: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = thread_index(gid, nwg);
  if (n >= d.N) { return; }
  var acc = 0.0;
  for (var m = 0u; m < d.M; m++) { acc += dout[m * d.N + n]; }
  dbias[n] += acc;
}
