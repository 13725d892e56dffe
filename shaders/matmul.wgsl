// C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+ C], with op = optional transpose, chosen by override
// constants so that one source serves a Linear's forward and both of its backward products:
//   forward   out  (BT,OC) = inp (BT,IC) · W (OC,IC)ᵀ + b     TRANS_B
//   backward  dinp (BT,IC) = dout (BT,OC) · W (OC,IC)
//   backward  dW   (OC,IC) += dout (BT,OC)ᵀ · inp (BT,IC)     TRANS_A, ACCUMULATE
// Each thread computes a 4×4 block of C in registers and reads A and B straight from storage: no shared memory and
// so no workgroup barriers, which software adapters (SwiftShader) execute very slowly.
// Epilogue GELU (c_fc forward): C holds the pre-activation and aux receives gelu of it. Epilogue GELU_GRAD (the
// backward product into c_fc's output): C = result · gelu'(aux), aux holding that pre-activation. Both apply after
// the bias and the accumulated value; gelu1 and gelu_grad1 come from shaders/gelu_math.wgsl.
struct Dims { M: u32, N: u32, K: u32, _pad: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<storage, read_write> aux: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override GELU: bool = false;
override GELU_GRAD: bool = false;
override WG_X: u32 = 8;
override WG_Y: u32 = 8;

/** Write C[i] = v through the GELU epilogues (see the top of this file). */
fn store(i: u32, v: f32) {
  if (GELU_GRAD) {
    C[i] = v * gelu_grad1(aux[i]);
  } else {
    C[i] = v;
  }
  if (GELU) { aux[i] = gelu1(v); }
}

fn loadA(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[k * d.M + m]; }
  return A[m * d.K + k];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return B[n * d.K + k]; }
  return B[k * d.N + n];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= d.M || n0 >= d.N) { return; }
  // Rows/columns past the edge are clamped for loading and skipped when storing.
  let mi = min(vec4u(m0, m0 + 1u, m0 + 2u, m0 + 3u), vec4u(d.M - 1u));
  let ni = min(vec4u(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4u(d.N - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = 0u; k < d.K; k++) {
    let a = vec4f(loadA(mi.x, k), loadA(mi.y, k), loadA(mi.z, k), loadA(mi.w, k));
    let b = vec4f(loadB(k, ni.x), loadB(k, ni.y), loadB(k, ni.z), loadB(k, ni.w));
    acc0 += a.x * b;
    acc1 += a.y * b;
    acc2 += a.z * b;
    acc3 += a.w * b;
  }
  var bv = vec4f(0.0);
  if (HAS_BIAS) { bv = vec4f(bias[ni.x], bias[ni.y], bias[ni.z], bias[ni.w]); }
  let rows = array<vec4f, 4>(acc0 + bv, acc1 + bv, acc2 + bv, acc3 + bv);
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + r;
    if (m >= d.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + c;
      if (n >= d.N) { break; }
      var v = rows[r][c];
      if (ACCUMULATE) { v += C[m * d.N + n]; }
      store(m * d.N + n, v);
    }
  }
}
