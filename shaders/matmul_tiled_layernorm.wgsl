// LayerNorm fused into the tiled matmul's A operand (composed before shaders/matmul_tiled.wgsl, for its hooks): the
// forward of a Linear that reads a LayerNorm's output, out (M,N) = ln(x) (M,K) · W (N,K)ᵀ [+ bias] [epilogue], as
// one dispatch instead of two (c_attn after ln_1, c_fc after ln_2, the lm_head after ln_f). A is x, the LayerNorm's
// input (the residual stream), not its output. Each workgroup first computes the mean and rstd of its 64 rows (4
// invocations per row, two passes like shaders/layernorm_forward.wgsl: the mean, then the variance about it; eps
// 1e-5, biased variance), then stages ln(x) = (x − mean)·rstd·weight + bias wherever the plain kernel stages A. The
// workgroups of the first column of tiles (workgroup_id.x = 0), which stage every k of their rows, also write what
// the backward pass reads: ln(x) to lnOut (the dW product's input) and mean and rstd to lnStats (the LayerNorm
// backward's). The other columns recompute the statistics of the same rows: K reads per row, against the K·N/64
// multiply-adds per row that each column's tile does. TRANS_A must be false (the forward products are nt).
// Bindings 6–8 make eight storage buffers, the most an adapter must allow; so the LayerNorm's weight and bias share
// one binding, as do its mean and rstd (src/engine/kernels/, lnRstdAt).
@group(0) @binding(6) var<storage, read> lnParams: array<f32>; // weight (K) at 0, bias (K) at LN_BIAS_AT
@group(0) @binding(7) var<storage, read_write> lnStats: array<f32>; // mean (M) at 0, rstd (M) at LN_RSTD_AT
@group(0) @binding(8) var<storage, read_write> lnOut: array<f32>; // (M,K)

override LN_BIAS_AT: u32;
override LN_RSTD_AT: u32;

// rowPart[4r + q]: invocation q's partial sum over row r of the tile (k = q, q + 4, …).
var<workgroup> rowPart: array<f32, 256>;
var<workgroup> rowMean: array<f32, 64>;
var<workgroup> rowRstd: array<f32, 64>;

/** The sum of row r's four partial sums, in a fixed order. */
fn rowTotal(r: u32) -> f32 {
  return (rowPart[4u * r] + rowPart[4u * r + 1u]) + (rowPart[4u * r + 2u] + rowPart[4u * r + 3u]);
}

/** The mean and rstd of this workgroup's 64 rows of A (rows past M repeat the last), into rowMean and rowRstd. */
fn prepareRows(lid: vec3u, wid: vec3u) {
  let flat = lid.y * 16u + lid.x;
  let r = flat / 4u;
  let q = flat % 4u;
  let m = wid.y * 64u + r;
  let row = min(m, d.M - 1u) * d.K;
  var s = 0.0;
  for (var k = q; k < d.K; k += 4u) { s += ldA(row + k); }
  rowPart[flat] = s;
  workgroupBarrier();
  let mean = rowTotal(r) / f32(d.K);
  workgroupBarrier(); // every invocation has read the sums before they are overwritten
  var v = 0.0;
  for (var k = q; k < d.K; k += 4u) {
    let x = ldA(row + k) - mean;
    v += x * x;
  }
  rowPart[flat] = v;
  workgroupBarrier();
  if (q == 0u) {
    let rstd = 1.0 / sqrt(rowTotal(r) / f32(d.K) + 1e-5);
    rowMean[r] = mean;
    rowRstd[r] = rstd;
    if (wid.x == 0u && m < d.M) {
      lnStats[m] = mean;
      lnStats[LN_RSTD_AT + m] = rstd;
    }
  }
  workgroupBarrier();
}

/** ln(x)[m][k], 0 past the edges; the first column of workgroups keeps it for the backward pass. */
fn stageA(m: u32, k: u32, wid: vec3u) -> f32 {
  if (m >= d.M || k >= d.K) { return 0.0; }
  let r = m - wid.y * 64u;
  let y = (ldA(m * d.K + k) - rowMean[r]) * rowRstd[r] * lnParams[k] + lnParams[LN_BIAS_AT + k];
  if (wid.x == 0u) { lnOut[m * d.K + k] = y; }
  return y;
}
