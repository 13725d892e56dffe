// The float64 CPU reference of the whole model and of its optimizer: nanoGPT's GPT (`model.py`, bias=True,
// dropout=0) plus the multi-token heads, and PyTorch's AdamW with clip_grad_norm_. Written for clarity, not speed,
// in llm.c's shape (`train_gpt2.c`): every op is a forward/backward pair, forward saves what backward needs,
// backward ADDS into gradient arrays, and the model's backward calls the ops in exactly the reverse order of its
// forward. The GPU kernels and the full GPU step are tested against this file, and this file is tested by finite
// differences (test/reference.test.ts).
//
// Legend: B = sequences in the batch (Batch.n), T = sequence length, C = nEmbd, NH = nHead, hs = C/NH,
// V = vocabSize, H = 1 + extraHeads output heads, N = B·T rows. Arrays are row-major in the order their shape names.
import { learningRate, type ModelConfig, type TrainConfig } from './config';
import { focalLoss, PLAIN_LOSS, type Batch, type ForwardFn, type LossShape } from './batch';
import { blockParams, blockPrefix, headPrefix, MODEL_PARAMS, paramTable, type ParamTable } from './params';

// ---------------------------------------------------------------------------------------------------------------
// Exact GELU needs erf to float64 accuracy.

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) to within about 2e-16 absolute error. For |x| < 1.5 the Maclaurin series
 * erf(x) = 2/√π · Σ_n (−1)^n x^{2n+1} / (n!·(2n+1)) (Abramowitz & Stegun 7.1.5), summed smallest term first; its
 * terms stay below 1.5 there, so the alternation costs no accuracy. For |x| >= 1.5, erf = 1 − erfc with erfc's
 * continued fraction (A&S 7.1.14), which has converged to float64 there.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 1.5) return Math.sign(x) * (1 - erfcContinuedFraction(ax));
  const terms: number[] = [];
  let power = ax; // (−1)^n x^{2n+1} / n!
  for (let n = 0; n === 0 || Math.abs(terms[n - 1]!) > 1e-18 * ax; n++) {
    terms.push(power / (2 * n + 1));
    power *= (-ax * ax) / (n + 1);
  }
  let sum = 0;
  for (let n = terms.length - 1; n >= 0; n--) sum += terms[n]!;
  return Math.sign(x) * TWO_OVER_SQRT_PI * sum;
}

/** erfc(x) for x >= 1.5: e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail. */
function erfcContinuedFraction(x: number): number {
  if (!Number.isFinite(x)) return 0;
  let f = x;
  for (let k = 200; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016; PyTorch's nn.GELU() default). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** d/dx gelu(x) = Φ(x) + x·φ(x). */
export function geluGrad(x: number): number {
  const cdf = 0.5 * (1 + erf(x / Math.SQRT2));
  const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  return cdf + x * pdf;
}

// ---------------------------------------------------------------------------------------------------------------
// Ops: forward/backward pairs. Backward adds into every d* array it is given.

const LN_EPS = 1e-5;

/** x = wte[token] + wpe[t]. */
export function encoderForward(
  out: Float64Array, // (B,T,C)
  tokens: Int32Array, // (B,T)
  wte: Float64Array, // (V,C)
  wpe: Float64Array, // (maxT,C)
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const tok = tokens[b * T + t]!;
      for (let c = 0; c < C; c++) out[o + c] = wte[tok * C + c]! + wpe[t * C + c]!;
    }
  }
}

export function encoderBackward(
  dwte: Float64Array, // (V,C)
  dwpe: Float64Array, // (maxT,C)
  dout: Float64Array, // (B,T,C)
  tokens: Int32Array, // (B,T)
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const tok = tokens[b * T + t]!;
      for (let c = 0; c < C; c++) {
        dwte[tok * C + c] += dout[o + c]!;
        dwpe[t * C + c] += dout[o + c]!;
      }
    }
  }
}

/** torch.nn.LayerNorm: biased variance, eps 1e-5 inside the square root. Saves mean and 1/std for backward. */
export function layernormForward(
  out: Float64Array, // (N,C)
  mean: Float64Array, // (N)
  rstd: Float64Array, // (N)
  inp: Float64Array, // (N,C)
  weight: Float64Array, // (C)
  bias: Float64Array, // (C)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[x + c]!;
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[x + c]! - m) ** 2;
    v /= C;
    const s = 1 / Math.sqrt(v + LN_EPS);
    for (let c = 0; c < C; c++) out[x + c] = (inp[x + c]! - m) * s * weight[c]! + bias[c]!;
    mean[n] = m;
    rstd[n] = s;
  }
}

