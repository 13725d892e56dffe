// Attention forward as attention_forward.wgsl computes it, with one workgroup of ROW_WG invocations per query row
// (b, h, i): lanes stride over the keys j for the scores, the softmax's max and sum are row_max and row_sum
// reductions (common/row_reduce.wgsl), then lanes stride over the head dimension e for the weighted sum, reading
// the probabilities ROW_WG keys at a time from workgroup memory. Composed after that,
// common/attention_prologue.wgsl and common/attention_forward_bindings.wgsl with H = f32 (any hs).
//   att[b,h,i,:]       = softmax(q_i·k_j / sqrt(hs)), zero where masked (j > i when causal)
//   out[b,i,h·hs + e]  = Σ_j att[b,h,i,j] · v[b,j,h,e]
// Each lane reads back only the entries of att it wrote itself (j ≡ lane mod ROW_WG); the probabilities reach the
// other lanes through workgroup memory, between barriers. With hs < ROW_WG the lanes past hs idle in the sum.

var<workgroup> probs: array<f32, ROW_WG>;

@compute @workgroup_size(ROW_WG)
fn main(g: RowGroup, l: Lanes) {
  let row = row_index(g); // (b, h, i); uniform across the workgroup, so returning keeps the barriers uniform
  if (row >= d.B * d.NH * d.T) { return; }
  let q = queryRow(row);
  let b = q.x;
  let h = q.y;
  let i = q.z;
  let hs = d.C / d.NH;
  let C3 = 3u * d.C;
  let qBase = (b * d.T + i) * C3 + h * hs;
  let base = row * d.T;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = i + 1u; }
  var maxv = -3.0e38;
  for (var j = l.index; j < jEnd; j += ROW_WG) {
    let kBase = (b * d.T + j) * C3 + d.C + h * hs;
    var s = 0.0;
    for (var e = 0u; e < hs; e++) { s += qkv[qBase + e] * qkv[kBase + e]; }
    s = s * d.scale;
    att[base + j] = s;
    maxv = max(maxv, s);
  }
  maxv = row_max(maxv, l);
  var sum = 0.0;
  for (var j = l.index; j < jEnd; j += ROW_WG) {
    let e = exp(att[base + j] - maxv);
    att[base + j] = e;
    sum += e;
  }
  let inv = 1.0 / row_sum(sum, l);
  for (var j = l.index; j < d.T; j += ROW_WG) {
    if (j < jEnd) { att[base + j] *= inv; } else { att[base + j] = 0.0; }
  }
  let vBase = b * d.T * C3 + 2u * d.C + h * hs;
  let oBase = (b * d.T + i) * d.C + h * hs;
  for (var e0 = 0u; e0 < hs; e0 += ROW_WG) {
    let e = e0 + l.index;
    var acc = 0.0;
    for (var j0 = 0u; j0 < jEnd; j0 += ROW_WG) {
      workgroupBarrier(); // every lane is done reading the previous keys' probabilities
      let j = j0 + l.index;
      if (j < jEnd) { probs[l.index] = att[base + j]; }
      workgroupBarrier();
      if (e < hs) {
        let n = min(ROW_WG, jEnd - j0);
        for (var k = 0u; k < n; k++) { acc += probs[k] * qkv[vBase + (j0 + k) * C3 + e]; }
      }
    }
    if (e < hs) { out[oBase + e] = acc; }
  }
}
