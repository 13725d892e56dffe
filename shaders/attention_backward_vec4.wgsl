// Attention backward as attention_backward.wgsl computes it, restructured like attention_forward_vec4.wgsl for
// hs % 4 == 0: q, k, v, dout and dqkv are read and written as vec4 along the head dimension, and each thread owns a
// register tile so that every loaded vector is used 4 times.
// dscores: datt[i,j] = dout_i · v_j;  dpreatt[i,j] = att[i,j]·(datt[i,j] − Σ_j' att[i,j']·datt[i,j'])   (4 rows × 4 keys)
// dq:      dq_i = scale·Σ_j dpreatt[i,j]·k_j                                                            (4 rows × 8 channels)
// dkv:     dk_j = scale·Σ_i dpreatt[i,j]·q_i;  dv_j = Σ_i att[i,j]·dout_i                                (4 keys × 8 channels)
// qkv, dqkv (B,T,3C); att, dpreatt (B,NH,T,T); dout (B,T,C). Causal: att and dpreatt are zero for j > i, and the
// loops skip that triangle. Each thread owns the elements it writes (no atomics). Composed after
// common/attention_prologue.wgsl and common/attention_backward_bindings.wgsl with H = vec4f.

/** 4 consecutive entries of a (T,T) row from j0 on, zero past T (rows are not vec4-aligned when T % 4 != 0). */
fn attRow4(base: u32, j0: u32) -> vec4f {
  let jv = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
  let j = base + min(jv, vec4u(d.T - 1u));
  return select(vec4f(0.0), vec4f(att[j.x], att[j.y], att[j.z], att[j.w]), jv < vec4u(d.T));
}

fn dpreattRow4(base: u32, j0: u32) -> vec4f {
  let jv = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
  let j = base + min(jv, vec4u(d.T - 1u));
  return select(vec4f(0.0), vec4f(dpreatt[j.x], dpreatt[j.y], dpreatt[j.z], dpreatt[j.w]), jv < vec4u(d.T));
}

fn store4(base: u32, j0: u32, v: vec4f) {
  dpreatt[base + j0] = v.x;
  if (j0 + 1u < d.T) { dpreatt[base + j0 + 1u] = v.y; }
  if (j0 + 2u < d.T) { dpreatt[base + j0 + 2u] = v.z; }
  if (j0 + 3u < d.T) { dpreatt[base + j0 + 3u] = v.w; }
}

/** dpreatt[row, :] = att·(datt − s) where datt was stored, zero from jEnd on. */
fn finish(base: u32, jEnd: u32, s: f32) {
  for (var j = 0u; j < jEnd; j++) { dpreatt[base + j] = att[base + j] * (dpreatt[base + j] - s); }
  for (var j = jEnd; j < d.T; j++) { dpreatt[base + j] = 0.0; }
}

