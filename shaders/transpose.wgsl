// dst (cols, rows) = srcᵀ, src (rows, cols) row-major, both multiples of 4: the operands that a matmul variant with
// tnOnly (src/engine/matmul-variants.ts) copies transposed so that a forward (nt) or dinp (nn) product runs on the
// vec4 tn kernel. On lavapipe the tn kernel runs about twice as fast as nt and nn at the same shape and the same
// loads per multiply-add (docs/kernel-notes.md, "Every product as tn"), so two cheap passes over the operands pay.
// One thread per 4×4 block: four vec4 rows in, four vec4 columns out, nothing shared, no barrier.
// vec4 views: R4 = rows/4, C4 = cols/4; thread (x, y) moves the block at rows 4y.., columns 4x...
// S: src's element as stored, vec4f or vec4h (an activation the model keeps in f16, src/engine/kernels/
// transposeKernel); the copy is always f32, which the kernel that reads it takes as an f32 operand.
// Stacked lanes: workgroup z is the lane; lane z's src starts z·srcLane floats into src (an activation's lanes are
// packed, rows·cols apart; a weight's are a parameter table apart) and its dst z·rows·cols into dst.
struct Dims { rows: u32, cols: u32, srcLane: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> src: array<S>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let R4 = d.rows / 4u;
  let C4 = d.cols / 4u;
  let c4 = gid.x;
  let r4 = gid.y;
  if (c4 >= C4 || r4 >= R4) { return; }
  let s = gid.z * (d.srcLane / 4u);
  let o = gid.z * 4u * R4 * C4;
  let a = vec4f(src[s + (4u * r4) * C4 + c4]);
  let b = vec4f(src[s + (4u * r4 + 1u) * C4 + c4]);
  let c = vec4f(src[s + (4u * r4 + 2u) * C4 + c4]);
  let e = vec4f(src[s + (4u * r4 + 3u) * C4 + c4]);
  dst[o + (4u * c4) * R4 + r4] = vec4f(a.x, b.x, c.x, e.x);
  dst[o + (4u * c4 + 1u) * R4 + r4] = vec4f(a.y, b.y, c.y, e.y);
  dst[o + (4u * c4 + 2u) * R4 + r4] = vec4f(a.z, b.z, c.z, e.z);
  dst[o + (4u * c4 + 3u) * R4 + r4] = vec4f(a.w, b.w, c.w, e.w);
}
