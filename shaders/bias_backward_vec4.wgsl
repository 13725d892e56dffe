// Backward of a Linear's bias as shaders/bias_backward.wgsl computes it, for N % 4 == 0: one thread per 4 columns
// (N4 = N/4), reading dout in vec4s, a quarter of the loads. Its workgroups are small (kernels.ts, COLUMN_WG) so
// that N4 threads still spread over several workgroups, i.e. several cores of a CPU adapter.
// dbias[n] += Σ_m dout[m,n].      dout (M,N), dbias (N)
struct Dims { M: u32, N: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> dout: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dbias: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = thread_index(gid, nwg);
  let N4 = d.N / 4u;
  if (n >= N4) { return; }
  var acc = vec4f(0.0);
  for (var m = 0u; m < d.M; m++) { acc += dout[m * N4 + n]; }
  dbias[n] += acc;
}