export function layernormBackward(
  dinp: Float64Array, // (N,C)
  dweight: Float64Array, // (C)
  dbias: Float64Array, // (C)
  dout: Float64Array, // (N,C)
  inp: Float64Array, // (N,C)
  weight: Float64Array, // (C)
  mean: Float64Array, // (N)
  rstd: Float64Array, // (N)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const m = mean[n]!;
    const s = rstd[n]!;
    // With norm = (x−mean)·rstd and dnorm = dout·weight, the gradient through mean and variance is
    // dx = rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm)).
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (inp[x + c]! - m) * s;
      const dnorm = dout[x + c]! * weight[c]!;
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[x + c]! - m) * s;
      const dnorm = dout[x + c]! * weight[c]!;
      dbias[c] += dout[x + c]!;
      dweight[c] += norm * dout[x + c]!;
      dinp[x + c] += s * (dnorm - dnormMean - norm * dnormNormMean);
    }
  }
}

/** torch.nn.Linear: out = inp · weightᵀ + bias, weight in PyTorch's [out, in] layout; bias may be absent. */
export function matmulForward(
  out: Float64Array, // (N,OC)
  inp: Float64Array, // (N,C)
  weight: Float64Array, // (OC,C)
  bias: Float64Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let c = 0; c < C; c++) acc += inp[n * C + c]! * weight[o * C + c]!;
      out[n * OC + o] = acc;
    }
  }
}

export function matmulBackward(
  dinp: Float64Array, // (N,C)
  dweight: Float64Array, // (OC,C)
  dbias: Float64Array | null, // (OC)
  dout: Float64Array, // (N,OC)
  inp: Float64Array, // (N,C)
  weight: Float64Array, // (OC,C)
  N: number,
  C: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      const d = dout[n * OC + o]!;
      if (dbias) dbias[o] += d;
      for (let c = 0; c < C; c++) {
        dinp[n * C + c] += d * weight[o * C + c]!;
        dweight[o * C + c] += d * inp[n * C + c]!;
      }
    }
  }
}

/**
 * Multi-head self-attention on the fused projection (nanoGPT's CausalSelfAttention after c_attn): q, k, v are the
 * three C-wide thirds of qkv, each split into heads as view(B,T,NH,hs). att = softmax(q·kᵀ/√hs) with key j > query
 * i masked out when causal; out = att·v with the heads re-joined. att is saved for backward (masked entries 0).
 */
export function attentionForward(
  out: Float64Array, // (B,T,C)
  att: Float64Array, // (B,NH,T,T)
  qkv: Float64Array, // (B,T,3C)
  B: number,
  T: number,
  C: number,
  NH: number,
  causal: boolean,
): void {
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const C3 = 3 * C;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const q = (b * T + i) * C3 + h * hs;
        const a = ((b * NH + h) * T + i) * T;
        const jEnd = causal ? i + 1 : T;
        let max = -Infinity;
        for (let j = 0; j < jEnd; j++) {
          const k = (b * T + j) * C3 + C + h * hs;
          let s = 0;
          for (let d = 0; d < hs; d++) s += qkv[q + d]! * qkv[k + d]!;
          att[a + j] = s * scale;
          max = Math.max(max, s * scale);
        }
        let sum = 0;
        for (let j = 0; j < jEnd; j++) {
          att[a + j] = Math.exp(att[a + j]! - max);
          sum += att[a + j]!;
        }
        for (let j = 0; j < T; j++) att[a + j] = j < jEnd ? att[a + j]! / sum : 0;
        const o = (b * T + i) * C + h * hs;
        for (let d = 0; d < hs; d++) {
          let acc = 0;
          for (let j = 0; j < jEnd; j++) acc += att[a + j]! * qkv[(b * T + j) * C3 + 2 * C + h * hs + d]!;
          out[o + d] = acc;
        }
      }
    }
  }
}

export function attentionBackward(
  dqkv: Float64Array, // (B,T,3C)
  dout: Float64Array, // (B,T,C)
  qkv: Float64Array, // (B,T,3C)
  att: Float64Array, // (B,NH,T,T)
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const C3 = 3 * C;
  const datt = new Float64Array(T); // one query row at a time
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const a = ((b * NH + h) * T + i) * T;
        const o = (b * T + i) * C + h * hs;
        const q = (b * T + i) * C3 + h * hs;
        // out_i = Σ_j att_ij v_j: dv_j += att_ij·dout_i and datt_ij = dout_i·v_j.
        for (let j = 0; j < T; j++) {
          const v = (b * T + j) * C3 + 2 * C + h * hs;
          let s = 0;
          for (let d = 0; d < hs; d++) {
            s += dout[o + d]! * qkv[v + d]!;
            dqkv[v + d] += att[a + j]! * dout[o + d]!;
          }
          datt[j] = s;
        }
        // Softmax backward: dscore_ij = att_ij·(datt_ij − Σ_l att_il·datt_il). Masked entries have att 0, so
        // they pass no gradient, as the −inf mask does in PyTorch.
        let dot = 0;
        for (let j = 0; j < T; j++) dot += att[a + j]! * datt[j]!;
        for (let j = 0; j < T; j++) {
          const dscore = att[a + j]! * (datt[j]! - dot) * scale;
          const k = (b * T + j) * C3 + C + h * hs;
          for (let d = 0; d < hs; d++) {
            dqkv[q + d] += dscore * qkv[k + d]!;
            dqkv[k + d] += dscore * qkv[q + d]!;
          }
        }
      }
    }
  }
}

