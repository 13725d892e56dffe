// AdamW (Loshchilov & Hutter; torch.optim.AdamW as nanoGPT uses it), over the whole flat parameter buffer.
//   g = grad · clipScale;  p -= lr·wd·p (decoupled, 2-D weights only);  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p -= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + eps)
// A step whose gradient norm is not finite is skipped entirely, so the weights stay at the last good values.
// params, grads, m, v (P), read as P/4 vec4s: each thread updates 4 parameters, each lane by the formula above, in
// a quarter of the loads (software adapters pay per load). P is a multiple of 4: the parameter table
// aligns every slot to PARAM_ALIGN floats (src/model/params.ts). decayMask: one bit per parameter, so 4 bits per
// thread; stats: [.., norm, clipScale, finite] at normSlot. N counts parameters.
// Stacked lanes: N counts every lane's, LANE_PARAMS floats each; each lane reads its own clip scale and finite flag
// (stats LANE_STATS floats apart), so that a lane whose norm is not finite skips its step alone, and all lanes share
// the one decay mask of their common table. One lane: LANE_PARAMS = 0. A lane whose stats hold a nonzero frozen flag
// (normSlot + 4, written by the host: a lane that failed while the others go on) is not updated at all.
struct Step { N: u32, normSlot: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, bc1: f32, bc2: f32 }
@group(0) @binding(0) var<uniform> s: Step;
@group(0) @binding(1) var<storage, read_write> params: array<vec4f>;
@group(0) @binding(2) var<storage, read> grads: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> decayMask: array<u32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>;

override LANE_PARAMS: u32 = 0u;
override LANE_STATS: u32 = 0u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = thread_index(gid, nwg);
  if (i >= s.N / 4u) { return; }
  var lane = 0u;
  // (max: a division by a constant 0 fails the shader's creation, even in a branch that guards it)
  if (LANE_PARAMS > 0u) { lane = i / max(LANE_PARAMS / 4u, 1u); }
  let j = i - lane * (LANE_PARAMS / 4u); // the thread's place in its lane's table
  let st = lane * LANE_STATS + s.normSlot;
  if (stats[st + 2u] == 0.0 || stats[st + 4u] != 0.0) { return; }
  let g = grads[i] * stats[st + 1u];
  var p = params[i];
  // Parameters 4j..4j+3 are bits 4·(j % 8).. of word j / 8.
  let bits = (decayMask[j / 8u] >> (4u * (j % 8u))) & 0xfu;
  let decay = (vec4u(bits) >> vec4u(0u, 1u, 2u, 3u)) & vec4u(1u);
  p = select(p, p - s.lr * s.weightDecay * p, decay == vec4u(1u));
  let mi = s.beta1 * m[i] + (1.0 - s.beta1) * g;
  let vi = s.beta2 * v[i] + (1.0 - s.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  params[i] = p - s.lr * (mi / s.bc1) / (sqrt(vi / s.bc2) + s.eps);
}
