// The 16×16 register-blocked form of shaders/matmul_vec4.wgsl (same bindings, entry points, requirements and
// results; read that file first), after common/matmul_prologue.wgsl with E = vec4f. Each thread computes a 16×16
// block of C, so each loaded float is used 16 times (0.125 loads per multiply-add). SwiftShader gathers every loaded
// float lane by lane and its speed follows the number of loads: this is the variant it runs (bench/README.md). GPUs
// would spill the 256 accumulators; they use the 8×8 or tiled kernels. The bodies are unrolled by hand: SwiftShader's
// compiler does not unroll loops, and accumulators indexed by a loop variable would live in memory.
// Accumulator c<r>_<g>: row m0+r, columns 4·(n4+g)..+3. vec4 views: K4 = K/4, N4 = N/4, M4 = M/4.

fn dot4(a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return vec4f(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
}

fn axpy4(a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

/** Store row m of the block (16 columns from vec4 column n4), skipping rows past M and columns past N. */
fn storeRow(m: u32, n4: u32, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) {
  if (m >= d.M) { return; }
  let N4 = d.N / 4u;
  let xs = array<vec4f, 4>(x0, x1, x2, x3);
  for (var g = 0u; g < 4u; g++) {
    let n = n4 + g;
    if (n >= N4) { return; }
    var v = xs[g];
    if (HAS_BIAS) { v += bias[n]; }
    if (ACCUMULATE) { v += C[m * N4 + n]; }
    store(m * N4 + n, v);
  }
}

// forward: C = A (M,K) · B (N,K)ᵀ; K % 4 == 0, N % 4 == 0.
@compute @workgroup_size(WG_X, WG_Y)
fn nt(@builtin(global_invocation_id) gid: vec3u) {
  let N4 = d.N / 4u;
  let m0 = gid.y * 16u;
  let n4 = gid.x * 4u;
  if (m0 >= d.M || n4 >= N4) { return; }
  let K4 = d.K / 4u;
  // Row offsets (in vec4) of this block's 16 rows of A and 16 rows of B, clamped to the last row.
  let a0row = min(m0 + 0u, d.M - 1u) * K4;
  let a1row = min(m0 + 1u, d.M - 1u) * K4;
  let a2row = min(m0 + 2u, d.M - 1u) * K4;
  let a3row = min(m0 + 3u, d.M - 1u) * K4;
  let a4row = min(m0 + 4u, d.M - 1u) * K4;
  let a5row = min(m0 + 5u, d.M - 1u) * K4;
  let a6row = min(m0 + 6u, d.M - 1u) * K4;
  let a7row = min(m0 + 7u, d.M - 1u) * K4;
  let a8row = min(m0 + 8u, d.M - 1u) * K4;
  let a9row = min(m0 + 9u, d.M - 1u) * K4;
  let a10row = min(m0 + 10u, d.M - 1u) * K4;
  let a11row = min(m0 + 11u, d.M - 1u) * K4;
  let a12row = min(m0 + 12u, d.M - 1u) * K4;
  let a13row = min(m0 + 13u, d.M - 1u) * K4;
  let a14row = min(m0 + 14u, d.M - 1u) * K4;
  let a15row = min(m0 + 15u, d.M - 1u) * K4;
  let b0row = min(4u * n4 + 0u, d.N - 1u) * K4;
  let b1row = min(4u * n4 + 1u, d.N - 1u) * K4;
  let b2row = min(4u * n4 + 2u, d.N - 1u) * K4;
  let b3row = min(4u * n4 + 3u, d.N - 1u) * K4;
  let b4row = min(4u * n4 + 4u, d.N - 1u) * K4;
  let b5row = min(4u * n4 + 5u, d.N - 1u) * K4;
  let b6row = min(4u * n4 + 6u, d.N - 1u) * K4;
  let b7row = min(4u * n4 + 7u, d.N - 1u) * K4;
  let b8row = min(4u * n4 + 8u, d.N - 1u) * K4;
  let b9row = min(4u * n4 + 9u, d.N - 1u) * K4;
  let b10row = min(4u * n4 + 10u, d.N - 1u) * K4;
  let b11row = min(4u * n4 + 11u, d.N - 1u) * K4;
  let b12row = min(4u * n4 + 12u, d.N - 1u) * K4;
  let b13row = min(4u * n4 + 13u, d.N - 1u) * K4;
  let b14row = min(4u * n4 + 14u, d.N - 1u) * K4;
  let b15row = min(4u * n4 + 15u, d.N - 1u) * K4;
  var c0_0 = vec4f(0.0); var c0_1 = vec4f(0.0); var c0_2 = vec4f(0.0); var c0_3 = vec4f(0.0);
  var c1_0 = vec4f(0.0); var c1_1 = vec4f(0.0); var c1_2 = vec4f(0.0); var c1_3 = vec4f(0.0);
  var c2_0 = vec4f(0.0); var c2_1 = vec4f(0.0); var c2_2 = vec4f(0.0); var c2_3 = vec4f(0.0);
  var c3_0 = vec4f(0.0); var c3_1 = vec4f(0.0); var c3_2 = vec4f(0.0); var c3_3 = vec4f(0.0);
  var c4_0 = vec4f(0.0); var c4_1 = vec4f(0.0); var c4_2 = vec4f(0.0); var c4_3 = vec4f(0.0);
  var c5_0 = vec4f(0.0); var c5_1 = vec4f(0.0); var c5_2 = vec4f(0.0); var c5_3 = vec4f(0.0);
  var c6_0 = vec4f(0.0); var c6_1 = vec4f(0.0); var c6_2 = vec4f(0.0); var c6_3 = vec4f(0.0);
  var c7_0 = vec4f(0.0); var c7_1 = vec4f(0.0); var c7_2 = vec4f(0.0); var c7_3 = vec4f(0.0);
  var c8_0 = vec4f(0.0); var c8_1 = vec4f(0.0); var c8_2 = vec4f(0.0); var c8_3 = vec4f(0.0);
  var c9_0 = vec4f(0.0); var c9_1 = vec4f(0.0); var c9_2 = vec4f(0.0); var c9_3 = vec4f(0.0);
  var c10_0 = vec4f(0.0); var c10_1 = vec4f(0.0); var c10_2 = vec4f(0.0); var c10_3 = vec4f(0.0);
  var c11_0 = vec4f(0.0); var c11_1 = vec4f(0.0); var c11_2 = vec4f(0.0); var c11_3 = vec4f(0.0);
  var c12_0 = vec4f(0.0); var c12_1 = vec4f(0.0); var c12_2 = vec4f(0.0); var c12_3 = vec4f(0.0);
  var c13_0 = vec4f(0.0); var c13_1 = vec4f(0.0); var c13_2 = vec4f(0.0); var c13_3 = vec4f(0.0);
  var c14_0 = vec4f(0.0); var c14_1 = vec4f(0.0); var c14_2 = vec4f(0.0); var c14_3 = vec4f(0.0);
  var c15_0 = vec4f(0.0); var c15_1 = vec4f(0.0); var c15_2 = vec4f(0.0); var c15_3 = vec4f(0.0);
  for (var k = 0u; k < K4; k++) {
    let b0 = B[b0row + k];
    let b1 = B[b1row + k];
    let b2 = B[b2row + k];
    let b3 = B[b3row + k];
    let b4 = B[b4row + k];
    let b5 = B[b5row + k];
    let b6 = B[b6row + k];
    let b7 = B[b7row + k];
    let b8 = B[b8row + k];
    let b9 = B[b9row + k];
    let b10 = B[b10row + k];
    let b11 = B[b11row + k];
    let b12 = B[b12row + k];
    let b13 = B[b13row + k];
    let b14 = B[b14row + k];
    let b15 = B[b15row + k];
    var a = A[a0row + k];
    c0_0 += dot4(a, b0, b1, b2, b3);
    c0_1 += dot4(a, b4, b5, b6, b7);
    c0_2 += dot4(a, b8, b9, b10, b11);
    c0_3 += dot4(a, b12, b13, b14, b15);
    a = A[a1row + k];
    c1_0 += dot4(a, b0, b1, b2, b3);
    c1_1 += dot4(a, b4, b5, b6, b7);
    c1_2 += dot4(a, b8, b9, b10, b11);
    c1_3 += dot4(a, b12, b13, b14, b15);
    a = A[a2row + k];
    c2_0 += dot4(a, b0, b1, b2, b3);
    c2_1 += dot4(a, b4, b5, b6, b7);
    c2_2 += dot4(a, b8, b9, b10, b11);
    c2_3 += dot4(a, b12, b13, b14, b15);
    a = A[a3row + k];
    c3_0 += dot4(a, b0, b1, b2, b3);
    c3_1 += dot4(a, b4, b5, b6, b7);
    c3_2 += dot4(a, b8, b9, b10, b11);
    c3_3 += dot4(a, b12, b13, b14, b15);
    a = A[a4row + k];
    c4_0 += dot4(a, b0, b1, b2, b3);
    c4_1 += dot4(a, b4, b5, b6, b7);
    c4_2 += dot4(a, b8, b9, b10, b11);
    c4_3 += dot4(a, b12, b13, b14, b15);
    a = A[a5row + k];
    c5_0 += dot4(a, b0, b1, b2, b3);
    c5_1 += dot4(a, b4, b5, b6, b7);
    c5_2 += dot4(a, b8, b9, b10, b11);
    c5_3 += dot4(a, b12, b13, b14, b15);
    a = A[a6row + k];
    c6_0 += dot4(a, b0, b1, b2, b3);
    c6_1 += dot4(a, b4, b5, b6, b7);
    c6_2 += dot4(a, b8, b9, b10, b11);
    c6_3 += dot4(a, b12, b13, b14, b15);
    a = A[a7row + k];
    c7_0 += dot4(a, b0, b1, b2, b3);
    c7_1 += dot4(a, b4, b5, b6, b7);
    c7_2 += dot4(a, b8, b9, b10, b11);
    c7_3 += dot4(a, b12, b13, b14, b15);
    a = A[a8row + k];
    c8_0 += dot4(a, b0, b1, b2, b3);
    c8_1 += dot4(a, b4, b5, b6, b7);
    c8_2 += dot4(a, b8, b9, b10, b11);
    c8_3 += dot4(a, b12, b13, b14, b15);
    a = A[a9row + k];
    c9_0 += dot4(a, b0, b1, b2, b3);
    c9_1 += dot4(a, b4, b5, b6, b7);
    c9_2 += dot4(a, b8, b9, b10, b11);
    c9_3 += dot4(a, b12, b13, b14, b15);
    a = A[a10row + k];
    c10_0 += dot4(a, b0, b1, b2, b3);
    c10_1 += dot4(a, b4, b5, b6, b7);
    c10_2 += dot4(a, b8, b9, b10, b11);
    c10_3 += dot4(a, b12, b13, b14, b15);
    a = A[a11row + k];
    c11_0 += dot4(a, b0, b1, b2, b3);
    c11_1 += dot4(a, b4, b5, b6, b7);
    c11_2 += dot4(a, b8, b9, b10, b11);
    c11_3 += dot4(a, b12, b13, b14, b15);
    a = A[a12row + k];
    c12_0 += dot4(a, b0, b1, b2, b3);
    c12_1 += dot4(a, b4, b5, b6, b7);
    c12_2 += dot4(a, b8, b9, b10, b11);
    c12_3 += dot4(a, b12, b13, b14, b15);
    a = A[a13row + k];
    c13_0 += dot4(a, b0, b1, b2, b3);
    c13_1 += dot4(a, b4, b5, b6, b7);
    c13_2 += dot4(a, b8, b9, b10, b11);
    c13_3 += dot4(a, b12, b13, b14, b15);
    a = A[a14row + k];
    c14_0 += dot4(a, b0, b1, b2, b3);
    c14_1 += dot4(a, b4, b5, b6, b7);
    c14_2 += dot4(a, b8, b9, b10, b11);
    c14_3 += dot4(a, b12, b13, b14, b15);
    a = A[a15row + k];
    c15_0 += dot4(a, b0, b1, b2, b3);
    c15_1 += dot4(a, b4, b5, b6, b7);
    c15_2 += dot4(a, b8, b9, b10, b11);
    c15_3 += dot4(a, b12, b13, b14, b15);
  }
  storeRow(m0 + 0u, n4, c0_0, c0_1, c0_2, c0_3);
  storeRow(m0 + 1u, n4, c1_0, c1_1, c1_2, c1_3);
  storeRow(m0 + 2u, n4, c2_0, c2_1, c2_2, c2_3);
  storeRow(m0 + 3u, n4, c3_0, c3_1, c3_2, c3_3);
  storeRow(m0 + 4u, n4, c4_0, c4_1, c4_2, c4_3);
  storeRow(m0 + 5u, n4, c5_0, c5_1, c5_2, c5_3);
  storeRow(m0 + 6u, n4, c6_0, c6_1, c6_2, c6_3);
  storeRow(m0 + 7u, n4, c7_0, c7_1, c7_2, c7_3);
  storeRow(m0 + 8u, n4, c8_0, c8_1, c8_2, c8_3);
  storeRow(m0 + 9u, n4, c9_0, c9_1, c9_2, c9_3);
  storeRow(m0 + 10u, n4, c10_0, c10_1, c10_2, c10_3);
  storeRow(m0 + 11u, n4, c11_0, c11_1, c11_2, c11_3);
  storeRow(m0 + 12u, n4, c12_0, c12_1, c12_2, c12_3);
  storeRow(m0 + 13u, n4, c13_0, c13_1, c13_2, c13_3);
  storeRow(m0 + 14u, n4, c14_0, c14_1, c14_2, c14_3);
  storeRow(m0 + 15u, n4, c15_0, c15_1, c15_2, c15_3);
}

// backward dinp: C = A (M,K) · B (K,N); K % 4 == 0, N % 4 == 0.
@compute @workgroup_size(WG_X, WG_Y)
fn nn(@builtin(global_invocation_id) gid: vec3u) {
  let N4 = d.N / 4u;
  let m0 = gid.y * 16u;
  let n4 = gid.x * 4u;
  if (m0 >= d.M || n4 >= N4) { return; }
  let K4 = d.K / 4u;
  let a0row = min(m0 + 0u, d.M - 1u) * K4;
  let a1row = min(m0 + 1u, d.M - 1u) * K4;
  let a2row = min(m0 + 2u, d.M - 1u) * K4;
  let a3row = min(m0 + 3u, d.M - 1u) * K4;
  let a4row = min(m0 + 4u, d.M - 1u) * K4;
  let a5row = min(m0 + 5u, d.M - 1u) * K4;
  let a6row = min(m0 + 6u, d.M - 1u) * K4;
  let a7row = min(m0 + 7u, d.M - 1u) * K4;
  let a8row = min(m0 + 8u, d.M - 1u) * K4;
  let a9row = min(m0 + 9u, d.M - 1u) * K4;
  let a10row = min(m0 + 10u, d.M - 1u) * K4;
  let a11row = min(m0 + 11u, d.M - 1u) * K4;
  let a12row = min(m0 + 12u, d.M - 1u) * K4;
  let a13row = min(m0 + 13u, d.M - 1u) * K4;
  let a14row = min(m0 + 14u, d.M - 1u) * K4;
  let a15row = min(m0 + 15u, d.M - 1u) * K4;
  let n0 = min(n4 + 0u, N4 - 1u);
  let n1 = min(n4 + 1u, N4 - 1u);
  let n2 = min(n4 + 2u, N4 - 1u);
  let n3 = min(n4 + 3u, N4 - 1u);
  var c0_0 = vec4f(0.0); var c0_1 = vec4f(0.0); var c0_2 = vec4f(0.0); var c0_3 = vec4f(0.0);
  var c1_0 = vec4f(0.0); var c1_1 = vec4f(0.0); var c1_2 = vec4f(0.0); var c1_3 = vec4f(0.0);
  var c2_0 = vec4f(0.0); var c2_1 = vec4f(0.0); var c2_2 = vec4f(0.0); var c2_3 = vec4f(0.0);
  var c3_0 = vec4f(0.0); var c3_1 = vec4f(0.0); var c3_2 = vec4f(0.0); var c3_3 = vec4f(0.0);
  var c4_0 = vec4f(0.0); var c4_1 = vec4f(0.0); var c4_2 = vec4f(0.0); var c4_3 = vec4f(0.0);
  var c5_0 = vec4f(0.0); var c5_1 = vec4f(0.0); var c5_2 = vec4f(0.0); var c5_3 = vec4f(0.0);
  var c6_0 = vec4f(0.0); var c6_1 = vec4f(0.0); var c6_2 = vec4f(0.0); var c6_3 = vec4f(0.0);
  var c7_0 = vec4f(0.0); var c7_1 = vec4f(0.0); var c7_2 = vec4f(0.0); var c7_3 = vec4f(0.0);
  var c8_0 = vec4f(0.0); var c8_1 = vec4f(0.0); var c8_2 = vec4f(0.0); var c8_3 = vec4f(0.0);
  var c9_0 = vec4f(0.0); var c9_1 = vec4f(0.0); var c9_2 = vec4f(0.0); var c9_3 = vec4f(0.0);
  var c10_0 = vec4f(0.0); var c10_1 = vec4f(0.0); var c10_2 = vec4f(0.0); var c10_3 = vec4f(0.0);
  var c11_0 = vec4f(0.0); var c11_1 = vec4f(0.0); var c11_2 = vec4f(0.0); var c11_3 = vec4f(0.0);
  var c12_0 = vec4f(0.0); var c12_1 = vec4f(0.0); var c12_2 = vec4f(0.0); var c12_3 = vec4f(0.0);
  var c13_0 = vec4f(0.0); var c13_1 = vec4f(0.0); var c13_2 = vec4f(0.0); var c13_3 = vec4f(0.0);
  var c14_0 = vec4f(0.0); var c14_1 = vec4f(0.0); var c14_2 = vec4f(0.0); var c14_3 = vec4f(0.0);
  var c15_0 = vec4f(0.0); var c15_1 = vec4f(0.0); var c15_2 = vec4f(0.0); var c15_3 = vec4f(0.0);
  for (var k = 0u; k < K4; k++) {
    // Rows 4k..4k+3 of B (b<j>_<g>: row 4k+j, vec4 column n<g>).
    let r0 = 4u * k * N4;
    let b0_0 = B[r0 + n0]; let b0_1 = B[r0 + n1]; let b0_2 = B[r0 + n2]; let b0_3 = B[r0 + n3];
    let b1_0 = B[r0 + 1u * N4 + n0]; let b1_1 = B[r0 + 1u * N4 + n1]; let b1_2 = B[r0 + 1u * N4 + n2]; let b1_3 = B[r0 + 1u * N4 + n3];
    let b2_0 = B[r0 + 2u * N4 + n0]; let b2_1 = B[r0 + 2u * N4 + n1]; let b2_2 = B[r0 + 2u * N4 + n2]; let b2_3 = B[r0 + 2u * N4 + n3];
    let b3_0 = B[r0 + 3u * N4 + n0]; let b3_1 = B[r0 + 3u * N4 + n1]; let b3_2 = B[r0 + 3u * N4 + n2]; let b3_3 = B[r0 + 3u * N4 + n3];
    var a = A[a0row + k];
    c0_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c0_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c0_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c0_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a1row + k];
    c1_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c1_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c1_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c1_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a2row + k];
    c2_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c2_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c2_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c2_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a3row + k];
    c3_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c3_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c3_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c3_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a4row + k];
    c4_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c4_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c4_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c4_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a5row + k];
    c5_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c5_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c5_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c5_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a6row + k];
    c6_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c6_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c6_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c6_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a7row + k];
    c7_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c7_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c7_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c7_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a8row + k];
    c8_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c8_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c8_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c8_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a9row + k];
    c9_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c9_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c9_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c9_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a10row + k];
    c10_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c10_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c10_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c10_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a11row + k];
    c11_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c11_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c11_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c11_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a12row + k];
    c12_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c12_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c12_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c12_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a13row + k];
    c13_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c13_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c13_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c13_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a14row + k];
    c14_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c14_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c14_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c14_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
    a = A[a15row + k];
    c15_0 += axpy4(a, b0_0, b1_0, b2_0, b3_0);
    c15_1 += axpy4(a, b0_1, b1_1, b2_1, b3_1);
    c15_2 += axpy4(a, b0_2, b1_2, b2_2, b3_2);
    c15_3 += axpy4(a, b0_3, b1_3, b2_3, b3_3);
  }
  storeRow(m0 + 0u, n4, c0_0, c0_1, c0_2, c0_3);
  storeRow(m0 + 1u, n4, c1_0, c1_1, c1_2, c1_3);
  storeRow(m0 + 2u, n4, c2_0, c2_1, c2_2, c2_3);
  storeRow(m0 + 3u, n4, c3_0, c3_1, c3_2, c3_3);
  storeRow(m0 + 4u, n4, c4_0, c4_1, c4_2, c4_3);
  storeRow(m0 + 5u, n4, c5_0, c5_1, c5_2, c5_3);
  storeRow(m0 + 6u, n4, c6_0, c6_1, c6_2, c6_3);
  storeRow(m0 + 7u, n4, c7_0, c7_1, c7_2, c7_3);
  storeRow(m0 + 8u, n4, c8_0, c8_1, c8_2, c8_3);
  storeRow(m0 + 9u, n4, c9_0, c9_1, c9_2, c9_3);
  storeRow(m0 + 10u, n4, c10_0, c10_1, c10_2, c10_3);
  storeRow(m0 + 11u, n4, c11_0, c11_1, c11_2, c11_3);
  storeRow(m0 + 12u, n4, c12_0, c12_1, c12_2, c12_3);
  storeRow(m0 + 13u, n4, c13_0, c13_1, c13_2, c13_3);
  storeRow(m0 + 14u, n4, c14_0, c14_1, c14_2, c14_3);
  storeRow(m0 + 15u, n4, c15_0, c15_1, c15_2, c15_3);
}