// One thread per (b, h, block of 4 query rows).
@compute @workgroup_size(WG)
fn dscores(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let T4 = (d.T + 3u) / 4u;
  let task = thread_index(gid, nwg);
  if (task >= d.B * d.NH * T4) { return; }
  let bh = task / T4;
  let i0 = (task % T4) * 4u;
  let h = bh % d.NH;
  let b = bh / d.NH;
  let C4 = d.C / 4u;
  let hs4 = C4 / d.NH;
  let row4q = 3u * C4;
  let last = d.T - 1u;
  let iv = min(vec4u(i0, i0 + 1u, i0 + 2u, i0 + 3u), vec4u(last));
  let o = (b * d.T + iv) * C4 + h * hs4;
  let vBase = b * d.T * row4q + 2u * C4 + h * hs4;
  let rows = (bh * d.T + iv) * d.T;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = min(i0 + 4u, d.T); }
  var s = vec4f(0.0);
  for (var j0 = 0u; j0 < jEnd; j0 += 4u) {
    let v = vBase + min(vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u), vec4u(last)) * row4q;
    var t0 = vec4f(0.0);
    var t1 = vec4f(0.0);
    var t2 = vec4f(0.0);
    var t3 = vec4f(0.0);
    for (var e = 0u; e < hs4; e++) {
      let v0 = qkv[v.x + e];
      let v1 = qkv[v.y + e];
      let v2 = qkv[v.z + e];
      let v3 = qkv[v.w + e];
      var g = dout[o.x + e];
      t0 += vec4f(dot(g, v0), dot(g, v1), dot(g, v2), dot(g, v3));
      g = dout[o.y + e];
      t1 += vec4f(dot(g, v0), dot(g, v1), dot(g, v2), dot(g, v3));
      g = dout[o.z + e];
      t2 += vec4f(dot(g, v0), dot(g, v1), dot(g, v2), dot(g, v3));
      g = dout[o.w + e];
      t3 += vec4f(dot(g, v0), dot(g, v1), dot(g, v2), dot(g, v3));
    }
    // att is zero past each row's end (and attRow4 pads past T with zeros), so masked entries add nothing to s.
    s += vec4f(dot(attRow4(rows.x, j0), t0), dot(attRow4(rows.y, j0), t1), dot(attRow4(rows.z, j0), t2), dot(attRow4(rows.w, j0), t3));
    store4(rows.x, j0, t0);
    if (i0 + 1u < d.T) { store4(rows.y, j0, t1); }
    if (i0 + 2u < d.T) { store4(rows.z, j0, t2); }
    if (i0 + 3u < d.T) { store4(rows.w, j0, t3); }
  }
  let causal = d.causal != 0u;
  finish(rows.x, select(d.T, i0 + 1u, causal), s.x);
  if (i0 + 1u < d.T) { finish(rows.y, select(d.T, i0 + 2u, causal), s.y); }
  if (i0 + 2u < d.T) { finish(rows.z, select(d.T, i0 + 3u, causal), s.z); }
  if (i0 + 3u < d.T) { finish(rows.w, select(d.T, i0 + 4u, causal), s.w); }
}

/** Decompose a task index into (b, h, first row t0 of a block of 4, first vec4 e0 of a block of 8 channels). */
fn tile(task: u32) -> vec4u {
  let T4 = (d.T + 3u) / 4u;
  let hs4 = d.C / 4u / d.NH;
  let E8 = (hs4 + 1u) / 2u;
  let e0 = (task % E8) * 2u;
  let t0 = ((task / E8) % T4) * 4u;
  let bh = task / (E8 * T4);
  return vec4u(bh / d.NH, bh % d.NH, t0, e0);
}

fn tasks() -> u32 {
  let hs4 = d.C / 4u / d.NH;
  return d.B * d.NH * ((d.T + 3u) / 4u) * ((hs4 + 1u) / 2u);
}

/** Store 4 rows × 8 channels into dqkv at channel offset `part` (0 q, C4 k, 2·C4 v) of head h. */
fn storeTile(b: u32, h: u32, t0: u32, e0: u32, part: u32, x: array<vec4f, 4>, y: array<vec4f, 4>) {
  let C4 = d.C / 4u;
  let hs4 = C4 / d.NH;
  for (var r = 0u; r < 4u; r++) {
    let t = t0 + r;
    if (t >= d.T) { break; }
    let base = (b * d.T + t) * 3u * C4 + part + h * hs4 + e0;
    dqkv[base] = x[r];
    if (e0 + 1u < hs4) { dqkv[base + 1u] = y[r]; }
  }
}

// dq and dkv in one dispatch: both read dpreatt (written by dscores) and write different thirds of dqkv, so nothing
// orders them. dq's tasks first, then dkv's from the next whole workgroup.
@compute @workgroup_size(WG)
fn dqkv_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = thread_index(gid, nwg);
  let n = tasks();
  let dkvStart = second_part_start(n);
  if (t < n) {
    dq(t);
  } else if (t >= dkvStart && t - dkvStart < n) {
    dkv(t - dkvStart);
  }
}

