// Cross-entropy's uniform and buffers, shared by shaders/crossentropy.wgsl (one thread per row) and
// shaders/crossentropy_subgroup.wgsl (one workgroup per row). logits (H, headStride) with rows of Vp: the
// vocabulary V padded to a multiple of 4 for the lm_head's vectorised kernels (src/model/params.ts, lmHeadRows).
// The softmax is over the first V but `exclude` (a column ≥ V: none); the pad columns and `exclude` get a zero
// gradient. targets, weights, losses (H·B·T). focalGamma 0: the plain cross-entropy; else each row's loss ℓ becomes
// (1−e^{−ℓ})^γ·ℓ (focal_loss below), as HKUNLP's diffusion trains.
// Soft rows: the heads are lanes of laneHeads each, and a lane's head softHead (0xffffffff: none) is the token-order
// head, whose rows take ListNet against soft targets q (soft: (lanes·BT, V), a lane's rows after the last's):
// ℓ = logsumexp − Σ_v q_v·logits_v, dlogits = w·(softmax − q); their targets are not read.
struct Dims { BT: u32, V: u32, Vp: u32, H: u32, headStride: u32, exclude: u32, laneHeads: u32, softHead: u32, focalGamma: f32 }

@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
@group(0) @binding(5) var<storage, read> soft: array<f32>;

// Row r's soft targets start here (soft_row), or it has none (a next-token head's row).
fn soft_row(r: u32) -> u32 {
  let head = r / d.BT;
  if (head % d.laneHeads != d.softHead) { return 0xffffffffu; }
  return ((head / d.laneHeads) * d.BT + r % d.BT) * d.V;
}

// A row's loss and the factor its softmax gradient (p − onehot) is scaled by, for ℓ = logsumexp − logit[target]:
//   γ = 0: ℓ and 1;
//   γ > 0: f(ℓ) = q^γ·ℓ with q = 1 − e^{−ℓ}, and f'(ℓ) = q^γ + γ·ℓ·e^{−ℓ}·q^{γ−1} (differentiated through, as
//          HKUNLP's trainer does). ℓ ≤ 0 (a certain prediction, or rounding) gives 0 and 0: q^{γ−1} is not read
//          there, and pow is never taken of 0.
fn focal_loss(l: f32) -> vec2f {
  if (d.focalGamma == 0.0) { return vec2f(l, 1.0); }
  if (l <= 0.0) { return vec2f(0.0, 0.0); }
  let e = exp(-l);
  let q = 1.0 - e;
  if (q <= 0.0) { return vec2f(0.0, 0.0); }
  let qg = pow(q, d.focalGamma);
  return vec2f(qg * l, qg + d.focalGamma * l * e * qg / q);
}
