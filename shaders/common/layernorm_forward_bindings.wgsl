// LayerNorm forward's uniform and buffers, shared by shaders/layernorm_forward.wgsl (one thread per row) and
// shaders/layernorm_forward_subgroup.wgsl (one workgroup per row). inp, out (N,C); weight, bias (C); mean, rstd (N).
struct Dims { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
