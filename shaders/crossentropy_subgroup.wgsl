// Weighted softmax cross-entropy fused with its backward, as shaders/crossentropy.wgsl computes it, with one
// workgroup per (head, b, t) row: invocations stride over the row's V logits, and the max and the sum of
// exponentials are row_max and row_sum reductions (common/row_reduce.wgsl). Composed after that and
// common/crossentropy_bindings.wgsl.
//   loss[r]   = w_r · (logsumexp(logits_r) − logits_r[target_r])
//   dlogits_r = w_r · (softmax(logits_r) − onehot(target_r)), written over the logits.
// A zero weight (or a target outside the vocabulary) excludes the row: zero loss, zero gradient. The row is reduced
// either way, so that every invocation reaches the reductions' barriers. The pad columns V..Vp of a row of Vp get a
// zero gradient.
@compute @workgroup_size(ROW_WG)
fn main(g: RowGroup, l: Lanes) {
  let r = row_index(g);
  if (r >= d.H * d.BT) { return; }
  let base = (r / d.BT) * d.headStride + (r % d.BT) * d.Vp;
  for (var v = d.V + l.index; v < d.Vp; v += ROW_WG) { logits[base + v] = 0.0; }
  let tgt = targets[r];
  var w = weights[r];
  if (tgt < 0 || tgt >= i32(d.V)) { w = 0.0; }
  var maxv = -3.0e38;
  for (var v = l.index; v < d.V; v += ROW_WG) { maxv = max(maxv, logits[base + v]); }
  maxv = row_max(maxv, l);
  var sum = 0.0;
  for (var v = l.index; v < d.V; v += ROW_WG) { sum += exp(logits[base + v] - maxv); }
  let lse = maxv + log(row_sum(sum, l));
  if (l.index == 0u && w == 0.0) { losses[r] = 0.0; }
  for (var v = l.index; v < d.V; v += ROW_WG) {
    let x = logits[base + v];
    // The invocation that holds the target's logit writes the loss: it reads that logit before it overwrites it.
    if (w != 0.0 && i32(v) == tgt) { losses[r] = w * (lse - x); }
    let p = exp(x - lse);
    logits[base + v] = select(0.0, w * (p - select(0.0, 1.0, i32(v) == tgt)), w != 0.0);
  }
}