export function geluForward(out: Float64Array, inp: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) out[i] = gelu(inp[i]!);
}

export function geluBackward(dinp: Float64Array, inp: Float64Array, dout: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) dinp[i] += geluGrad(inp[i]!) * dout[i]!;
}

export function residualForward(out: Float64Array, inp1: Float64Array, inp2: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) out[i] = inp1[i]! + inp2[i]!;
}

export function residualBackward(dinp1: Float64Array, dinp2: Float64Array, dout: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) {
    dinp1[i] += dout[i]!;
    dinp2[i] += dout[i]!;
  }
}

/**
 * The softmax of the row of logits at r (V wide) into probs, over every column but `exclude` (which gets 0; −1 for
 * none); returns the row's logsumexp over the same columns, max + log Σ e^(ℓ−max), so that a tiny probability does
 * not round to log(0). Shared by the cross-entropy and ListNet rows.
 */
function rowSoftmax(probs: Float64Array, logits: Float64Array, r: number, V: number, exclude = -1): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (v !== exclude) max = Math.max(max, logits[r + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) {
    probs[r + v] = v === exclude ? 0 : Math.exp(logits[r + v]! - max);
    sum += probs[r + v]!;
  }
  for (let v = 0; v < V; v++) probs[r + v] = probs[r + v]! / sum;
  return max + Math.log(sum);
}

/**
 * Softmax cross-entropy, weighted and shaped (batch.ts, LossShape): returns Σ_n weight_n · f(ℓ_n), ℓ_n = −log
 * softmax(logits_n)[target_n] over the vocabulary without `shape.exclude`, f the identity or HKUNLP's focal
 * reweighting; saves the probabilities (0 at the excluded token) and each row's f'(ℓ) in `slopes`. Rows with weight 0
 * add nothing, and their target is not read (it may be −1).
 */
export function crossentropyForward(
  probs: Float64Array, // (N,V)
  slopes: Float64Array, // (N)
  logits: Float64Array, // (N,V)
  targets: Int32Array, // (N)
  weights: Float32Array, // (N)
  N: number,
  V: number,
  shape: LossShape = PLAIN_LOSS,
): number {
  const { exclude, focalGamma } = shape;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const r = n * V;
    const lse = rowSoftmax(probs, logits, r, V, exclude);
    const w = weights[n]!;
    slopes[n] = 0;
    if (w === 0) continue;
    const target = targets[n]!;
    if (!(target >= 0 && target < V)) throw new Error(`target ${target} at row ${n} is outside [0, ${V})`);
    if (target === exclude) throw new Error(`target ${target} at row ${n} is the token the loss excludes`);
    // log-sum-exp form, so a tiny probability does not round to log(0).
    const f = focalLoss(lse - logits[r + target]!, focalGamma);
    loss += w * f.loss;
    slopes[n] = f.slope;
  }
  return loss;
}

export function crossentropyBackward(
  dlogits: Float64Array, // (N,V)
  probs: Float64Array, // (N,V)
  slopes: Float64Array, // (N)
  targets: Int32Array, // (N)
  weights: Float32Array, // (N)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const g = weights[n]! * slopes[n]!;
    if (g === 0) continue;
    const target = targets[n]!;
    for (let v = 0; v < V; v++) dlogits[n * V + v] += g * (probs[n * V + v]! - (v === target ? 1 : 0));
  }
}

/**
 * ListNet over soft targets (the token-order head, batch.ts TopTargets): returns Σ_n weight_n · (logsumexp(logits_n)
 * − Σ_v q_nv·logits_nv), which is −Σ_v q_nv·log softmax(logits_n)_v; saves the probabilities. Rows with weight 0 add
 * nothing, and their q is not read.
 */
export function listnetForward(
  probs: Float64Array, // (N,V)
  logits: Float64Array, // (N,V)
  q: Float32Array, // (N,V)
  weights: Float32Array, // (N)
  N: number,
  V: number,
): number {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const r = n * V;
    const lse = rowSoftmax(probs, logits, r, V);
    const w = weights[n]!;
    if (w === 0) continue;
    // log-sum-exp form, as crossentropyForward: Σ_v q_v = 1, so −Σ q_v·(ŷ_v − lse) = lse − Σ q_v·ŷ_v.
    let dot = 0;
    for (let v = 0; v < V; v++) dot += q[r + v]! * logits[r + v]!;
    loss += w * (lse - dot);
  }
  return loss;
}

