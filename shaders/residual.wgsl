// Residual connection. The forward sum is c_proj's matmul epilogue (common/matmul_prologue.wgsl, RESIDUAL). In the
// backward the gradient of a sum passes unchanged to both inputs, so the trunk's backward pass simply keeps
// accumulating into one residual-gradient buffer (as llm.c); this kernel adds a side branch's gradient into it
// (where the extra multi-token heads rejoin the trunk). a, b, out (N)
struct Dims { N: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// out += a  (b unused)
@compute @workgroup_size(WG)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  if (i >= d.N) { return; }
  out[i] += a[i];
}
