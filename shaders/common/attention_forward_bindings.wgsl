// Attention forward's buffers (legend: attention_prologue.wgsl). qkv and out hold H: a vec4 kernel indexes them
// in vec4s.
@group(0) @binding(1) var<storage, read> qkv: array<H>;
@group(0) @binding(2) var<storage, read_write> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<H>;
