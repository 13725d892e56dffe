// Attention forward as attention_forward.wgsl computes it, restructured for fewer loads when hs % 4 == 0: q, k, v
// and out are read as vec4 along the head dimension, and each thread owns a register tile (4 query rows × 4 keys
// for the scores, 4 rows × 8 channels for the weighted sum), so every loaded vector is used 4 times.
// qkv (B,T,3C); att (B,NH,T,T), zero where masked; out (B,T,C). vec4 views: C4 = C/4, hs4 = hs/4, row4 = 3·C4.
// Rows past T are clamped for loading and skipped when storing, so T need not be a multiple of 4.
// Composed after common/attention_prologue.wgsl and common/attention_forward_bindings.wgsl with H = vec4f.
//
// One dispatch: scores, mask, softmax and out = att · v in the same thread. The probabilities still go through att
// (the backward reads them), and the thread reads back only what it wrote itself, so no barrier is needed.
// No flash-style tiling (Dao et al. 2022, keys in blocks with a running rescale of out): its point is never to
// write the T×T scores, but the backward needs att, and at the lab's T ≤ 64 a row of att is at most 256 bytes,
// which the weighted sum reads back from cache.

const NEG = -3.0e38;

/** Scaled scores of one query row against 4 keys, NEG where masked (key past T, or after the query when causal). */
fn masked(s: vec4f, i: u32, jv: vec4u) -> vec4f {
  var ok = jv < vec4u(d.T);
  if (d.causal != 0u) { ok = ok & (jv <= vec4u(i)); }
  return select(vec4f(NEG), s * d.scale, ok);
}

/** Online softmax statistics (Milakov & Gimelshein 2018): fold 4 more scores into (max, Σ exp(s − max)). */
fn fold(ms: vec2f, s: vec4f) -> vec2f {
  let m = max(ms.x, max(max(s.x, s.y), max(s.z, s.w)));
  let e = exp(s - vec4f(m));
  return vec2f(m, ms.y * exp(ms.x - m) + e.x + e.y + e.z + e.w);
}

fn store4(base: u32, j0: u32, v: vec4f) {
  att[base + j0] = v.x;
  if (j0 + 1u < d.T) { att[base + j0 + 1u] = v.y; }
  if (j0 + 2u < d.T) { att[base + j0 + 2u] = v.z; }
  if (j0 + 3u < d.T) { att[base + j0 + 3u] = v.w; }
}

/** att[row, :] = softmax of the raw scores stored there, zero from jEnd on. */
fn normalize(base: u32, jEnd: u32, ms: vec2f) {
  let inv = 1.0 / ms.y;
  for (var j = 0u; j < jEnd; j++) { att[base + j] = exp(att[base + j] - ms.x) * inv; }
  for (var j = jEnd; j < d.T; j++) { att[base + j] = 0.0; }
}

