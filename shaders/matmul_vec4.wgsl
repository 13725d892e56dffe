// C (M,N) = op(A)·op(B) [+ bias (N)] [+ C], as matmul.wgsl, for shapes whose contiguous dimensions are multiples
// of 4: after common/matmul_prologue.wgsl with E = vec4f, every operand is read as vec4, and each thread computes an
// 8×8 block of C in registers, so each loaded float is used 8 times (0.25 loads per multiply-add against the scalar
// 4×4 kernel's 0.5). Software adapters (SwiftShader) gather every loaded float lane by lane, so their speed follows
// the number of loads; no shared memory, hence no barriers, which they execute very slowly. One entry point per use
// in a Linear:
//   nt  forward   out  (BT,OC) = inp (BT,IC) · W (OC,IC)ᵀ + b     needs K % 4 == 0, N % 4 == 0
//   nn  backward  dinp (BT,IC) = dout (BT,OC) · W (OC,IC)         needs K % 4 == 0, N % 4 == 0
//                 [or, under nnWeightGrads, dW over doutᵀ with db into aux: BIAS_GRAD, needs M % 4 == 0 too]
//   tn  backward  dW   (OC,IC) += dout (BT,OC)ᵀ · inp (BT,IC)     needs M % 4 == 0, N % 4 == 0
//                 [and db (OC) += Σ_rows dout, into aux: BIAS_GRAD; split over the rows: SPLIT_K]
// Other shapes (a width off multiples of 4) take the general kernel; see src/engine/matmul-variants.ts. The tied
// lm_head pads an odd vocabulary to a multiple of 4 (src/model/params.ts, lmHeadRows) to run here.
// Under a tnOnly variant (lavapipe's choice) tn also computes the forward and dinp products, over operands copied
// transposed first (shaders/transpose.wgsl): there tn runs about twice as fast as nt and nn.
// vec4 views: K4 = K/4, N4 = N/4, M4 = M/4. Rows (and column pairs) past the edge are clamped for loading and
// skipped when storing.

