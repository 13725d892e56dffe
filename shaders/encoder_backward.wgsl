// Backward of the embedding. Each thread owns one output element, or 4 adjacent ones where R = vec4f (C % 4 == 0:
// each token id is read once per 4 channels, dout in vec4s), and sums over (b,t) in a fixed order: WGSL has no float
// atomics, and a fixed order keeps gradients deterministic. Composed after the row element (R, R_LANES:
// src/engine/kernels/) and common/lanes.wgsl; W = C / R_LANES elements per row. Stacked lanes: B counts every
// lane's sequences; each lane's dwte threads, then each lane's dwpe threads, sum their lane's positions into their
// lane's gradients.
// dwte[v,c] += Σ_{b,t: tokens[b,t]=v} dout[b,t,c]        dwte (V,C)
// dwpe[t,c] += Σ_b dout[b,t,c]                           dwpe (blockSize,C)
// One dispatch for both: dwte's V·W threads, then dwpe's T·W from the next whole workgroup (dwte's first: each loops
// over all B·T tokens, so a CPU adapter, running workgroups in order, starts the long loops early).
struct Dims { B: u32, T: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> tokens: array<i32>;
@group(0) @binding(2) var<storage, read> dout: array<R>;
@group(0) @binding(3) var<storage, read_write> dwte: array<R>;
@group(0) @binding(4) var<storage, read_write> dwpe: array<R>;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  let wteThreads = lane_count(d.B * d.T) * d.V * (d.C / R_LANES);
  let wpeStart = second_part_start(wteThreads);
  if (i < wteThreads) {
    wte_grad(i);
  } else if (i >= wpeStart) {
    wpe_grad(i - wpeStart);
  }
}

fn wte_grad(t: u32) {
  let W = d.C / R_LANES;
  let lane = t / (d.V * W);
  let i = t % (d.V * W);
  let v = i32(i / W);
  let c = i % W;
  let rows = lane_rows(d.B * d.T);
  var acc = R(0.0);
  for (var bt = lane * rows; bt < (lane + 1u) * rows; bt++) {
    if (clamp(tokens[bt], 0, i32(d.V) - 1) == v) { acc += dout[bt * W + c]; }
  }
  dwte[lane_params(lane, R_LANES) + i] += acc;
}

fn wpe_grad(j: u32) {
  let W = d.C / R_LANES;
  if (j >= lane_count(d.B * d.T) * d.T * W) { return; }
  let lane = j / (d.T * W);
  let i = j % (d.T * W);
  let t = i / W;
  let c = i % W;
  let seqs = lane_rows(d.B * d.T) / d.T;
  var acc = R(0.0);
  for (var b = lane * seqs; b < (lane + 1u) * seqs; b++) { acc += dout[(b * d.T + t) * W + c]; }
  dwpe[lane_params(lane, R_LANES) + i] += acc;
}