// One thread per (b, h, block of 4 query rows i0..i0+3): scores tile by tile, normalisation row by row, then the
// weighted sum in blocks of 8 channels e0..e0+7 (a head with hs % 8 == 4 has a last block of 4 channels: its
// second vec4 is clamped and not stored). Neighbouring threads take the same rows of the next (b, h), so the lanes
// of a SIMD group share the causal key range jEnd and none idles while another finishes a longer row (measured on
// lavapipe: with the rows of one (b, h) side by side the fused kernel was slower than the two it replaced).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let T4 = (d.T + 3u) / 4u;
  let task = thread_index(gid, nwg);
  if (task >= d.B * d.NH * T4) { return; }
  let bh = task % (d.B * d.NH);
  let i0 = (task / (d.B * d.NH)) * 4u;
  let h = bh % d.NH;
  let b = bh / d.NH;
  let C4 = d.C / 4u;
  let hs4 = C4 / d.NH;
  let row4 = 3u * C4;
  let last = d.T - 1u;
  let iv = min(vec4u(i0, i0 + 1u, i0 + 2u, i0 + 3u), vec4u(last));
  let q = (b * d.T + iv) * row4 + h * hs4;
  let kBase = b * d.T * row4 + C4 + h * hs4;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = min(i0 + 4u, d.T); }
  let rows = (bh * d.T + iv) * d.T;
  var ms0 = vec2f(NEG, 0.0);
  var ms1 = vec2f(NEG, 0.0);
  var ms2 = vec2f(NEG, 0.0);
  var ms3 = vec2f(NEG, 0.0);
  for (var j0 = 0u; j0 < jEnd; j0 += 4u) {
    let jv = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
    let k = kBase + min(jv, vec4u(last)) * row4;
    var s0 = vec4f(0.0);
    var s1 = vec4f(0.0);
    var s2 = vec4f(0.0);
    var s3 = vec4f(0.0);
    for (var e = 0u; e < hs4; e++) {
      let k0 = qkv[k.x + e];
      let k1 = qkv[k.y + e];
      let k2 = qkv[k.z + e];
      let k3 = qkv[k.w + e];
      var a = qkv[q.x + e];
      s0 += vec4f(dot(a, k0), dot(a, k1), dot(a, k2), dot(a, k3));
      a = qkv[q.y + e];
      s1 += vec4f(dot(a, k0), dot(a, k1), dot(a, k2), dot(a, k3));
      a = qkv[q.z + e];
      s2 += vec4f(dot(a, k0), dot(a, k1), dot(a, k2), dot(a, k3));
      a = qkv[q.w + e];
      s3 += vec4f(dot(a, k0), dot(a, k1), dot(a, k2), dot(a, k3));
    }
    s0 = masked(s0, i0, jv);
    s1 = masked(s1, i0 + 1u, jv);
    s2 = masked(s2, i0 + 2u, jv);
    s3 = masked(s3, i0 + 3u, jv);
    ms0 = fold(ms0, s0);
    ms1 = fold(ms1, s1);
    ms2 = fold(ms2, s2);
    ms3 = fold(ms3, s3);
    // Rows past T alias row T−1 (clamped); only real rows are stored.
    store4(rows.x, j0, s0);
    if (i0 + 1u < d.T) { store4(rows.y, j0, s1); }
    if (i0 + 2u < d.T) { store4(rows.z, j0, s2); }
    if (i0 + 3u < d.T) { store4(rows.w, j0, s3); }
  }
  let causal = d.causal != 0u;
  normalize(rows.x, select(d.T, i0 + 1u, causal), ms0);
  if (i0 + 1u < d.T) { normalize(rows.y, select(d.T, i0 + 2u, causal), ms1); }
  if (i0 + 2u < d.T) { normalize(rows.z, select(d.T, i0 + 3u, causal), ms2); }
  if (i0 + 3u < d.T) { normalize(rows.w, select(d.T, i0 + 4u, causal), ms3); }

  // out[b, i, h·hs + e] = Σ_j att[b,h,i,j] · v[b,j,h,e]. att is zero where masked, so rows shorter than jEnd add
  // nothing past their own end; a row past T reads row T−1's probabilities and is not stored.
  let vBase = b * d.T * row4 + 2u * C4 + h * hs4;
  for (var e0 = 0u; e0 < hs4; e0 += 2u) {
    let e1 = min(e0 + 1u, hs4 - 1u);
    var o0 = vec4f(0.0);
    var o1 = vec4f(0.0);
    var o2 = vec4f(0.0);
    var o3 = vec4f(0.0);
    var p0 = vec4f(0.0);
    var p1 = vec4f(0.0);
    var p2 = vec4f(0.0);
    var p3 = vec4f(0.0);
    for (var j = 0u; j < jEnd; j++) {
      let a = vec4f(att[rows.x + j], att[rows.y + j], att[rows.z + j], att[rows.w + j]);
      let v0 = qkv[vBase + j * row4 + e0];
      let v1 = qkv[vBase + j * row4 + e1];
      o0 += a.x * v0;
      o1 += a.y * v0;
      o2 += a.z * v0;
      o3 += a.w * v0;
      p0 += a.x * v1;
      p1 += a.y * v1;
      p2 += a.z * v1;
      p3 += a.w * v1;
    }
    let outs = array<vec4f, 4>(o0, o1, o2, o3);
    let outs2 = array<vec4f, 4>(p0, p1, p2, p3);
    for (var r = 0u; r < 4u; r++) {
      let i = i0 + r;
      if (i >= d.T) { break; }
      let o = (b * d.T + i) * C4 + h * hs4;
      out[o + e0] = outs[r];
      if (e0 + 1u < hs4) { out[o + e0 + 1u] = outs2[r]; }
    }
  }
}