/** dlogits (N,V) += weight · (softmax − q), ListNet's gradient. */
export function listnetBackward(
  dlogits: Float64Array, // (N,V)
  probs: Float64Array, // (N,V)
  q: Float32Array, // (N,V)
  weights: Float32Array, // (N)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const w = weights[n]!;
    if (w === 0) continue;
    for (let v = 0; v < V; v++) dlogits[n * V + v] += w * (probs[n * V + v]! - q[n * V + v]!);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The transformer block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)).

interface Dims {
  B: number;
  T: number;
  C: number;
  NH: number;
  V: number;
  causal: boolean;
  /** The MLP's hidden activations rounded to f16 where they are stored (RefOptions.halfActivations). */
  half: boolean;
}

/**
 * How the reference rounds what the GPU model stores. halfActivations: c_fc's output and its GELU, (B,T,4C) each,
 * rounded to f16 as a GpuModel with f16 activation storage keeps them (src/engine/plan.ts, HALF_ACTIVATIONS): the
 * GELU taken of the unrounded output, c_proj and both backward uses reading the rounded values; every other value
 * float64.
 */
export interface RefOptions {
  halfActivations?: boolean;
}

/**
 * x rounded to the nearest IEEE binary16 value, ties to even (what WGSL's f16(x) gives on the adapters here):
 * 11 significant bits, normals from 2^−14, subnormals in steps of 2^−24, ±Infinity from 65520.
 */
export function f16Round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  let e = Math.floor(Math.log2(a));
  // log2 of a value just below a power of two may round up to it: settle e so that 2^e <= a < 2^(e+1).
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, -14) - 10);
  const q = a / ulp; // exact: ulp is a power of two
  const lo = Math.floor(q);
  const r = q - lo > 0.5 || (q - lo === 0.5 && lo % 2 === 1) ? lo + 1 : lo;
  return Math.sign(x) * r * ulp;
}

const roundHalf = (xs: Float64Array): void => {
  for (let i = 0; i < xs.length; i++) xs[i] = f16Round(xs[i]!);
};

/** One block's tensors (or their gradients), as views into the flat buffer. */
interface BlockWeights {
  ln1w: Float64Array; // (C)
  ln1b: Float64Array; // (C)
  qkvw: Float64Array; // (3C,C)
  qkvb: Float64Array; // (3C)
  attprojw: Float64Array; // (C,C)
  attprojb: Float64Array; // (C)
  ln2w: Float64Array; // (C)
  ln2b: Float64Array; // (C)
  fcw: Float64Array; // (4C,C)
  fcb: Float64Array; // (4C)
  fcprojw: Float64Array; // (C,4C)
  fcprojb: Float64Array; // (C)
}

function view(table: ParamTable, flat: Float64Array, name: string): Float64Array {
  const s = table.get(name);
  return flat.subarray(s.offset, s.offset + s.size);
}

function blockWeights(table: ParamTable, flat: Float64Array, prefix: string): BlockWeights {
  const t = (name: string): Float64Array => view(table, flat, name);
  const p = blockParams(prefix);
  return {
    ln1w: t(p.ln1.weight),
    ln1b: t(p.ln1.bias),
    qkvw: t(p.cAttn.weight),
    qkvb: t(p.cAttn.bias),
    attprojw: t(p.attnProj.weight),
    attprojb: t(p.attnProj.bias),
    ln2w: t(p.ln2.weight),
    ln2b: t(p.ln2.bias),
    fcw: t(p.cFc.weight),
    fcb: t(p.cFc.bias),
    fcprojw: t(p.mlpProj.weight),
    fcprojb: t(p.mlpProj.bias),
  };
}

/** What a block's forward saves for its backward. */
interface BlockActs {
  inp: Float64Array; // (B,T,C) the block's input (not owned)
  ln1: Float64Array; // (B,T,C)
  ln1Mean: Float64Array; // (B,T)
  ln1Rstd: Float64Array; // (B,T)
  qkv: Float64Array; // (B,T,3C)
  att: Float64Array; // (B,NH,T,T)
  atty: Float64Array; // (B,T,C)
  attproj: Float64Array; // (B,T,C)
  residual2: Float64Array; // (B,T,C)
  ln2: Float64Array; // (B,T,C)
  ln2Mean: Float64Array; // (B,T)
  ln2Rstd: Float64Array; // (B,T)
  fch: Float64Array; // (B,T,4C)
  fchGelu: Float64Array; // (B,T,4C)
  fcproj: Float64Array; // (B,T,C)
  out: Float64Array; // (B,T,C) residual3, the block's output
}

