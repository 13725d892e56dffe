// Exact GELU, as nanoGPT's nn.GELU(): gelu(x) = 0.5·x·(1 + erf(x/√2)), and its derivative
// gelu'(x) = Φ(x) + x·φ(x) (Φ, φ: the standard normal CDF and density). Not a kernel: src/engine/kernels.ts
// prepends it to the matmul shaders, whose epilogues apply GELU to c_fc's output (forward) and gelu' to the
// gradient that flows back into it (backward), so that neither needs a pass of its own over the (BT, 4C) tensor.

// WGSL has no erf. Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, below float32's resolution of the result.
fn erf4(x: vec4f) -> vec4f {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-ax * ax);
  return select(y, -y, x < vec4f(0.0));
}

fn gelu4(x: vec4f) -> vec4f {
  return 0.5 * x * (1.0 + erf4(x * 0.7071067811865476));
}

fn gelu_grad4(x: vec4f) -> vec4f {
  let cdf = 0.5 * (1.0 + erf4(x * 0.7071067811865476));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  return cdf + x * pdf;
}

// The scalar kernels' forms (one lane of the vec4 ones).
fn gelu1(x: f32) -> f32 { return gelu4(vec4f(x)).x; }
fn gelu_grad1(x: f32) -> f32 { return gelu_grad4(vec4f(x)).x; }
