// Attention backward's buffers (legend: attention_prologue.wgsl): dout (B,T,C) and dqkv (B,T,3C) shaped as out and
// qkv, dpreatt (B,NH,T,T) as att. Those along the head dimension hold H.
@group(0) @binding(1) var<storage, read> qkv: array<H>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<H>;
@group(0) @binding(4) var<storage, read_write> dpreatt: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<H>;
