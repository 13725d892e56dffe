// LayerNorm backward's uniform and buffers, shared by shaders/layernorm_backward.wgsl (one thread per row or
// column) and shaders/layernorm_backward_subgroup.wgsl (one workgroup per row or column).
// dout, inp, dinp (N,C); mean, rstd (N); weight, dweight, dbias (C). R, the element of the (N,C) and (C) arrays, is
// declared before (src/engine/kernels/, rowElement): f32, or vec4f for the one-thread kernels where C % 4 == 0,
// which then index them in vec4s.
struct Dims { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> dout: array<R>;
@group(0) @binding(2) var<storage, read> inp: array<R>;
@group(0) @binding(3) var<storage, read> weight: array<R>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dinp: array<R>;
@group(0) @binding(7) var<storage, read_write> dweight: array<R>;
@group(0) @binding(8) var<storage, read_write> dbias: array<R>;