function blockForward(d: Dims, w: BlockWeights, inp: Float64Array): BlockActs {
  const { B, T, C, NH } = d;
  const N = B * T;
  const a: BlockActs = {
    inp,
    ln1: new Float64Array(N * C),
    ln1Mean: new Float64Array(N),
    ln1Rstd: new Float64Array(N),
    qkv: new Float64Array(N * 3 * C),
    att: new Float64Array(B * NH * T * T),
    atty: new Float64Array(N * C),
    attproj: new Float64Array(N * C),
    residual2: new Float64Array(N * C),
    ln2: new Float64Array(N * C),
    ln2Mean: new Float64Array(N),
    ln2Rstd: new Float64Array(N),
    fch: new Float64Array(N * 4 * C),
    fchGelu: new Float64Array(N * 4 * C),
    fcproj: new Float64Array(N * C),
    out: new Float64Array(N * C),
  };
  layernormForward(a.ln1, a.ln1Mean, a.ln1Rstd, inp, w.ln1w, w.ln1b, N, C);
  matmulForward(a.qkv, a.ln1, w.qkvw, w.qkvb, N, C, 3 * C);
  attentionForward(a.atty, a.att, a.qkv, B, T, C, NH, d.causal);
  matmulForward(a.attproj, a.atty, w.attprojw, w.attprojb, N, C, C);
  residualForward(a.residual2, inp, a.attproj, N * C);
  layernormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.residual2, w.ln2w, w.ln2b, N, C);
  matmulForward(a.fch, a.ln2, w.fcw, w.fcb, N, C, 4 * C);
  geluForward(a.fchGelu, a.fch, N * 4 * C);
  if (d.half) {
    roundHalf(a.fch);
    roundHalf(a.fchGelu);
  }
  matmulForward(a.fcproj, a.fchGelu, w.fcprojw, w.fcprojb, N, 4 * C, C);
  residualForward(a.out, a.residual2, a.fcproj, N * C);
  return a;
}

/** Adds the block's parameter gradients into dw and the gradient of its input into dinp, given dout. */
function blockBackward(
  d: Dims,
  w: BlockWeights,
  dw: BlockWeights,
  a: BlockActs,
  dout: Float64Array, // (B,T,C)
  dinp: Float64Array, // (B,T,C)
): void {
  const { B, T, C, NH } = d;
  const N = B * T;
  const dresidual2 = new Float64Array(N * C);
  const dfcproj = new Float64Array(N * C);
  const dfchGelu = new Float64Array(N * 4 * C);
  const dfch = new Float64Array(N * 4 * C);
  const dln2 = new Float64Array(N * C);
  const dattproj = new Float64Array(N * C);
  const datty = new Float64Array(N * C);
  const dqkv = new Float64Array(N * 3 * C);
  const dln1 = new Float64Array(N * C);
  residualBackward(dresidual2, dfcproj, dout, N * C);
  matmulBackward(dfchGelu, dw.fcprojw, dw.fcprojb, dfcproj, a.fchGelu, w.fcprojw, N, 4 * C, C);
  geluBackward(dfch, a.fch, dfchGelu, N * 4 * C);
  matmulBackward(dln2, dw.fcw, dw.fcb, dfch, a.ln2, w.fcw, N, C, 4 * C);
  layernormBackward(dresidual2, dw.ln2w, dw.ln2b, dln2, a.residual2, w.ln2w, a.ln2Mean, a.ln2Rstd, N, C);
  residualBackward(dinp, dattproj, dresidual2, N * C);
  matmulBackward(datty, dw.attprojw, dw.attprojb, dattproj, a.atty, w.attprojw, N, C, C);
  attentionBackward(dqkv, datty, a.qkv, a.att, B, T, C, NH);
  matmulBackward(dln1, dw.qkvw, dw.qkvb, dqkv, a.ln1, w.qkvw, N, C, 3 * C);
  layernormBackward(dinp, dw.ln1w, dw.ln1b, dln1, a.inp, w.ln1w, a.ln1Mean, a.ln1Rstd, N, C);
}

// ---------------------------------------------------------------------------------------------------------------
// The model: encoder → trunk blocks → for each head h: (h >= 1: head block h) → ln_f → tied lm_head → loss; with
// the token-order head, head 0's ln_f output → top_head → ListNet loss as well.

/** The model's tensors (or their gradients), as views into one flat buffer laid out by paramTable. */
interface ModelWeights {
  wte: Float64Array; // (V,C)
  wpe: Float64Array; // (maxT,C)
  blocks: BlockWeights[]; // nLayer trunk blocks
  lnfw: Float64Array; // (C)
  lnfb: Float64Array; // (C)
  heads: BlockWeights[]; // extraHeads blocks; heads[k-1] belongs to head k
  top: Float64Array | null; // (V,C) the token-order head (ModelConfig.topHead), else null
}

