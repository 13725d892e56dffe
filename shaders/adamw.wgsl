// AdamW (Loshchilov & Hutter; torch.optim.AdamW as nanoGPT uses it), over the whole flat parameter buffer.
//   g = grad · clipScale;  p -= lr·wd·p (decoupled, 2-D weights only);  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p -= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + eps)
// A step whose gradient norm is not finite is skipped entirely, so the weights stay at the last good values.
// params, grads, m, v (P), read as P/4 vec4s: each thread updates 4 parameters, each lane by the formula above, in
// a quarter of the loads (software adapters pay per load). P is a multiple of 4: the parameter table
// aligns every slot to PARAM_ALIGN floats (src/model/params.ts). decayMask: one bit per parameter, so 4 bits per
// thread; stats: [.., norm, clipScale, finite] at normSlot. N counts parameters.
struct Step { N: u32, normSlot: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, bc1: f32, bc2: f32 }
@group(0) @binding(0) var<uniform> s: Step;
@group(0) @binding(1) var<storage, read_write> params: array<vec4f>;
@group(0) @binding(2) var<storage, read> grads: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> decayMask: array<u32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  if (i >= s.N / 4u) { return; }
  if (stats[s.normSlot + 2u] == 0.0) { return; }
  let g = grads[i] * stats[s.normSlot + 1u];
  var p = params[i];
  // Parameters 4i..4i+3 are bits 4·(i % 8).. of word i / 8.
  let bits = (decayMask[i / 8u] >> (4u * (i % 8u))) & 0xfu;
  let decay = (vec4u(bits) >> vec4u(0u, 1u, 2u, 3u)) & vec4u(1u);
  p = select(p, p - s.lr * s.weightDecay * p, decay == vec4u(1u));
  let mi = s.beta1 * m[i] + (1.0 - s.beta1) * g;
  let vi = s.beta2 * v[i] + (1.0 - s.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  params[i] = p - s.lr * (mi / s.bc1) / (sqrt(vi / s.bc2) + s.eps);
}
