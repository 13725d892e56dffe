// LayerNorm backward as shaders/layernorm_backward.wgsl computes it, in one dispatch as there, with one workgroup
// per column (dparams, the first C workgroups) or row (dinput, the N after them): invocations stride over the
// column's N rows or the row's C values, and the sums are row_sum2 reductions (common/row_reduce.wgsl). Composed
// after that, common/lanes.wgsl and common/layernorm_backward_bindings.wgsl. Stacked lanes: a workgroup per lane and
// column, summing its lane's rows into its lane's dweight and dbias; each row reads its lane's weight.
// dinput:  dinp[n,:] += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm)),  dnorm = dout·weight, norm = (x−μ)·rstd
// dparams: dweight[c] += Σ_n dout[n,c]·norm[n,c];  dbias[c] += Σ_n dout[n,c]
@compute @workgroup_size(ROW_WG)
fn backward(g: RowGroup, l: Lanes) {
  // The branch is uniform across the workgroup (its index), so the reductions' barriers stay in uniform flow.
  let i = row_index(g);
  let columns = lane_count(d.N) * d.C;
  if (i < columns) {
    dparams(i, l);
  } else if (i - columns < d.N) {
    dinput(i - columns, l);
  }
}

fn dinput(row: u32, l: Lanes) {
  let base = row * d.C;
  let p = lane_params(lane_of_row(row), 1u);
  let m = mean[row];
  let s = rstd[row];
  // (Σ dnorm, Σ dnorm·norm) over the row
  var acc = vec2f(0.0);
  for (var c = l.index; c < d.C; c += ROW_WG) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[p + c] * dout[base + c];
    acc += vec2f(dnorm, dnorm * norm);
  }
  let means = row_sum2(acc, l) / f32(d.C);
  for (var c = l.index; c < d.C; c += ROW_WG) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[p + c] * dout[base + c];
    dinp[base + c] += (dnorm - means.x - norm * means.y) * s;
  }
}

fn dparams(t: u32, l: Lanes) {
  let lane = t / d.C;
  let c = t % d.C;
  let rows = lane_rows(d.N);
  // (Σ_n dout·norm, Σ_n dout) down column c of the lane's rows
  var acc = vec2f(0.0);
  for (var n = lane * rows + l.index; n < (lane + 1u) * rows; n += ROW_WG) {
    let g = dout[n * d.C + c];
    acc += vec2f(g * (inp[n * d.C + c] - mean[n]) * rstd[n], g);
  }
  let sums = row_sum2(acc, l);
  if (l.index == 0u) {
    let p = lane_params(lane, 1u);
    dweight[p + c] += sums.x;
    dbias[p + c] += sums.y;
  }
}