/** Row a of A (or B) against 4 rows b0..b3, all along the contracted dimension: 4 dot products. */
fn dot4(a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return vec4f(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
}

/** Row a of A along k (4 values of k) times 4 rows of B, each 4 columns wide. */
fn axpy4(a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

/** Store row m of the block: columns 4·n4a.. and (when distinct) 4·n4b.., adding bias or the old value. */
fn storeRow(m: u32, n4a: u32, n4b: u32, lo: vec4f, hi: vec4f) {
  if (m >= d.M) { return; }
  let N4 = d.N / 4u;
  var x = lo;
  var y = hi;
  if (HAS_BIAS) {
    x += ldBias(n4a);
    y += ldBias(n4b);
  }
  if (ACCUMULATE) {
    x += ldC(m * N4 + n4a);
  }
  store(m * N4 + n4a, x);
  if (n4b != n4a) {
    if (ACCUMULATE) { y += ldC(m * N4 + n4b); }
    store(m * N4 + n4b, y);
  }
}

/** First output row of this thread's block, its two vec4 columns, and whether it has any work. */
struct Block { m0: u32, n4a: u32, n4b: u32, live: bool }

fn block(gid: vec3u) -> Block {
  let N4 = d.N / 4u;
  let m0 = gid.y * 8u;
  let n4a = gid.x * 2u;
  return Block(m0, n4a, min(n4a + 1u, N4 - 1u), m0 < d.M && n4a < N4);
}

@compute @workgroup_size(WG_X, WG_Y)
fn nt(@builtin(global_invocation_id) gid: vec3u) {
  enter(gid.z);
  let t = block(gid);
  if (!t.live) { return; }
  let K4 = d.K / 4u;
  let last = d.M - 1u;
  let ma = min(vec4u(t.m0, t.m0 + 1u, t.m0 + 2u, t.m0 + 3u), vec4u(last)) * K4;
  let mb = min(vec4u(t.m0 + 4u, t.m0 + 5u, t.m0 + 6u, t.m0 + 7u), vec4u(last)) * K4;
  let na = 4u * t.n4a * K4;
  let nb = 4u * t.n4b * K4;
  // c[2r] holds columns 4·n4a..+3 of row m0+r, c[2r+1] columns 4·n4b..+3.
  var c: array<vec4f, 16>;
  for (var k = 0u; k < K4; k++) {
    let b0 = ldB(na + k);
    let b1 = ldB(na + K4 + k);
    let b2 = ldB(na + 2u * K4 + k);
    let b3 = ldB(na + 3u * K4 + k);
    let b4 = ldB(nb + k);
    let b5 = ldB(nb + K4 + k);
    let b6 = ldB(nb + 2u * K4 + k);
    let b7 = ldB(nb + 3u * K4 + k);
    var a = ldA(ma.x + k);
    c[0] += dot4(a, b0, b1, b2, b3);
    c[1] += dot4(a, b4, b5, b6, b7);
    a = ldA(ma.y + k);
    c[2] += dot4(a, b0, b1, b2, b3);
    c[3] += dot4(a, b4, b5, b6, b7);
    a = ldA(ma.z + k);
    c[4] += dot4(a, b0, b1, b2, b3);
    c[5] += dot4(a, b4, b5, b6, b7);
    a = ldA(ma.w + k);
    c[6] += dot4(a, b0, b1, b2, b3);
    c[7] += dot4(a, b4, b5, b6, b7);
    a = ldA(mb.x + k);
    c[8] += dot4(a, b0, b1, b2, b3);
    c[9] += dot4(a, b4, b5, b6, b7);
    a = ldA(mb.y + k);
    c[10] += dot4(a, b0, b1, b2, b3);
    c[11] += dot4(a, b4, b5, b6, b7);
    a = ldA(mb.z + k);
    c[12] += dot4(a, b0, b1, b2, b3);
    c[13] += dot4(a, b4, b5, b6, b7);
    a = ldA(mb.w + k);
    c[14] += dot4(a, b0, b1, b2, b3);
    c[15] += dot4(a, b4, b5, b6, b7);
  }
  for (var r = 0u; r < 8u; r++) { storeRow(t.m0 + r, t.n4a, t.n4b, c[2u * r], c[2u * r + 1u]); }
}

@compute @workgroup_size(WG_X, WG_Y)
fn nn(@builtin(global_invocation_id) gid: vec3u) {
  enter(gid.z);
  let t = block(gid);
  if (!t.live) { return; }
  let K4 = d.K / 4u;
  let N4 = d.N / 4u;
  let last = d.M - 1u;
  let ma = min(vec4u(t.m0, t.m0 + 1u, t.m0 + 2u, t.m0 + 3u), vec4u(last)) * K4;
  let mb = min(vec4u(t.m0 + 4u, t.m0 + 5u, t.m0 + 6u, t.m0 + 7u), vec4u(last)) * K4;
  var c: array<vec4f, 16>;
  // BIAS_GRAD (a dW product over dout transposed, nnWeightGrads): the row sums of A, 4 lanes per row.
  var s: array<vec4f, 8>;
  for (var k = 0u; k < K4; k++) {
    // Rows 4k..4k+3 of B, columns 4·n4a.. and 4·n4b..
    let r0 = 4u * k * N4;
    let b0 = ldB(r0 + t.n4a);
    let b1 = ldB(r0 + N4 + t.n4a);
    let b2 = ldB(r0 + 2u * N4 + t.n4a);
    let b3 = ldB(r0 + 3u * N4 + t.n4a);
    let b4 = ldB(r0 + t.n4b);
    let b5 = ldB(r0 + N4 + t.n4b);
    let b6 = ldB(r0 + 2u * N4 + t.n4b);
    let b7 = ldB(r0 + 3u * N4 + t.n4b);
    var a = ldA(ma.x + k);
    if (BIAS_GRAD) { s[0u] += a; }
    c[0] += axpy4(a, b0, b1, b2, b3);
    c[1] += axpy4(a, b4, b5, b6, b7);
    a = ldA(ma.y + k);
    if (BIAS_GRAD) { s[1u] += a; }
    c[2] += axpy4(a, b0, b1, b2, b3);
    c[3] += axpy4(a, b4, b5, b6, b7);
    a = ldA(ma.z + k);
    if (BIAS_GRAD) { s[2u] += a; }
    c[4] += axpy4(a, b0, b1, b2, b3);
    c[5] += axpy4(a, b4, b5, b6, b7);
    a = ldA(ma.w + k);
    if (BIAS_GRAD) { s[3u] += a; }
    c[6] += axpy4(a, b0, b1, b2, b3);
    c[7] += axpy4(a, b4, b5, b6, b7);
    a = ldA(mb.x + k);
    if (BIAS_GRAD) { s[4u] += a; }
    c[8] += axpy4(a, b0, b1, b2, b3);
    c[9] += axpy4(a, b4, b5, b6, b7);
    a = ldA(mb.y + k);
    if (BIAS_GRAD) { s[5u] += a; }
    c[10] += axpy4(a, b0, b1, b2, b3);
    c[11] += axpy4(a, b4, b5, b6, b7);
    a = ldA(mb.z + k);
    if (BIAS_GRAD) { s[6u] += a; }
    c[12] += axpy4(a, b0, b1, b2, b3);
    c[13] += axpy4(a, b4, b5, b6, b7);
    a = ldA(mb.w + k);
    if (BIAS_GRAD) { s[7u] += a; }
    c[14] += axpy4(a, b0, b1, b2, b3);
    c[15] += axpy4(a, b4, b5, b6, b7);
  }
  for (var r = 0u; r < 8u; r++) { storeRow(t.m0 + r, t.n4a, t.n4b, c[2u * r], c[2u * r + 1u]); }
  // One thread per row block adds its sums (those of the first column block), as a vec4 per 4-row group: M % 4 == 0.
  if (BIAS_GRAD && t.n4a == 0u) {
    addBiasGrad(t.m0 / 4u, rowSums(s[0], s[1], s[2], s[3]));
    addBiasGrad(t.m0 / 4u + 1u, rowSums(s[4], s[5], s[6], s[7]));
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn tn(@builtin(global_invocation_id) gid: vec3u) {
  enter(gid.z);
  let t = block(gid);
  if (!t.live) { return; }
  let M4 = d.M / 4u;
  let N4 = d.N / 4u;
  let m4a = t.m0 / 4u;
  let m4b = min(m4a + 1u, M4 - 1u);
  var c: array<vec4f, 16>;
  // BIAS_GRAD: column sums of A (rows of C), the bias gradient, from the values loaded anyway.
  var sa = vec4f(0.0);
  var sb = vec4f(0.0);
  // SPLIT_K: only this workgroup's slice of the rows (prologue, kRange).
  let ks = kRange(slice);
  for (var k = ks.x; k < ks.y; k++) {
    let a0 = ldA(k * M4 + m4a);
    let a1 = ldA(k * M4 + m4b);
    if (BIAS_GRAD) {
      sa += a0;
      sb += a1;
    }
    let b0 = ldB(k * N4 + t.n4a);
    let b1 = ldB(k * N4 + t.n4b);
    c[0] += a0.x * b0;
    c[1] += a0.x * b1;
    c[2] += a0.y * b0;
    c[3] += a0.y * b1;
    c[4] += a0.z * b0;
    c[5] += a0.z * b1;
    c[6] += a0.w * b0;
    c[7] += a0.w * b1;
    c[8] += a1.x * b0;
    c[9] += a1.x * b1;
    c[10] += a1.y * b0;
    c[11] += a1.y * b1;
    c[12] += a1.z * b0;
    c[13] += a1.z * b1;
    c[14] += a1.w * b0;
    c[15] += a1.w * b1;
  }
  // With M % 8 == 4 the last block's second half aliases the first (m4b clamped): rows m0+4.. are past M.
  for (var r = 0u; r < 8u; r++) { storeRow(t.m0 + r, t.n4a, t.n4b, c[2u * r], c[2u * r + 1u]); }
  // One thread per row block adds its sums: those of the first column block.
  if (BIAS_GRAD && t.n4a == 0u) {
    addBiasGrad(m4a, sa);
    addBiasGrad(m4a + 1u, sb);
  }
}
