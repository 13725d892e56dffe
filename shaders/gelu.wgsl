// Exact GELU, as nanoGPT's nn.GELU(): gelu(x) = 0.5·x·(1 + erf(x/√2)).
// forward:  out[i] = gelu(inp[i]);   backward: dgrad[i] *= gelu'(inp[i]) (in place: dgrad holds dout, becomes dinp)
// gelu'(x) = 0.5·(1 + erf(x/√2)) + x·φ(x), φ the standard normal density.
struct Dims { N: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// WGSL has no erf. Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, below float32's resolution of the result.
fn erf_approx(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-ax * ax);
  return select(y, -y, x < 0.0);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= d.N) { return; }
  let x = inp[i];
  out[i] = 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476));
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= d.N) { return; }
  let x = inp[i];
  let cdf = 0.5 * (1.0 + erf_approx(x * 0.7071067811865476));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  out[i] = out[i] * (cdf + x * pdf);
}
