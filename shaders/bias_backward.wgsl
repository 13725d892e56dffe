// Backward of a Linear's bias: dbias[n] += Σ_m dout[m,n].      dout (M,N), dbias (N)
// One thread per column, or per 4 columns where R = vec4f (N % 4 == 0: a quarter of the loads, on workgroups of
// kernels.ts COLUMN_WG), summing rows in order (deterministic, no atomics). Composed after the row element (R,
// R_LANES: src/engine/kernels.ts).
struct Dims { M: u32, N: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> dout: array<R>;
@group(0) @binding(2) var<storage, read_write> dbias: array<R>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = thread_index(gid, nwg);
  let W = d.N / R_LANES;
  if (n >= W) { return; }
  var acc = R(0.0);
  for (var m = 0u; m < d.M; m++) { acc += dout[m * W + n]; }
  dbias[n] += acc;
}
