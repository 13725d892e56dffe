// The second half of a split-K dW product (src/engine/kernels/, matmulSplitK): the S slices' partial products,
// each summed over its own rows of the contracted dimension by the matmul kernel with SPLIT_K, added up into C.
//   C  (M,N) [+]= Σ_s partials (S,M,N)              ACCUMULATE: dW += …, the gradients' semantics
//   aux (M)   += Σ_s biasPartials (S,M)             BIAS_GRAD: the Linear's bias gradient, db += Σ_rows dout
// One thread per element of C, summing the slices in order: deterministic, no atomics.
// Stacked lanes (kernels/ matmulSplitK): the partials are (lanes, S, M, N) and the bias partials (lanes, S, M);
// lane l's C and aux start l·laneC and l·laneX floats into theirs. One lane: l = 0.
struct Dims { MN: u32, M: u32, S: u32, lanes: u32, laneC: u32, laneX: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> biasPartials: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read_write> aux: array<f32>;

override ACCUMULATE: bool = false;
override BIAS_GRAD: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = thread_index(gid, nwg);
  if (t >= d.lanes * d.MN) { return; }
  let l = t / d.MN;
  let i = t % d.MN;
  let c = l * d.laneC + i;
  var acc = 0.0;
  for (var s = 0u; s < d.S; s++) { acc += partials[(l * d.S + s) * d.MN + i]; }
  if (ACCUMULATE) { acc += C[c]; }
  C[c] = acc;
  // M <= MN: the first M threads of each lane also sum its bias.
  if (BIAS_GRAD && i < d.M) {
    var b = 0.0;
    for (var s = 0u; s < d.S; s++) { b += biasPartials[(l * d.S + s) * d.M + i]; }
    aux[l * d.laneX + i] += b;
  }
}