function modelWeights(cfg: ModelConfig, table: ParamTable, flat: Float64Array): ModelWeights {
  if (flat.length !== table.total) throw new Error(`expected ${table.total} floats, got ${flat.length}`);
  return {
    wte: view(table, flat, MODEL_PARAMS.wte),
    wpe: view(table, flat, MODEL_PARAMS.wpe),
    blocks: Array.from({ length: cfg.nLayer }, (_, i) => blockWeights(table, flat, blockPrefix(i))),
    lnfw: view(table, flat, MODEL_PARAMS.lnF.weight),
    lnfb: view(table, flat, MODEL_PARAMS.lnF.bias),
    heads: Array.from({ length: cfg.extraHeads }, (_, k) => blockWeights(table, flat, headPrefix(k + 1))),
    top: cfg.topHead ? view(table, flat, MODEL_PARAMS.topHead) : null,
  };
}

/** What one output head's forward saves for its backward. */
interface HeadActs {
  block: BlockActs | null; // head block (h >= 1); null for head 0, which reads the trunk output directly
  lnfIn: Float64Array; // (B,T,C)
  lnf: Float64Array; // (B,T,C)
  lnfMean: Float64Array; // (B,T)
  lnfRstd: Float64Array; // (B,T)
  logits: Float64Array; // (B,T,V) a view into the (H,B,T,V) logits
  probs: Float64Array; // (B,T,V)
  slopes: Float64Array; // (B,T) f'(ℓ) per row (crossentropyForward)
}

interface ModelActs {
  encoded: Float64Array; // (B,T,C)
  blocks: BlockActs[];
  heads: HeadActs[];
  logits: Float64Array; // (H,B,T,V)
  /** The token-order head's logits and their softmax (soft targets given), (B,T,V) each; null without that head. */
  top: { logits: Float64Array; probs: Float64Array } | null;
  loss: number;
}

function checkBatch(cfg: ModelConfig, batch: Batch): void {
  const { n, T } = batch;
  const H = 1 + cfg.extraHeads;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`batch.n must be a positive whole number, got ${n}`);
  if (!(Number.isInteger(T) && T >= 1 && T <= cfg.blockSize)) {
    throw new Error(`batch.T must be in [1, blockSize=${cfg.blockSize}], got ${T}`);
  }
  if (batch.tokens.length !== n * T) throw new Error(`batch.tokens has ${batch.tokens.length}, want n·T=${n * T}`);
  if (batch.targets.length !== H * n * T) {
    throw new Error(`batch.targets has ${batch.targets.length}, want H·n·T=${H * n * T}`);
  }
  if (batch.weights.length !== H * n * T) {
    throw new Error(`batch.weights has ${batch.weights.length}, want H·n·T=${H * n * T}`);
  }
  if (!!cfg.topHead !== !!batch.top) {
    // A training batch of a TOP model carries soft targets; a logits-only pass (refForwardFn) may leave them out.
    const weighted = batch.weights.some((w) => w !== 0);
    if (batch.top || weighted) throw new Error(`batch.top must be given exactly when the model has the TOP head`);
  }
  if (batch.top) {
    const V = cfg.vocabSize;
    if (batch.top.probs.length !== n * T * V)
      throw new Error(`batch.top.probs has ${batch.top.probs.length}, want n·T·V`);
    if (batch.top.weights.length !== n * T)
      throw new Error(`batch.top.weights has ${batch.top.weights.length}, want n·T`);
  }
  for (let i = 0; i < n * T; i++) {
    const tok = batch.tokens[i]!;
    if (!(tok >= 0 && tok < cfg.vocabSize)) throw new Error(`token ${tok} at ${i} is outside [0, ${cfg.vocabSize})`);
  }
}

function dims(cfg: ModelConfig, batch: Batch, opts: RefOptions): Dims {
  const causal = cfg.attention === 'causal';
  const half = !!opts.halfActivations;
  return { B: batch.n, T: batch.T, C: cfg.nEmbd, NH: cfg.nHead, V: cfg.vocabSize, causal, half };
}

