// Weighted softmax cross-entropy fused with its backward, one thread per (head, b, t) row.
// logits (H, headStride) with rows of Vp, the first V the vocabulary's; targets, weights, losses (H·B·T).
//   loss[r]   = w_r · (logsumexp(logits_r) − logits_r[target_r])
//   dlogits_r = w_r · (softmax(logits_r) − onehot(target_r)), written over the logits (they are not needed again).
// A zero weight (or a target outside the vocabulary) excludes the row: zero loss, zero gradient. The pad columns
// V..Vp get a zero gradient, so that the lm_head's pad rows get none.
// Composed after common/crossentropy_bindings.wgsl.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = thread_index(gid, nwg);
  if (r >= d.H * d.BT) { return; }
  let base = (r / d.BT) * d.headStride + (r % d.BT) * d.Vp;
  for (var v = d.V; v < d.Vp; v++) { logits[base + v] = 0.0; }
  let tgt = targets[r];
  var w = weights[r];
  if (tgt < 0 || tgt >= i32(d.V)) { w = 0.0; }
  if (w == 0.0) {
    for (var v = 0u; v < d.V; v++) { logits[base + v] = 0.0; }
    losses[r] = 0.0;
    return;
  }
  var maxv = -3.0e38;
  for (var v = 0u; v < d.V; v++) { maxv = max(maxv, logits[base + v]); }
  var sum = 0.0;
  for (var v = 0u; v < d.V; v++) { sum += exp(logits[base + v] - maxv); }
  let lse = maxv + log(sum);
  losses[r] = w * (lse - logits[base + u32(tgt)]);
  for (var v = 0u; v < d.V; v++) {
    let p = exp(logits[base + v] - lse);
    logits[base + v] = w * (p - select(0.0, 1.0, i32(v) == tgt));
  }
}
