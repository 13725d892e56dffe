// Exact GELU, as nanoGPT's nn.GELU(): gelu(x) = 0.5·x·(1 + erf(x/√2)), and its derivative
// gelu'(x) = Φ(x) + x·φ(x) (Φ, φ: the standard normal CDF and density). Not a kernel: the matmul epilogue
// (matmul_prologue.wgsl) applies GELU to c_fc's output (forward) and gelu' to the gradient that flows back into it
// (backward), so that neither needs a pass of its own over the (BT, 4C) tensor. Written over the matmul's element
// E (f32 or vec4f), lane by lane.

// WGSL has no erf. Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, below float32's resolution of the result.
fn erf(x: E) -> E {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-ax * ax);
  return select(y, -y, x < E(0.0));
}

fn gelu(x: E) -> E {
  return 0.5 * x * (1.0 + erf(x * 0.7071067811865476));
}

fn gelu_grad(x: E) -> E {
  let cdf = 0.5 * (1.0 + erf(x * 0.7071067811865476));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  return cdf + x * pdf;
}
