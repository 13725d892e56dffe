// Weighted softmax cross-entropy fused with its backward, as shaders/crossentropy.wgsl computes it, with one
// workgroup per (head, b, t) row: invocations stride over the row's V logits, and the max and the sum of
// exponentials are row_max and row_sum reductions (common/row_reduce.wgsl). Composed after that and
// common/crossentropy_bindings.wgsl.
//   loss[r]   = w_r · f(ℓ_r), ℓ_r = logsumexp(logits_r) − logits_r[target_r], over the vocabulary but d.exclude
//   dlogits_r = w_r · f'(ℓ_r) · (softmax(logits_r) − onehot(target_r)), written over the logits.
// A zero weight (or a target outside the vocabulary, or the excluded column) excludes the row: zero loss, zero
// gradient. The row is reduced either way, so that every invocation reaches the reductions' barriers. The pad
// columns V..Vp of a row of Vp and the excluded column get a zero gradient. The token-order head's rows (soft_row)
// take ListNet against their soft targets instead: ℓ = lse − Σ q_v·logits_v, dlogits = w·(softmax − q).
@compute @workgroup_size(ROW_WG)
fn main(g: RowGroup, l: Lanes) {
  let r = row_index(g);
  if (r >= d.H * d.BT) { return; }
  let base = (r / d.BT) * d.headStride + (r % d.BT) * d.Vp;
  for (var v = d.V + l.index; v < d.Vp; v += ROW_WG) { logits[base + v] = 0.0; }
  let tgt = targets[r];
  var w = weights[r];
  let q = soft_row(r); // the same for every invocation of the row, so the reductions below stay uniform
  let isSoft = q != 0xffffffffu;
  if (!isSoft && (tgt < 0 || tgt >= i32(d.V) || u32(tgt) == d.exclude)) { w = 0.0; }
  var maxv = -3.0e38;
  for (var v = l.index; v < d.V; v += ROW_WG) { if (v != d.exclude) { maxv = max(maxv, logits[base + v]); } }
  maxv = row_max(maxv, l);
  var sum = 0.0;
  for (var v = l.index; v < d.V; v += ROW_WG) { if (v != d.exclude) { sum += exp(logits[base + v] - maxv); } }
  let lse = maxv + log(row_sum(sum, l));
  if (l.index == 0u && w == 0.0) { losses[r] = 0.0; }
  // A soft row's Σ q_v·logits_v (ListNet: ℓ = lse − it, Σ q_v = 1), reduced before any logit is overwritten.
  var dot = 0.0;
  if (isSoft) {
    for (var v = l.index; v < d.V; v += ROW_WG) { dot += soft[q + v] * logits[base + v]; }
    dot = row_sum(dot, l);
  }
  // Every invocation needs f'(ℓ), so each reads the target's logit before any overwrites it (the barrier orders
  // the storage reads before the writes below).
  var f = vec2f(0.0);
  if (w != 0.0 && !isSoft) { f = focal_loss(lse - logits[base + u32(tgt)]); }
  if (isSoft) { f = vec2f(lse - dot, 1.0); }
  storageBarrier();
  if (w != 0.0 && l.index == 0u) { losses[r] = w * f.x; }
  let scale = w * f.y;
  for (var v = l.index; v < d.V; v += ROW_WG) {
    let p = exp(logits[base + v] - lse);
    // The target: onehot(target), or a soft row's q.
    var y = select(0.0, 1.0, i32(v) == tgt);
    if (isSoft) { y = soft[q + v]; }
    logits[base + v] = select(0.0, scale * (p - y), w != 0.0 && v != d.exclude);
  }
}
