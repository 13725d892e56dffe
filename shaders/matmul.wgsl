// C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+ C], after common/matmul_prologue.wgsl with E = f32 (its
// bindings and epilogue), with op = optional transpose, chosen by override constants so that one source serves a
// Linear's forward (TRANS_B) and both of its backward products (no transpose; TRANS_A with ACCUMULATE for dW).
// Each thread computes a 4×4 block of C in registers and reads A and B straight from storage: no shared memory and
// so no workgroup barriers, which software adapters (SwiftShader) execute very slowly.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

fn loadA(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return ldA(k * d.M + m); }
  return ldA(m * d.K + k);
}

fn loadB(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return ldB(n * d.K + k); }
  return ldB(k * d.N + n);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  enter(gid.z);
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= d.M || n0 >= d.N) { return; }
  // Rows/columns past the edge are clamped for loading and skipped when storing.
  let mi = min(vec4u(m0, m0 + 1u, m0 + 2u, m0 + 3u), vec4u(d.M - 1u));
  let ni = min(vec4u(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4u(d.N - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  // BIAS_GRAD: the column sums of A for rows m0..m0+3 of C (the bias gradient), from the values loaded anyway.
  var colSums = vec4f(0.0);
  // SPLIT_K: only this workgroup's slice of the rows of a dW product (prologue, kRange).
  let ks = kRange(slice);
  for (var k = ks.x; k < ks.y; k++) {
    let a = vec4f(loadA(mi.x, k), loadA(mi.y, k), loadA(mi.z, k), loadA(mi.w, k));
    if (BIAS_GRAD) { colSums += a; }
    let b = vec4f(loadB(k, ni.x), loadB(k, ni.y), loadB(k, ni.z), loadB(k, ni.w));
    acc0 += a.x * b;
    acc1 += a.y * b;
    acc2 += a.z * b;
    acc3 += a.w * b;
  }
  var bv = vec4f(0.0);
  if (HAS_BIAS) { bv = vec4f(ldBias(ni.x), ldBias(ni.y), ldBias(ni.z), ldBias(ni.w)); }
  let rows = array<vec4f, 4>(acc0 + bv, acc1 + bv, acc2 + bv, acc3 + bv);
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + r;
    if (m >= d.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + c;
      if (n >= d.N) { break; }
      var v = rows[r][c];
      if (ACCUMULATE) { v += ldC(m * d.N + n); }
      store(m * d.N + n, v);
    }
  }
  // One thread per row block adds its sums: that of the first column block (rows past M skip, addBiasGrad).
  if (BIAS_GRAD && n0 == 0u) {
    for (var r = 0u; r < 4u; r++) { addBiasGrad(m0 + r, colSums[r]); }
  }
}
