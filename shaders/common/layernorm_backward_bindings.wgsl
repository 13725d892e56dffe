// LayerNorm backward's uniform and buffers, shared by shaders/layernorm_backward.wgsl (one thread per row or
// column) and shaders/layernorm_backward_subgroup.wgsl (one workgroup per row or column).
// dout, inp, dinp (N,C); mean, rstd (N); weight, dweight, dbias (C).
struct Dims { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(7) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbias: array<f32>;
