// LayerNorm forward's uniform and buffers, shared by shaders/layernorm_forward.wgsl (one thread per row) and
// shaders/layernorm_forward_subgroup.wgsl (one workgroup per row). inp, out (N,C); weight, bias (C); mean, rstd (N).
// R, the element of the (N,C) and (C) arrays, is declared before (src/engine/kernels/, rowElement): f32, or vec4f
// for the one-thread-per-row kernel where C % 4 == 0, which then indexes them in vec4s.
struct Dims { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> inp: array<R>;
@group(0) @binding(2) var<storage, read> weight: array<R>;
@group(0) @binding(3) var<storage, read> bias: array<R>;
@group(0) @binding(4) var<storage, read_write> out: array<R>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