function modelForward(cfg: ModelConfig, w: ModelWeights, batch: Batch, opts: RefOptions = {}): ModelActs {
  checkBatch(cfg, batch);
  const d = dims(cfg, batch, opts);
  const { B, T, C, V } = d;
  const N = B * T;
  const H = 1 + cfg.extraHeads;
  const encoded = new Float64Array(N * C);
  encoderForward(encoded, batch.tokens, w.wte, w.wpe, B, T, C);
  const blocks: BlockActs[] = [];
  let x: Float64Array = encoded;
  for (const bw of w.blocks) {
    const a = blockForward(d, bw, x);
    blocks.push(a);
    x = a.out;
  }
  const trunkOut = x; // z: (B,T,C), before ln_f
  const logits = new Float64Array(H * N * V);
  const heads: HeadActs[] = [];
  let loss = 0;
  for (let h = 0; h < H; h++) {
    const block = h === 0 ? null : blockForward(d, w.heads[h - 1]!, trunkOut);
    const ha: HeadActs = {
      block,
      lnfIn: block ? block.out : trunkOut,
      lnf: new Float64Array(N * C),
      lnfMean: new Float64Array(N),
      lnfRstd: new Float64Array(N),
      logits: logits.subarray(h * N * V, (h + 1) * N * V),
      probs: new Float64Array(N * V),
      slopes: new Float64Array(N),
    };
    layernormForward(ha.lnf, ha.lnfMean, ha.lnfRstd, ha.lnfIn, w.lnfw, w.lnfb, N, C);
    matmulForward(ha.logits, ha.lnf, w.wte, null, N, C, V); // lm_head tied to wte, no bias
    const targets = batch.targets.subarray(h * N, (h + 1) * N);
    const weights = batch.weights.subarray(h * N, (h + 1) * N);
    loss += crossentropyForward(ha.probs, ha.slopes, ha.logits, targets, weights, N, V, batch.loss);
    heads.push(ha);
  }
  let top: ModelActs['top'] = null;
  if (w.top) {
    // The token-order head reads head 0's ln_f output, as the lm_head does: topLogits (B,T,V) = lnf · top_headᵀ.
    top = { logits: new Float64Array(N * V), probs: new Float64Array(N * V) };
    matmulForward(top.logits, heads[0]!.lnf, w.top, null, N, C, V);
    if (batch.top) loss += listnetForward(top.probs, top.logits, batch.top.probs, batch.top.weights, N, V);
  }
  return { encoded, blocks, heads, logits, top, loss };
}

function modelBackward(cfg: ModelConfig, w: ModelWeights, dw: ModelWeights, acts: ModelActs, batch: Batch): void {
  const d = dims(cfg, batch, {});
  const { B, T, C, V } = d;
  const N = B * T;
  const H = 1 + cfg.extraHeads;
  const dtrunkOut = new Float64Array(N * C); // every head adds into it
  for (let h = H - 1; h >= 0; h--) {
    const ha = acts.heads[h]!;
    const targets = batch.targets.subarray(h * N, (h + 1) * N);
    const weights = batch.weights.subarray(h * N, (h + 1) * N);
    const dlogits = new Float64Array(N * V);
    const dlnf = new Float64Array(N * C);
    crossentropyBackward(dlogits, ha.probs, ha.slopes, targets, weights, N, V);
    matmulBackward(dlnf, dw.wte, null, dlogits, ha.lnf, w.wte, N, C, V); // the tied lm_head's share of dwte
    if (h === 0 && acts.top && batch.top) {
      // The token-order head's gradient joins the lm_head's in ∂/∂lnf (both read head 0's ln_f output).
      const dtop = new Float64Array(N * V);
      listnetBackward(dtop, acts.top.probs, batch.top.probs, batch.top.weights, N, V);
      matmulBackward(dlnf, dw.top!, null, dtop, ha.lnf, w.top!, N, C, V);
    }
    if (ha.block) {
      const dblockOut = new Float64Array(N * C);
      layernormBackward(dblockOut, dw.lnfw, dw.lnfb, dlnf, ha.lnfIn, w.lnfw, ha.lnfMean, ha.lnfRstd, N, C);
      blockBackward(d, w.heads[h - 1]!, dw.heads[h - 1]!, ha.block, dblockOut, dtrunkOut);
    } else {
      layernormBackward(dtrunkOut, dw.lnfw, dw.lnfb, dlnf, ha.lnfIn, w.lnfw, ha.lnfMean, ha.lnfRstd, N, C);
    }
  }
  let dout: Float64Array = dtrunkOut;
  for (let l = cfg.nLayer - 1; l >= 0; l--) {
    const dinp = new Float64Array(N * C);
    blockBackward(d, w.blocks[l]!, dw.blocks[l]!, acts.blocks[l]!, dout, dinp);
    dout = dinp;
  }
  encoderBackward(dw.wte, dw.wpe, dout, batch.tokens, B, T, C); // the embedding's share of dwte
}

// ---------------------------------------------------------------------------------------------------------------
// Public API.

export interface RefResult {
  /** Σ over heads, sequences and positions of weight · cross-entropy. */
  loss: number;
  /** (H,n,T,V) */
  logits: Float64Array;
  /** d loss / d params, laid out as the parameters (padding stays 0). */
  grads: Float64Array;
}

/**
 * Loss and logits (H,n,T,V) of the model with these parameters (laid out by paramTable(cfg)) on a batch, and the
 * token-order head's logits (n,T,V) where the model has that head.
 */
export function refForward(
  cfg: ModelConfig,
  params: Float64Array,
  batch: Batch,
): { loss: number; logits: Float64Array; topLogits: Float64Array | null } {
  const acts = modelForward(cfg, modelWeights(cfg, paramTable(cfg), params), batch);
  return { loss: acts.loss, logits: acts.logits, topLogits: acts.top?.logits ?? null };
}