// One thread per (b, h, block of 4 query rows, block of 8 channels): dq.
fn dq(task: u32) {
  let tl = tile(task);
  let b = tl.x;
  let h = tl.y;
  let i0 = tl.z;
  let e0 = tl.w;
  let C4 = d.C / 4u;
  let hs4 = C4 / d.NH;
  let e1 = min(e0 + 1u, hs4 - 1u);
  let row4q = 3u * C4;
  let iv = min(vec4u(i0, i0 + 1u, i0 + 2u, i0 + 3u), vec4u(d.T - 1u));
  let rows = ((b * d.NH + h) * d.T + iv) * d.T;
  let kBase = b * d.T * row4q + C4 + h * hs4;
  var jEnd = d.T;
  if (d.causal != 0u) { jEnd = min(i0 + 4u, d.T); }
  var x0 = vec4f(0.0);
  var x1 = vec4f(0.0);
  var x2 = vec4f(0.0);
  var x3 = vec4f(0.0);
  var y0 = vec4f(0.0);
  var y1 = vec4f(0.0);
  var y2 = vec4f(0.0);
  var y3 = vec4f(0.0);
  for (var j = 0u; j < jEnd; j++) {
    let p = vec4f(dpreatt[rows.x + j], dpreatt[rows.y + j], dpreatt[rows.z + j], dpreatt[rows.w + j]) * d.scale;
    let k0 = qkv[kBase + j * row4q + e0];
    let k1 = qkv[kBase + j * row4q + e1];
    x0 += p.x * k0;
    x1 += p.y * k0;
    x2 += p.z * k0;
    x3 += p.w * k0;
    y0 += p.x * k1;
    y1 += p.y * k1;
    y2 += p.z * k1;
    y3 += p.w * k1;
  }
  storeTile(b, h, i0, e0, 0u, array<vec4f, 4>(x0, x1, x2, x3), array<vec4f, 4>(y0, y1, y2, y3));
}

// One thread per (b, h, block of 4 key rows j0..j0+3, block of 8 channels): dk and dv, summing over queries i.
fn dkv(task: u32) {
  let tl = tile(task);
  let b = tl.x;
  let h = tl.y;
  let j0 = tl.z;
  let e0 = tl.w;
  let C4 = d.C / 4u;
  let hs4 = C4 / d.NH;
  let e1 = min(e0 + 1u, hs4 - 1u);
  let row4q = 3u * C4;
  let rowT = (b * d.NH + h) * d.T;
  let qBase = b * d.T * row4q + h * hs4;
  let oBase = b * d.T * C4 + h * hs4;
  // Causal: queries before j0 do not attend to keys j0.. (att = dpreatt = 0 there).
  var iStart = 0u;
  if (d.causal != 0u) { iStart = j0; }
  var k0 = vec4f(0.0);
  var k1 = vec4f(0.0);
  var k2 = vec4f(0.0);
  var k3 = vec4f(0.0);
  var l0 = vec4f(0.0);
  var l1 = vec4f(0.0);
  var l2 = vec4f(0.0);
  var l3 = vec4f(0.0);
  var v0 = vec4f(0.0);
  var v1 = vec4f(0.0);
  var v2 = vec4f(0.0);
  var v3 = vec4f(0.0);
  var w0 = vec4f(0.0);
  var w1 = vec4f(0.0);
  var w2 = vec4f(0.0);
  var w3 = vec4f(0.0);
  for (var i = iStart; i < d.T; i++) {
    let r = (rowT + i) * d.T;
    let p = dpreattRow4(r, j0) * d.scale;
    let a = attRow4(r, j0);
    let q0 = qkv[qBase + i * row4q + e0];
    let q1 = qkv[qBase + i * row4q + e1];
    let g0 = dout[oBase + i * C4 + e0];
    let g1 = dout[oBase + i * C4 + e1];
    k0 += p.x * q0;
    k1 += p.y * q0;
    k2 += p.z * q0;
    k3 += p.w * q0;
    l0 += p.x * q1;
    l1 += p.y * q1;
    l2 += p.z * q1;
    l3 += p.w * q1;
    v0 += a.x * g0;
    v1 += a.y * g0;
    v2 += a.z * g0;
    v3 += a.w * g0;
    w0 += a.x * g1;
    w1 += a.y * g1;
    w2 += a.z * g1;
    w3 += a.w * g1;
  }
  storeTile(b, h, j0, e0, C4, array<vec4f, 4>(k0, k1, k2, k3), array<vec4f, 4>(l0, l1, l2, l3));
  storeTile(b, h, j0, e0, 2u * C4, array<vec4f, 4>(v0, v1, v2, v3), array<vec4f, 4>(w0, w1, w2, w3));
}
