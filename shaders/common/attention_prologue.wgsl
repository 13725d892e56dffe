// Multi-head self-attention after c_attn (nanoGPT's CausalSelfAttention without the projections): the uniform of
// every attention kernel. Composed with grid1d.wgsl, H (the element along the head dimension: f32, or vec4f when
// hs % 4 == 0) and attention_forward_bindings.wgsl or attention_backward_bindings.wgsl (src/engine/kernels/).
// qkv (B,T,3C): q, k, v in that order, heads split as view(B,T,NH,hs); att (B,NH,T,T); out (B,T,C).
// scale = 1/sqrt(hs); causal != 0 masks j > i.
struct Dims { B: u32, T: u32, C: u32, NH: u32, causal: u32, scale: f32 }
@group(0) @binding(0) var<uniform> d: Dims;

/** Row `row` of att (B,NH,T,T) as (b, h, i): batch, head and query position. */
fn queryRow(row: u32) -> vec3u {
  return vec3u(row / (d.T * d.NH), (row / d.T) % d.NH, row % d.T);
}