// backward dW: C = A (K,M)ᵀ · B (K,N); M % 4 == 0, N % 4 == 0.
@compute @workgroup_size(WG_X, WG_Y)
fn tn(@builtin(global_invocation_id) gid: vec3u) {
  let M4 = d.M / 4u;
  let N4 = d.N / 4u;
  let m4 = gid.y * 4u;
  let n4 = gid.x * 4u;
  if (m4 >= M4 || n4 >= N4) { return; }
  let m0 = min(m4 + 0u, M4 - 1u);
  let m1 = min(m4 + 1u, M4 - 1u);
  let m2 = min(m4 + 2u, M4 - 1u);
  let m3 = min(m4 + 3u, M4 - 1u);
  let n0 = min(n4 + 0u, N4 - 1u);
  let n1 = min(n4 + 1u, N4 - 1u);
  let n2 = min(n4 + 2u, N4 - 1u);
  let n3 = min(n4 + 3u, N4 - 1u);
  var c0_0 = vec4f(0.0); var c0_1 = vec4f(0.0); var c0_2 = vec4f(0.0); var c0_3 = vec4f(0.0);
  var c1_0 = vec4f(0.0); var c1_1 = vec4f(0.0); var c1_2 = vec4f(0.0); var c1_3 = vec4f(0.0);
  var c2_0 = vec4f(0.0); var c2_1 = vec4f(0.0); var c2_2 = vec4f(0.0); var c2_3 = vec4f(0.0);
  var c3_0 = vec4f(0.0); var c3_1 = vec4f(0.0); var c3_2 = vec4f(0.0); var c3_3 = vec4f(0.0);
  var c4_0 = vec4f(0.0); var c4_1 = vec4f(0.0); var c4_2 = vec4f(0.0); var c4_3 = vec4f(0.0);
  var c5_0 = vec4f(0.0); var c5_1 = vec4f(0.0); var c5_2 = vec4f(0.0); var c5_3 = vec4f(0.0);
  var c6_0 = vec4f(0.0); var c6_1 = vec4f(0.0); var c6_2 = vec4f(0.0); var c6_3 = vec4f(0.0);
  var c7_0 = vec4f(0.0); var c7_1 = vec4f(0.0); var c7_2 = vec4f(0.0); var c7_3 = vec4f(0.0);
  var c8_0 = vec4f(0.0); var c8_1 = vec4f(0.0); var c8_2 = vec4f(0.0); var c8_3 = vec4f(0.0);
  var c9_0 = vec4f(0.0); var c9_1 = vec4f(0.0); var c9_2 = vec4f(0.0); var c9_3 = vec4f(0.0);
  var c10_0 = vec4f(0.0); var c10_1 = vec4f(0.0); var c10_2 = vec4f(0.0); var c10_3 = vec4f(0.0);
  var c11_0 = vec4f(0.0); var c11_1 = vec4f(0.0); var c11_2 = vec4f(0.0); var c11_3 = vec4f(0.0);
  var c12_0 = vec4f(0.0); var c12_1 = vec4f(0.0); var c12_2 = vec4f(0.0); var c12_3 = vec4f(0.0);
  var c13_0 = vec4f(0.0); var c13_1 = vec4f(0.0); var c13_2 = vec4f(0.0); var c13_3 = vec4f(0.0);
  var c14_0 = vec4f(0.0); var c14_1 = vec4f(0.0); var c14_2 = vec4f(0.0); var c14_3 = vec4f(0.0);
  var c15_0 = vec4f(0.0); var c15_1 = vec4f(0.0); var c15_2 = vec4f(0.0); var c15_3 = vec4f(0.0);
  for (var k = 0u; k < d.K; k++) {
    let b0 = B[k * N4 + n0]; let b1 = B[k * N4 + n1]; let b2 = B[k * N4 + n2]; let b3 = B[k * N4 + n3];
    var a = A[k * M4 + m0];
    c0_0 += a.x * b0; c0_1 += a.x * b1; c0_2 += a.x * b2; c0_3 += a.x * b3;
    c1_0 += a.y * b0; c1_1 += a.y * b1; c1_2 += a.y * b2; c1_3 += a.y * b3;
    c2_0 += a.z * b0; c2_1 += a.z * b1; c2_2 += a.z * b2; c2_3 += a.z * b3;
    c3_0 += a.w * b0; c3_1 += a.w * b1; c3_2 += a.w * b2; c3_3 += a.w * b3;
    a = A[k * M4 + m1];
    c4_0 += a.x * b0; c4_1 += a.x * b1; c4_2 += a.x * b2; c4_3 += a.x * b3;
    c5_0 += a.y * b0; c5_1 += a.y * b1; c5_2 += a.y * b2; c5_3 += a.y * b3;
    c6_0 += a.z * b0; c6_1 += a.z * b1; c6_2 += a.z * b2; c6_3 += a.z * b3;
    c7_0 += a.w * b0; c7_1 += a.w * b1; c7_2 += a.w * b2; c7_3 += a.w * b3;
    a = A[k * M4 + m2];
    c8_0 += a.x * b0; c8_1 += a.x * b1; c8_2 += a.x * b2; c8_3 += a.x * b3;
    c9_0 += a.y * b0; c9_1 += a.y * b1; c9_2 += a.y * b2; c9_3 += a.y * b3;
    c10_0 += a.z * b0; c10_1 += a.z * b1; c10_2 += a.z * b2; c10_3 += a.z * b3;
    c11_0 += a.w * b0; c11_1 += a.w * b1; c11_2 += a.w * b2; c11_3 += a.w * b3;
    a = A[k * M4 + m3];
    c12_0 += a.x * b0; c12_1 += a.x * b1; c12_2 += a.x * b2; c12_3 += a.x * b3;
    c13_0 += a.y * b0; c13_1 += a.y * b1; c13_2 += a.y * b2; c13_3 += a.y * b3;
    c14_0 += a.z * b0; c14_1 += a.z * b1; c14_2 += a.z * b2; c14_3 += a.z * b3;
    c15_0 += a.w * b0; c15_1 += a.w * b1; c15_2 += a.w * b2; c15_3 += a.w * b3;
  }
  // Rows of a clamped 4-row group (M % 16 != 0) lie past M: storeRow skips them.
  storeRow(4u * m4 + 0u, n4, c0_0, c0_1, c0_2, c0_3);
  storeRow(4u * m4 + 1u, n4, c1_0, c1_1, c1_2, c1_3);
  storeRow(4u * m4 + 2u, n4, c2_0, c2_1, c2_2, c2_3);
  storeRow(4u * m4 + 3u, n4, c3_0, c3_1, c3_2, c3_3);
  storeRow(4u * m4 + 4u, n4, c4_0, c4_1, c4_2, c4_3);
  storeRow(4u * m4 + 5u, n4, c5_0, c5_1, c5_2, c5_3);
  storeRow(4u * m4 + 6u, n4, c6_0, c6_1, c6_2, c6_3);
  storeRow(4u * m4 + 7u, n4, c7_0, c7_1, c7_2, c7_3);
  storeRow(4u * m4 + 8u, n4, c8_0, c8_1, c8_2, c8_3);
  storeRow(4u * m4 + 9u, n4, c9_0, c9_1, c9_2, c9_3);
  storeRow(4u * m4 + 10u, n4, c10_0, c10_1, c10_2, c10_3);
  storeRow(4u * m4 + 11u, n4, c11_0, c11_1, c11_2, c11_3);
  storeRow(4u * m4 + 12u, n4, c12_0, c12_1, c12_2, c12_3);
  storeRow(4u * m4 + 13u, n4, c13_0, c13_1, c13_2, c13_3);
  storeRow(4u * m4 + 14u, n4, c14_0, c14_1, c14_2, c14_3);
  storeRow(4u * m4 + 15u, n4, c15_0, c15_1, c15_2, c15_3);
}