/** Loss, logits and the gradient of the loss with respect to every parameter (wte gets embedding + lm_head). */
export function refLossAndGrads(
  cfg: ModelConfig,
  params: Float64Array,
  batch: Batch,
  opts: RefOptions = {},
): RefResult {
  const table = paramTable(cfg);
  const w = modelWeights(cfg, table, params);
  const grads = new Float64Array(table.total);
  const acts = modelForward(cfg, w, batch, opts);
  modelBackward(cfg, w, modelWeights(cfg, table, grads), acts, batch);
  return { loss: acts.loss, logits: acts.logits, grads };
}

/** The reference as a ForwardFn (logits rounded to float32), so decoders and evaluators can run without a GPU. */
export function refForwardFn(cfg: ModelConfig, params: Float64Array | Float32Array): ForwardFn {
  const p64 = Float64Array.from(params); // a copy: later changes to the caller's array do not leak in
  const H = 1 + cfg.extraHeads;
  return (tokens, n, T) => {
    try {
      const batch: Batch = {
        n,
        T,
        tokens,
        targets: new Int32Array(H * n * T).fill(-1),
        weights: new Float32Array(H * n * T), // all 0: logits only
      };
      return Promise.resolve(Float32Array.from(refForward(cfg, p64, batch).logits));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  };
}

/** The global L2 norm of a gradient buffer, sqrt(Σ g²) (padding is 0, so it adds nothing). */
export function refGradNorm(grads: Float64Array): number {
  let sumSq = 0;
  for (let i = 0; i < grads.length; i++) sumSq += grads[i]! * grads[i]!;
  return Math.sqrt(sumSq);
}

export interface AdamState {
  /** First moment, laid out as the parameters. */
  m: Float64Array;
  /** Second moment, laid out as the parameters. */
  v: Float64Array;
  /** Optimizer steps taken so far (PyTorch's `step`); the next update uses t = step + 1. */
  step: number;
}

/** Fresh AdamW state (zero moments, step 0) for a parameter table. */
export function refAdamState(table: ParamTable): AdamState {
  return { m: new Float64Array(table.total), v: new Float64Array(table.total), step: 0 };
}

/**
 * One optimizer step in place on params and state, as nanoGPT does it: torch.nn.utils.clip_grad_norm_ (scale all
 * gradients by min(1, clip/(norm + 1e-6))) then torch.optim.AdamW (Loshchilov & Hutter 2019): decoupled decay
 * p ← p − lr·wd·p on 2-D tensors only, then the bias-corrected Adam update. The clip is applied to a local copy of
 * each gradient, so `grads` is left as given. Returns the norm before clipping, as clip_grad_norm_ does.
 */
export function refAdamWStep(
  table: ParamTable,
  params: Float64Array,
  grads: Float64Array,
  state: AdamState,
  lr: number,
  train: TrainConfig,
): { gradNorm: number } {
  let sumSq = 0;
  for (const s of table.specs) {
    for (let i = s.offset; i < s.offset + s.size; i++) sumSq += grads[i]! * grads[i]!;
  }
  const gradNorm = Math.sqrt(sumSq);
  const clipScale = train.gradClip > 0 ? Math.min(1, train.gradClip / (gradNorm + 1e-6)) : 1;
  state.step += 1;
  const t = state.step;
  const { beta1, beta2, eps, weightDecay } = train;
  const bias1 = 1 - beta1 ** t;
  const bias2 = 1 - beta2 ** t;
  for (const s of table.specs) {
    for (let i = s.offset; i < s.offset + s.size; i++) {
      const g = grads[i]! * clipScale;
      if (s.decay) params[i] -= lr * weightDecay * params[i]!;
      state.m[i] = beta1 * state.m[i]! + (1 - beta1) * g;
      state.v[i] = beta2 * state.v[i]! + (1 - beta2) * g * g;
      const mhat = state.m[i]! / bias1;
      const vhat = state.v[i]! / bias2;
      params[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  }
  return { gradNorm };
}

/**
 * Train from params0 (left unchanged) for one optimizer step per batch, with lr = learningRate(train, step) for the
 * 0-based step. Returns each step's loss, measured before that step's update.
 */
export function refTrain(
  cfg: ModelConfig,
  train: TrainConfig,
  params0: Float64Array,
  batches: Batch[],
  opts: RefOptions = {},
): number[] {
  const table = paramTable(cfg);
  const params = Float64Array.from(params0);
  const state = refAdamState(table);
  const losses: number[] = [];
  batches.forEach((batch, step) => {
    const { loss, grads } = refLossAndGrads(cfg, params, batch, opts);
    losses.push(loss);
    refAdamWStep(table, params, grads, state, learningRate(train, step), train);
  });
  return losses;
}
