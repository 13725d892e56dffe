// Deterministic sums in a fixed order (no atomics), for the loss and the global gradient norm.
// partial:  partials[g] = Σ over chunk g of x[i]²   (SQUARE) or x[i]: a workgroup per chunk, its RWG invocations'
//           sums meeting in a tree in workgroup memory (GPUs);
// partial_serial: the same partials, one invocation per chunk summing it in order, no barriers: CPU adapters
//           execute a workgroup barrier very slowly (SwiftShader: 26–35 ms for a gradient norm of 0.4M values through
//           the tree), and the chunks alone fill their few cores (about 100 of them at the default model; kernels.ts,
//           reducePartial);
// finalize: one workgroup sums the partials; writes stats[slot] = total (or sqrt(total) for the norm) and, for the
//           norm, the clip scale min(1, clip/(norm+1e-6)) (torch.nn.utils.clip_grad_norm_) and whether it is finite.
struct Dims { N: u32, chunk: u32, slot: u32, clip: f32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

override SQUARE: bool = false;
// Threads per workgroup (a power of two: the tree sum halves it). Independent of the dispatch, which counts
// workgroups: one per chunk for partial, one for finalize.
const RWG = 256u;
var<workgroup> shared_sum: array<f32, RWG>;

@compute @workgroup_size(RWG)
fn partial(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let start = wid.x * d.chunk;
  let end = min(start + d.chunk, d.N);
  var acc = 0.0;
  for (var i = start + lid.x; i < end; i += RWG) {
    let v = x[i];
    if (SQUARE) { acc += v * v; } else { acc += v; }
  }
  shared_sum[lid.x] = acc;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { shared_sum[lid.x] += shared_sum[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { partials[wid.x] = shared_sum[0]; }
}

// Invocations per workgroup of partial_serial (one chunk each): small, so that a few dozen chunks still spread over
// several workgroups, i.e. several cores of a CPU adapter. kernels.ts sets it (REDUCE_SERIAL_WG).
override SERIAL_WG: u32 = 4u;

@compute @workgroup_size(SERIAL_WG)
fn partial_serial(@builtin(global_invocation_id) gid: vec3u) {
  let g = gid.x;
  let start = g * d.chunk;
  if (start >= d.N) { return; }
  let end = min(start + d.chunk, d.N);
  // Four running sums, 4 values a step (the chunk is a multiple of 4; the tail of x is not).
  var acc = vec4f(0.0);
  var i = start;
  for (; i + 4u <= end; i += 4u) {
    let v = vec4f(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
    if (SQUARE) { acc += v * v; } else { acc += v; }
  }
  for (; i < end; i++) {
    let v = x[i];
    if (SQUARE) { acc.x += v * v; } else { acc.x += v; }
  }
  partials[g] = dot(acc, vec4f(1.0));
}

// Here N is the number of partials.
@compute @workgroup_size(RWG)
fn finalize(@builtin(local_invocation_id) lid: vec3u) {
  var acc = 0.0;
  for (var i = lid.x; i < d.N; i += RWG) { acc += partials[i]; }
  shared_sum[lid.x] = acc;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { shared_sum[lid.x] += shared_sum[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let total = shared_sum[0];
    if (SQUARE) {
      let norm = sqrt(total);
      stats[d.slot] = norm;
      var scale = 1.0;
      if (d.clip > 0.0) { scale = min(1.0, d.clip / (norm + 1e-6)); }
      stats[d.slot + 1u] = scale;
      // Finite test on the bits (exponent all ones = Inf or NaN): WGSL lets compilers assume floats are finite, so
      // arithmetic tests such as x != x may be folded away. The optimizer skips non-finite steps.
      stats[d.slot + 2u] = select(0.0, 1.0, (bitcast<u32>(norm) & 0x7f800000u) != 0x7f800000u);
    } else {
      stats[d.slot] = total;
    }
  }
}
