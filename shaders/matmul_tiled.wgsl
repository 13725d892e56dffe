// C (M,N) = op(A)·op(B) [+ bias (N)] [+ C], as matmul.wgsl (E = f32), for GPUs: the classic shared-memory tiling
// (e.g. CUTLASS's or tfjs-backend-webgpu's matmul). A workgroup of 16×16 threads computes a 64×64 block of C; per
// step it stages a 64×16 slice of op(A) and a 16×64 slice of op(B) in workgroup memory, each element loaded from
// storage once per workgroup instead of once per thread, and each thread accumulates a 4×4 block in registers.
// Any shape and transpose: tiles are zero-padded past the edges. Software adapters run its barriers very slowly;
// src/engine/matmul-variants.ts picks a kernel per adapter. Composed after the two hooks that say what a workgroup
// stages as op(A): prepareRows and stageA, plain in common/matmul_tiled_plain.wgsl, LayerNorm's in
// matmul_tiled_layernorm.wgsl (the forward of a Linear that reads a LayerNorm's output, fused).
override TRANS_A: bool = false;
override TRANS_B: bool = false;

const TILE = 64u;
const BK = 16u;
// As[k][m], Bs[k][n]: a thread reads 4 consecutive m (or n) of one k row.
var<workgroup> As: array<array<f32, 64>, 16>;
var<workgroup> Bs: array<array<f32, 64>, 16>;

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= d.M || k >= d.K) { return 0.0; }
  if (TRANS_A) { return ldA(k * d.M + m); }
  return ldA(m * d.K + k);
}

fn loadB(k: u32, n: u32) -> f32 {
  if (k >= d.K || n >= d.N) { return 0.0; }
  if (TRANS_B) { return ldB(n * d.K + k); }
  return ldB(k * d.N + n);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  enter(wid.z);
  let tileM = wid.y * TILE;
  let tileN = wid.x * TILE;
  let flat = lid.y * 16u + lid.x;
  var acc: array<vec4f, 4>;
  // BIAS_GRAD: the first column of workgroups sums op(A)'s rows (the bias gradient) from the staged tiles, thread
  // i < 64 row tileM + i; the condition is uniform over the workgroup, so the barriers stay in uniform control flow.
  let sumsRows = BIAS_GRAD && wid.x == 0u;
  var rowSum = 0.0;
  // SPLIT_K: only this workgroup's slice of the rows of a dW product (prologue, kRange); from workgroup_id, so
  // that the loop around the barriers stays uniform (the private slice is not, to the uniformity analysis).
  let ks = kRange(sliceOf(wid.z));
  prepareRows(lid, wid);
  for (var k0 = ks.x; k0 < ks.y; k0 += BK) {
    // 256 threads stage 64×16 floats of each operand: 4 each. Consecutive threads take consecutive m (or n),
    // which is the contiguous direction of the untransposed layouts.
    for (var i = 0u; i < 4u; i++) {
      let e = flat + i * 256u;
      let mn = e % TILE;
      let kk = e / TILE;
      // Rows past the slice (its last tile) are zeros, like those past K.
      let inSlice = k0 + kk < ks.y;
      As[kk][mn] = select(0.0, stageA(tileM + mn, k0 + kk, wid), inSlice);
      Bs[kk][mn] = select(0.0, loadB(k0 + kk, tileN + mn), inSlice);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let a = vec4f(As[kk][lid.y * 4u], As[kk][lid.y * 4u + 1u], As[kk][lid.y * 4u + 2u], As[kk][lid.y * 4u + 3u]);
      let b = vec4f(Bs[kk][lid.x * 4u], Bs[kk][lid.x * 4u + 1u], Bs[kk][lid.x * 4u + 2u], Bs[kk][lid.x * 4u + 3u]);
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    if (sumsRows && flat < TILE) {
      for (var kk = 0u; kk < BK; kk++) { rowSum += As[kk][flat]; }
    }
    workgroupBarrier();
  }
  let n0 = tileN + lid.x * 4u;
  for (var r = 0u; r < 4u; r++) {
    let m = tileM + lid.y * 4u + r;
    if (m >= d.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + c;
      if (n >= d.N) { break; }
      var v = acc[r][c];
      if (HAS_BIAS) { v += ldBias(n); }
      if (ACCUMULATE) { v += ldC(m * d.N + n); }
      store(m * d.N + n, v);
    }
  }
  if (sumsRows && flat < TILE) { addBiasGrad(tileM + flat, rowSum); }
}
