// Token + position embedding (nanoGPT: tok_emb + pos_emb).
// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]            out (B,T,C), wte (V,C), wpe (blockSize,C)
// One thread per element, or per 4 adjacent ones where R = vec4f (C % 4 == 0: a quarter of the loads). Composed
// after the row element (R, R_LANES: src/engine/kernels/) and common/lanes.wgsl; W = C / R_LANES elements per row.
// Stacked lanes: B counts every lane's sequences, and each position reads its lane's wte and wpe.
struct Dims { B: u32, T: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> tokens: array<i32>;
@group(0) @binding(2) var<storage, read> wte: array<R>;
@group(0) @binding(3) var<storage, read> wpe: array<R>;
@group(0) @binding(4) var<storage, read_write> out: array<R>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  let W = d.C / R_LANES; // elements of R per row
  if (i >= d.B * d.T * W) { return; }
  let c = i % W;
  let bt = i / W;
  let t = bt % d.T;
  // Out-of-range ids are clamped rather than read out of bounds; the trainer validates ids before upload.
  let tok = u32(clamp(tokens[bt], 0, i32(d.V) - 1));
  let p = lane_params(lane_of_row(bt), R_LANES);
  out[i] = wte[p + tok * W + c] + wpe[p + t * W + c];
}
