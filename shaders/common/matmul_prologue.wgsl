// The head every matmul kernel shares (composed before it by src/engine/kernels/, with gelu.wgsl and the element
// E: f32 for the scalar kernels, vec4f for the vec4 ones, which then index A, B, bias, C and aux in vec4s).
// C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+ C], one source for a Linear's forward and both of its
// backward products:
//   forward   out  (BT,OC) = inp (BT,IC) · W (OC,IC)ᵀ + b
//   backward  dinp (BT,IC) = dout (BT,OC) · W (OC,IC)
//   backward  dW   (OC,IC) += dout (BT,OC)ᵀ · inp (BT,IC)
// Epilogue GELU (c_fc forward): C holds the pre-activation and aux receives gelu of it. Epilogue GELU_GRAD (the
// backward product into c_fc's output): C = result · gelu'(aux), aux holding that pre-activation. Epilogue RESIDUAL
// (the forward of attn's and the MLP's c_proj): C = result + aux, aux holding the residual stream the branch adds
// to, so the sum needs no pass of its own. These apply after the bias and the accumulated value. Epilogue BIAS_GRAD
// (a Linear's dW product, on every kernel that computes one): aux (M) += the column sums of A, i.e. db += Σ_rows
// dout, summed from the values the product loads anyway, so the bias gradient needs no dispatch of its own. aux is
// bound to some other buffer where no epilogue uses it.
// SPLIT_K (dW products only, src/engine/kernels/ matmulSplitK): the contracted dimension is cut into slices of
// kSlice rows, workgroup z summing slice z; C is then a scratch (S,M,N) that receives slice z's partial product at
// z·M·N (no bias, accumulate or GELU epilogue), and BIAS_GRAD writes slice z's column sums to aux (S,M) at z·M.
// A second kernel (shaders/matmul_splitk_reduce.wgsl) sums the slices into the gradient. kSlice is unused otherwise.
// STACKED (lanes: several models of one shape, trained side by side in the same dispatches): workgroup z also
// names a lane (z = lane·slices + slice under SPLIT_K, else z = lane), and every operand of lane l starts l·lane*
// floats into its binding: lane l computes C_l = op(A_l)·op(B_l) [+ bias_l] with its own epilogue operands. The
// strides are in floats (multiples of E_LANES where E is vec4f); a split product's scratch is (lanes, S, M, N). Off
// (an override, so that the single-lane kernels compile to what they were), every operand starts at 0.
// Storage: A, B, C and aux each hold E as stored (SA, SB, SC, SX: E itself, or its f16 form where the model keeps
// that activation in f16, src/engine/kernels/ MatmulStorage), read and written only through the accessors below,
// which convert; every sum is in E, f32. The bias is a parameter, always E.
struct Dims {
  M: u32, N: u32, K: u32, kSlice: u32, slices: u32,
  laneA: u32, laneB: u32, laneBias: u32, laneC: u32, laneX: u32,
}
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> A: array<SA>;
@group(0) @binding(2) var<storage, read> B: array<SB>;
@group(0) @binding(3) var<storage, read> bias: array<E>;
@group(0) @binding(4) var<storage, read_write> C: array<SC>;
@group(0) @binding(5) var<storage, read_write> aux: array<SX>;

override STACKED: bool = false;
/** STACKED: this invocation's lane (set by enter); 0 otherwise. */
var<private> lane: u32 = 0u;

/** Where lane's operand starts in its binding, in elements of E, for an operand `stride` floats per lane. */
fn laneAt(stride: u32) -> u32 { return lane * (stride / E_LANES); }

fn ldA(i: u32) -> E { if (STACKED) { return E(A[laneAt(d.laneA) + i]); } return E(A[i]); }
fn ldB(i: u32) -> E { if (STACKED) { return E(B[laneAt(d.laneB) + i]); } return E(B[i]); }
fn ldC(i: u32) -> E { if (STACKED) { return E(C[laneAt(d.laneC) + i]); } return E(C[i]); }
fn ldX(i: u32) -> E { if (STACKED) { return E(aux[laneAt(d.laneX) + i]); } return E(aux[i]); }
fn stC(i: u32, v: E) { if (STACKED) { C[laneAt(d.laneC) + i] = SC(v); } else { C[i] = SC(v); } }
fn stX(i: u32, v: E) { if (STACKED) { aux[laneAt(d.laneX) + i] = SX(v); } else { aux[i] = SX(v); } }
fn ldBias(i: u32) -> E { if (STACKED) { return bias[laneAt(d.laneBias) + i]; } return bias[i]; }

override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override GELU: bool = false;
override GELU_GRAD: bool = false;
override RESIDUAL: bool = false;
override BIAS_GRAD: bool = false;
override SPLIT_K: bool = false;
// Workgroup shape of the register-blocked kernels, set per product by fitWorkgroup (the tiled kernel's is fixed
// by its tiles).
override WG_X: u32 = 8;
override WG_Y: u32 = 8;

/** SPLIT_K: this invocation's slice (from its workgroup_id.z), set by enter; 0 unsplit. */
var<private> slice: u32 = 0u;

/** The slice that workgroup z sums (0 unsplit): for a kernel whose loop bounds must be uniform (barriers in it). */
fn sliceOf(z: u32) -> u32 {
  if (SPLIT_K) { return z % d.slices; }
  return 0u;
}

/** Every entry point's first call, with its workgroup_id.z (= global z: workgroups are one deep): lane and slice. */
fn enter(z: u32) {
  slice = sliceOf(z);
  if (SPLIT_K) {
    lane = z / d.slices;
  } else {
    lane = z;
  }
}

/** The rows [x, y) of the contracted dimension that slice z sums: all of K unless SPLIT_K; empty past K. */
fn kRange(z: u32) -> vec2u {
  if (!SPLIT_K) { return vec2u(0u, d.K); }
  let begin = min(d.K, z * d.kSlice);
  return vec2u(begin, min(d.K, begin + d.kSlice));
}

/**
 * BIAS_GRAD: add the column sums s of A for element i of aux (row i of C; under E = vec4f the row group 4·i..+3,
 * where M % 4 == 0), unless past M.
 */
fn addBiasGrad(i: u32, s: E) {
  let rows = d.M / E_LANES;
  if (i >= rows) { return; }
  // Split: the slice's own sums, written (the scratch is not cleared between uses); the reduce adds them up.
  if (SPLIT_K) {
    stX(slice * rows + i, s);
  } else {
    stX(i, ldX(i) + s);
  }
}

/**
 * BIAS_GRAD on the vec4 nn kernels, which read A's rows in vec4s along the contracted dimension: the horizontal sums
 * of 4 rows' running vec4 sums, as one 4-row group of the bias gradient.
 */
fn rowSums(s0: vec4f, s1: vec4f, s2: vec4f, s3: vec4f) -> vec4f {
  let one = vec4f(1.0);
  return vec4f(dot(s0, one), dot(s1, one), dot(s2, one), dot(s3, one));
}

/** Write C[i] = v through the epilogues (split: slice's partial product, E_LANES floats per element of C). */
fn store(i: u32, v: E) {
  if (SPLIT_K) {
    stC(slice * (d.M * d.N / E_LANES) + i, v);
  } else if (GELU_GRAD) {
    stC(i, v * gelu_grad(ldX(i)));
  } else if (RESIDUAL) {
    stC(i, v + ldX(i));
  } else {
    stC(i, v);
  }
  if (GELU) { stX(i, gelu(v)); }
}
