// Weighted softmax cross-entropy fused with its backward, one thread per (head, b, t) row.
// logits (H, headStride) with rows of Vp, the first V the vocabulary's; targets, weights, losses (H·B·T).
//   ℓ_r       = logsumexp(logits_r) − logits_r[target_r], the softmax over the vocabulary but d.exclude
//   loss[r]   = w_r · f(ℓ_r)
//   dlogits_r = w_r · f'(ℓ_r) · (softmax(logits_r) − onehot(target_r)), written over the logits (they are not needed
//               again); f(ℓ) = ℓ, or the focal f of common/crossentropy_bindings.wgsl.
// A zero weight (or a target outside the vocabulary, or the excluded column) excludes the row: zero loss, zero
// gradient. The pad columns V..Vp and the excluded column get a zero gradient, so that their lm_head rows get none.
// The token-order head's rows (soft_row) take ListNet over the whole vocabulary instead (exclude and γ are the
// next-token heads' loss shape; a TOP model's is the plain one).
// Composed after common/crossentropy_bindings.wgsl.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = thread_index(gid, nwg);
  if (r >= d.H * d.BT) { return; }
  let base = (r / d.BT) * d.headStride + (r % d.BT) * d.Vp;
  for (var v = d.V; v < d.Vp; v++) { logits[base + v] = 0.0; }
  let tgt = targets[r];
  var w = weights[r];
  let q = soft_row(r);
  if (q == 0xffffffffu && (tgt < 0 || tgt >= i32(d.V) || u32(tgt) == d.exclude)) { w = 0.0; }
  if (w == 0.0) {
    for (var v = 0u; v < d.V; v++) { logits[base + v] = 0.0; }
    losses[r] = 0.0;
    return;
  }
  var maxv = -3.0e38;
  for (var v = 0u; v < d.V; v++) { if (v != d.exclude) { maxv = max(maxv, logits[base + v]); } }
  var sum = 0.0;
  for (var v = 0u; v < d.V; v++) { if (v != d.exclude) { sum += exp(logits[base + v] - maxv); } }
  let lse = maxv + log(sum);
  if (q != 0xffffffffu) {
    // ListNet: ℓ = lse − Σ q_v·logits_v (Σ q_v = 1), its gradient softmax − q; no column left out, no focal weight.
    var dot = 0.0;
    for (var v = 0u; v < d.V; v++) { dot += soft[q + v] * logits[base + v]; }
    losses[r] = w * (lse - dot);
    for (var v = 0u; v < d.V; v++) { logits[base + v] = w * (exp(logits[base + v] - lse) - soft[q + v]); }
    return;
  }
  let f = focal_loss(lse - logits[base + u32(tgt)]);
  losses[r] = w * f.x;
  let g = w * f.y;
  for (var v = 0u; v < d.V; v++) {
    let p = exp(logits[base + v] - lse);
    logits[base + v] = select(g * (p - select(0.0, 1.0, i32(v) == tgt)), 0.0, v == d.exclude);
  }
}
