// The loss and the global gradient norm as deterministic sums in a fixed order (no atomics), both in one pair of
// dispatches, since neither waits for the other: sum 0 adds x0 (the per-position losses) into stats[slot0]; sum 1
// adds the squares of x1 (the gradients) and writes their square root, the norm, to stats[slot1], then the clip
// scale min(1, clip/(norm+1e-6)) (torch.nn.utils.clip_grad_norm_) and whether the norm is finite. Each sum is cut
// into chunks of `chunk` values, parts_k = ceil(N_k / chunk) of them:
// partial:        partials_k[g] = the sum over chunk g: a workgroup per chunk, its RWG invocations' sums meeting in a
//                 tree in workgroup memory (GPUs); sum 0's parts_0 workgroups first, then sum 1's;
// partial_serial: the same partials, one invocation per chunk summing it in order, no barriers: CPU adapters
//                 execute a workgroup barrier very slowly (SwiftShader: 26–35 ms for a gradient norm of 0.4M values
//                 through the tree), and the chunks alone fill their few cores (about 100 of them at the default
//                 model; kernels.ts, reducePartials); sum 1's invocations start at the next whole workgroup
//                 (common/grid1d.wgsl, composed before this file: thread_index and second_part_start);
// finalize:       workgroup k sums partials_k into its result (two workgroups).
// Stacked lanes: workgroup z is the lane; lane z's x0 and x1 start z·N0 and z·N1 into theirs, its partials z·parts_k
// into partials_k, and its results LANE_STATS floats after the last lane's.
struct Dims { N0: u32, N1: u32, chunk: u32, slot0: u32, slot1: u32, clip: f32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> x0: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials0: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials1: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;

// Threads per workgroup of partial and finalize (a power of two: the tree sum halves it).
const RWG = 256u;
var<workgroup> shared_sum: array<f32, RWG>;

override LANE_STATS: u32 = 0u;

fn parts(n: u32) -> u32 { return (n + d.chunk - 1u) / d.chunk; }

/** How many values sum k adds. */
fn values(k: u32) -> u32 { return select(d.N1, d.N0, k == 0u); }

/** Value i of lane z's sum k as it is added: x0[i], or x1[i]². */
fn term(z: u32, k: u32, i: u32) -> f32 {
  if (k == 0u) { return x0[z * d.N0 + i]; }
  let v = x1[z * d.N1 + i];
  return v * v;
}

fn setPartial(z: u32, k: u32, g: u32, v: f32) {
  if (k == 0u) { partials0[z * parts(d.N0) + g] = v; } else { partials1[z * parts(d.N1) + g] = v; }
}

/** Workgroup memory's RWG values summed in a tree: every invocation of the workgroup must call it. */
fn treeSum(lid: u32, acc: f32) -> f32 {
  shared_sum[lid] = acc;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { shared_sum[lid] += shared_sum[lid + s]; }
    workgroupBarrier();
  }
  return shared_sum[0];
}

@compute @workgroup_size(RWG)
fn partial(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // Uniform over the workgroup: which sum, and which of its chunks.
  let p0 = parts(d.N0);
  let k = select(1u, 0u, wid.x < p0);
  let g = select(wid.x - p0, wid.x, k == 0u);
  let start = g * d.chunk;
  let end = min(start + d.chunk, values(k));
  var acc = 0.0;
  for (var i = start + lid.x; i < end; i += RWG) { acc += term(wid.z, k, i); }
  let total = treeSum(lid.x, acc);
  if (lid.x == 0u) { setPartial(wid.z, k, g, total); }
}

// partial_serial runs on workgroups of WG invocations (grid1d.wgsl's override), one chunk each: small
// (kernels/, REDUCE_SERIAL_WG), so that a few dozen chunks still spread over several workgroups, i.e. several
// cores of a CPU adapter.
@compute @workgroup_size(WG)
fn partial_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p0 = parts(d.N0);
  let second = second_part_start(p0);
  var k = 0u;
  var g = thread_index(gid, nwg);
  if (g >= p0) {
    if (g < second) { return; }
    k = 1u;
    g -= second;
  }
  let n = values(k);
  let start = g * d.chunk;
  if (start >= n) { return; }
  let end = min(start + d.chunk, n);
  // Four running sums, 4 values a step (the chunk is a multiple of 4; the tail of x is not).
  var acc = vec4f(0.0);
  var i = start;
  let z = gid.z; // workgroups are one deep
  for (; i + 4u <= end; i += 4u) {
    acc += vec4f(term(z, k, i), term(z, k, i + 1u), term(z, k, i + 2u), term(z, k, i + 3u));
  }
  for (; i < end; i++) { acc.x += term(z, k, i); }
  setPartial(z, k, g, dot(acc, vec4f(1.0)));
}

@compute @workgroup_size(RWG)
fn finalize(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let k = wid.x;
  let z = wid.z;
  let n = parts(values(k));
  var acc = 0.0;
  for (var i = lid.x; i < n; i += RWG) {
    if (k == 0u) { acc += partials0[z * n + i]; } else { acc += partials1[z * n + i]; }
  }
  let total = treeSum(lid.x, acc);
  if (lid.x != 0u) { return; }
  let at = z * LANE_STATS;
  if (k == 0u) {
    stats[at + d.slot0] = total;
    return;
  }
  let norm = sqrt(total);
  stats[at + d.slot1] = norm;
  var scale = 1.0;
  if (d.clip > 0.0) { scale = min(1.0, d.clip / (norm + 1e-6)); }
  stats[at + d.slot1 + 1u] = scale;
  // Finite test on the bits (exponent all ones = Inf or NaN): WGSL lets compilers assume floats are finite, so
  // arithmetic tests such as x != x may be folded away. The optimizer skips non-finite steps.
  stats[at + d.slot1 + 2u] = select(0.0, 1.0, (bitcast<u32>(norm) & 0x7f800000u) != 0x7f800000u);
}
