// LayerNorm backward as shaders/layernorm_backward.wgsl computes it, with one workgroup per row (dinput) or column
// (dparams): invocations stride over the row's C values or the column's N rows, and the sums are row_sum2
// reductions (common/row_reduce.wgsl). Composed after that and common/layernorm_backward_bindings.wgsl.
// dinput:  dinp[n,:] += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm)),  dnorm = dout·weight, norm = (x−μ)·rstd
// dparams: dweight[c] += Σ_n dout[n,c]·norm[n,c];  dbias[c] += Σ_n dout[n,c]
@compute @workgroup_size(ROW_WG)
fn dinput(g: RowGroup, l: Lanes) {
  let row = row_index(g);
  if (row >= d.N) { return; }
  let base = row * d.C;
  let m = mean[row];
  let s = rstd[row];
  // (Σ dnorm, Σ dnorm·norm) over the row
  var acc = vec2f(0.0);
  for (var c = l.index; c < d.C; c += ROW_WG) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    acc += vec2f(dnorm, dnorm * norm);
  }
  let means = row_sum2(acc, l) / f32(d.C);
  for (var c = l.index; c < d.C; c += ROW_WG) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    dinp[base + c] += (dnorm - means.x - norm * means.y) * s;
  }
}

@compute @workgroup_size(ROW_WG)
fn dparams(g: RowGroup, l: Lanes) {
  let c = row_index(g);
  if (c >= d.C) { return; }
  // (Σ_n dout·norm, Σ_n dout) down column c
  var acc = vec2f(0.0);
  for (var n = l.index; n < d.N; n += ROW_WG) {
    let g = dout[n * d.C + c];
    acc += vec2f(g * (inp[n * d.C + c] - mean[n]) * rstd[n], g);
  }
  let sums = row_sum2(acc, l);
  if (l.index == 0u) {
    dweight[c] += sums.x;
    dbias[c] += sums.y;
  }
}
