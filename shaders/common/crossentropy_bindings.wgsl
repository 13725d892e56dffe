// Cross-entropy's uniform and buffers, shared by shaders/crossentropy.wgsl (one thread per row) and
// shaders/crossentropy_subgroup.wgsl (one workgroup per row). logits (H, headStride) with rows of Vp: the
// vocabulary V padded to a multiple of 4 for the lm_head's vectorised kernels (src/model/params.ts, lmHeadRows).
// The softmax is over the first V; the pad columns get a zero gradient. targets, weights, losses (H·B·T).
struct Dims { BT: u32, V: u32, Vp: u32, H: u32, headStride: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
