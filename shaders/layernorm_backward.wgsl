// Backward of LayerNorm (llm.c's layernorm_backward, split in two so that no two threads write one element).
// dinput:  dinp[n,:] += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm)),  dnorm = dout·weight, norm = (x−μ)·rstd
// dparams: dweight[c] += Σ_n dout[n,c]·norm[n,c];  dbias[c] += Σ_n dout[n,c]
// dout, inp, dinp (N,C); mean, rstd (N); weight, dweight, dbias (C)
// One dispatch for both halves, which read the same inputs and write different outputs: the first workgroups sum
// columns (one thread per column, or per 4 where R = vec4f), the rest take a row each. Columns first, because each
// of their threads loops over all N rows: a CPU adapter, which runs workgroups in order over its cores, starts those
// long loops early and fills its other cores with rows beside them. Workgroups of kernels.ts COLUMN_WG where
// R = vec4f, so that C/4 column threads still spread over several cores. Composed after the row element (R,
// R_LANES, total(): src/engine/kernels/; W = C / R_LANES), common/lanes.wgsl and
// common/layernorm_backward_bindings.wgsl. Stacked lanes: a column thread per lane and column, summing its lane's
// rows into its lane's dweight and dbias; each row reads its lane's weight.
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = thread_index(gid, nwg);
  let rowsStart = second_part_start(lane_count(d.N) * (d.C / R_LANES));
  if (t < rowsStart) {
    dparams(t);
  } else {
    dinput(t - rowsStart);
  }
}

fn dinput(row: u32) {
  if (row >= d.N) { return; }
  let W = d.C / R_LANES;
  let base = row * W;
  let p = lane_params(lane_of_row(row), R_LANES);
  let m = mean[row];
  let s = rstd[row];
  var dnorm_sum = R(0.0);
  var dnorm_norm_sum = R(0.0);
  for (var c = 0u; c < W; c++) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[p + c] * dout[base + c];
    dnorm_sum += dnorm;
    dnorm_norm_sum += dnorm * norm;
  }
  let dnorm_mean = total(dnorm_sum) / f32(d.C);
  let dnorm_norm_mean = total(dnorm_norm_sum) / f32(d.C);
  for (var c = 0u; c < W; c++) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[p + c] * dout[base + c];
    dinp[base + c] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
  }
}

fn dparams(t: u32) {
  let W = d.C / R_LANES;
  if (t >= lane_count(d.N) * W) { return; }
  let lane = t / W;
  let c = t % W;
  let rows = lane_rows(d.N);
  var dw = R(0.0);
  var db = R(0.0);
  for (var n = lane * rows; n < (lane + 1u) * rows; n++) {
    let g = dout[n * W + c];
    dw += g * (inp[n * W + c] - mean[n]) * rstd[n];
    db += g;
  }
  let p = lane_params(lane, R_LANES);
  dweight[p + c] += dw;
  dbias[p + c] += db;
}
