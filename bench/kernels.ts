// Kernel throughput in isolation: the matmul products a training step runs (each Linear's forward, dinp and dW),
// attention forward and backward, LayerNorm forward and backward and the fused cross-entropy (the last three under a
// reduction variant: one thread or one workgroup per row), at one model size — plus the 512³ square for
// every matmul variant. Each kernel gets its own buffers (filled with small values) and is timed by GpuTimer.
//
// Throughput definitions: matmul GFLOP/s = 2·M·N·K / time. Attention and LayerNorm GB/s = the bytes each op must
// move at least (every input read once, every output written once; read-modify-write outputs count twice) / time;
// attention's GFLOP/s counts both T×T products in full (the causal half that the kernels skip is not discounted).
import { grid1d, KernelCache, uniformData, type Dispatch, type KernelDef } from '../src/engine/pipelines';
import {
  attentionKernels,
  crossentropyKernel,
  KERNELS,
  layernormKernels,
  type MatmulFlags,
} from '../src/engine/kernels';
import { productDispatches, type MatmulVariant } from '../src/engine/matmul-variants';
import type { ReductionVariant } from '../src/engine/reduction-variants';
import { NO_COLUMN } from '../src/engine/uniforms';
import { lmHeadRows } from '../src/model/params';
import { B, T, VOCAB, spread, type BenchSize, type Spread } from './common';
import type { GpuTimer } from './gpu-timer';

export interface KernelResult {
  /** What the kernel computes, e.g. "fc forward" or "attention backward". */
  op: string;
  /** The kernels that ran (labels). */
  kernels: string[];
  shape: string;
  ms: Spread;
  reps: number;
  gflops?: Spread;
  gbs?: Spread;
}

class Buffers {
  private made: GPUBuffer[] = [];
  constructor(readonly device: GPUDevice) {}
  storage(floats: number): GPUBuffer {
    const b = this.device.createBuffer({
      size: Math.max(16, floats * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    // Small values in [-0.5, 0.5): accumulating kernels run many times and must not overflow.
    const data = new Float32Array(floats);
    for (let i = 0; i < floats; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    this.device.queue.writeBuffer(b, 0, data);
    this.made.push(b);
    return b;
  }
  uniform(fields: { u32?: number[]; f32?: number[] }): GPUBuffer {
    const data = uniformData(fields);
    const b = this.device.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(b, 0, data);
    this.made.push(b);
    return b;
  }
  destroy(): void {
    for (const b of this.made) b.destroy();
    this.made = [];
  }
}

export const scaleSpread = (ms: Spread, f: (ms: number) => number): Spread => spread(ms.runs.map(f));

/** Time one matmul product C (M,N) = op(A)·op(B) under `variant`. */
export async function benchMatmul(
  device: GPUDevice,
  kernels: KernelCache,
  timer: GpuTimer,
  variant: MatmulVariant,
  op: string,
  f: MatmulFlags,
  M: number,
  N: number,
  K_: number,
  runs: number,
): Promise<KernelResult> {
  const bufs = new Buffers(device);
  const operands = [bufs.storage(M * K_), bufs.storage(K_ * N), bufs.storage(N)];
  const out = bufs.storage(M * N);
  const aux = bufs.storage(M * N);
  // The product's dispatches as the model records them (a split dW's two, a tnOnly variant's transposes first).
  const alloc = { storage: (n: number) => bufs.storage(n), uniform: (...u32: number[]) => bufs.uniform({ u32 }) };
  const list = productDispatches(kernels, alloc, variant, f, M, N, K_, {
    a: operands[0]!,
    b: operands[1]!,
    bias: operands[2]!,
    c: out,
    aux,
  });
  const { ms, reps } = await timer.measure(list, runs);
  bufs.destroy();
  const flops = 2 * M * N * K_;
  return {
    op,
    kernels: list.map((d) => d.label),
    shape: `${M}×${N}×${K_}`,
    ms,
    reps,
    gflops: scaleSpread(ms, (x) => flops / x / 1e6),
  };
}

/** The matmul products of one training step at this size, each distinct shape once. */
export function stepMatmuls(s: BenchSize): { op: string; f: MatmulFlags; M: number; N: number; K: number }[] {
  const C = s.nEmbd;
  const BT = B * T;
  // [name, IC, OC, GELU epilogue on the forward product, gelu' epilogue on dinp] as src/engine/model.ts runs them.
  const linears: [string, number, number, boolean, boolean][] = [
    ['c_attn', C, 3 * C, false, false],
    ['attn.c_proj', C, C, false, false],
    ['c_fc', C, 4 * C, true, false],
    ['mlp.c_proj', 4 * C, C, false, true],
  ];
  const out: { op: string; f: MatmulFlags; M: number; N: number; K: number }[] = [];
  for (const [name, IC, OC, gelu, geluGrad] of linears) {
    out.push({
      op: `${name} forward${gelu ? '+GELU' : ''}`,
      f: { transB: true, bias: true, gelu },
      M: BT,
      N: OC,
      K: IC,
    });
    out.push({ op: `${name} dinp${geluGrad ? "·gelu'" : ''}`, f: { geluGrad }, M: BT, N: IC, K: OC });
    out.push({ op: `${name} dW`, f: { transA: true, accumulate: true }, M: OC, N: IC, K: BT });
  }
  // The tied lm_head over the padded vocabulary, as the model records it (model/params.ts, lmHeadRows).
  const Vp = lmHeadRows(VOCAB);
  out.push({ op: 'lm_head forward', f: { transB: true }, M: BT, N: Vp, K: C });
  out.push({ op: 'lm_head dinp', f: {}, M: BT, N: C, K: Vp });
  out.push({ op: 'lm_head dW', f: { transA: true, accumulate: true }, M: Vp, N: C, K: BT });
  return out;
}

export async function benchAttention(
  device: GPUDevice,
  kernels: KernelCache,
  timer: GpuTimer,
  s: BenchSize,
  runs: number,
  reduction: ReductionVariant,
): Promise<KernelResult[]> {
  const bufs = new Buffers(device);
  const C = s.nEmbd;
  const NH = s.nHead;
  const hs = C / NH;
  const uniform = bufs.uniform({ u32: [B, T, C, NH, 1], f32: [1 / Math.sqrt(hs)] });
  const qkv = bufs.storage(B * T * 3 * C);
  const att = bufs.storage(B * NH * T * T);
  const out = bufs.storage(B * T * C);
  const dout = bufs.storage(B * T * C);
  const dpreatt = bufs.storage(B * NH * T * T);
  const dqkv = bufs.storage(B * T * 3 * C);
  const { forward, backward } = attentionKernels(B, T, C, NH, reduction);
  const fw: Dispatch[] = forward.map(([def, wg]) => kernels.dispatch(def, [uniform, qkv, att, out], wg));
  const bw: Dispatch[] = backward.map(([def, wg]) =>
    kernels.dispatch(def, [uniform, qkv, att, dout, dpreatt, dqkv], wg),
  );
  const f4 = 4;
  const qkvB = B * T * 3 * C * f4;
  const attB = B * NH * T * T * f4;
  const btcB = B * T * C * f4;
  const flops = 2 * 2 * B * NH * T * T * hs;
  const shape = `B${B} T${T} C${C} NH${NH}`;
  const results: KernelResult[] = [];
  for (const [op, list, bytes, fl] of [
    ['attention forward', fw, qkvB + attB + btcB, flops],
    ['attention backward', bw, qkvB + attB + btcB + attB + qkvB, 2 * flops],
  ] as const) {
    const { ms, reps } = await timer.measure(list, runs);
    results.push({
      op,
      kernels: list.map((d) => d.label),
      shape,
      ms,
      reps,
      gbs: scaleSpread(ms, (x) => bytes / x / 1e6),
      gflops: scaleSpread(ms, (x) => fl / x / 1e6),
    });
  }
  bufs.destroy();
  return results;
}

export async function benchLayernorm(
  device: GPUDevice,
  kernels: KernelCache,
  timer: GpuTimer,
  s: BenchSize,
  runs: number,
  reduction: ReductionVariant,
  N = B * T,
): Promise<KernelResult[]> {
  const bufs = new Buffers(device);
  const C = s.nEmbd;
  const u = bufs.uniform({ u32: [N, C] });
  const inp = bufs.storage(N * C);
  const w = bufs.storage(C);
  const b = bufs.storage(C);
  const out = bufs.storage(N * C);
  const mean = bufs.storage(N);
  const rstd = bufs.storage(N);
  const dout = bufs.storage(N * C);
  const dinp = bufs.storage(N * C);
  const dw = bufs.storage(C);
  const db = bufs.storage(C);
  const ln = layernormKernels(N, C, reduction);
  const fw = [kernels.dispatch(ln.forward[0], [u, inp, w, b, out, mean, rstd], ln.forward[1])];
  const bind = [u, dout, inp, w, mean, rstd, dinp, dw, db];
  const bw = [kernels.dispatch(ln.backward[0], bind, ln.backward[1])];
  const f4 = 4;
  const shape = `N${N} C${C}`;
  const results: KernelResult[] = [];
  for (const [op, list, bytes] of [
    // in, weight, bias → out, mean, rstd
    ['layernorm forward', fw, (2 * N * C + 2 * C + 2 * N) * f4],
    // dout, in, weight, mean, rstd → dinp (+=), dweight (+=), dbias (+=)
    ['layernorm backward', bw, (2 * N * C + C + 2 * N + 2 * N * C + 4 * C) * f4],
  ] as const) {
    const { ms, reps } = await timer.measure(list, runs);
    results.push({
      op,
      kernels: list.map((d) => d.label),
      shape,
      ms,
      reps,
      gbs: scaleSpread(ms, (x) => bytes / x / 1e6),
    });
  }
  bufs.destroy();
  return results;
}

/**
 * The cost of one dispatch that does almost nothing (out += a over 64 floats: one workgroup), repeated in one pass:
 * what a step pays per dispatch beyond its work, barrier included. Against a step's dispatch count (the training
 * line prints it) it says what fusing kernels or stacking lanes could save on this adapter.
 */
export async function benchDispatch(
  device: GPUDevice,
  kernels: KernelCache,
  timer: GpuTimer,
  runs: number,
): Promise<KernelResult> {
  const bufs = new Buffers(device);
  const N = 64;
  const u = bufs.uniform({ u32: [N] });
  const a = bufs.storage(N);
  const out = bufs.storage(N);
  const list = [kernels.dispatch(KERNELS.residualAccumulate, [u, a, a, out], grid1d(N))];
  const { ms, reps } = await timer.measure(list, runs);
  bufs.destroy();
  return { op: 'one dispatch', kernels: [KERNELS.residualAccumulate.label], shape: `N${N}`, ms, reps };
}

/** One elementwise pass over activations stored as E (f32 or f16): y = 1.5·x + 0.25, computed in f32. */
const activationPass = (e: 'f32' | 'f16'): KernelDef => ({
  label: `activation_pass_${e}`,
  code: `${e === 'f16' ? 'enable f16;\n' : ''}struct Dims { N4: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> x: array<vec4<${e}>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<${e}>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= d.N4) { return; }
  y[gid.x] = vec4<${e}>(vec4f(x[gid.x]) * 1.5 + 0.25);
}`,
  entryPoint: 'main',
  bindings: ['uniform', 'read', 'rw'],
});

/**
 * Whether storing activations in f16 (\`shader-f16\`) would pay on this device: one memory-bound pass over the
 * size's largest activation, c_fc's output (B·T·4C values), stored as f32 and, where the device has the feature,
 * as f16 (half the bytes). The passes over activations (LayerNorm, residual adds, attention) would gain only where
 * f16 loads and stores run at least as many values per second as f32's.
 */
export async function benchActivationStorage(
  device: GPUDevice,
  kernels: KernelCache,
  timer: GpuTimer,
  size: BenchSize,
  runs: number,
): Promise<KernelResult[]> {
  const N = B * T * 4 * size.nEmbd;
  const out: KernelResult[] = [];
  for (const e of ['f32', 'f16'] as const) {
    if (e === 'f16' && !device.features.has('shader-f16')) continue;
    const bytes = e === 'f16' ? 2 : 4;
    const bufs = new Buffers(device);
    const u = bufs.uniform({ u32: [N / 4] });
    // Contents do not matter to a pass of multiply-adds; storage(floats) makes N·bytes/4 floats of room.
    const x = bufs.storage((N * bytes) / 4);
    const y = bufs.storage((N * bytes) / 4);
    const def = activationPass(e);
    const { ms, reps } = await timer.measure([kernels.dispatch(def, [u, x, y], [Math.ceil(N / 4 / 64), 1, 1])], runs);
    bufs.destroy();
    out.push({
      op: `activation pass, ${e}`,
      kernels: [def.label],
      shape: `N${N}`,
      ms,
      reps,
      gbs: scaleSpread(ms, (t) => (2 * N * bytes) / t / 1e6),
    });
  }
  return out;
}

/**
 * The fused cross-entropy (loss and dlogits over N rows of V logits, one head) under a reduction variant, rows of
 * lmHeadRows(V) as the model lays them out. It writes its gradient over the logits, so later repetitions see other
 * finite values: the work is the same.
 */
export async function benchCrossentropy(
  device: GPUDevice,
  kernels: KernelCache,
  timer: GpuTimer,
  runs: number,
  reduction: ReductionVariant,
  N = B * T,
  V = VOCAB,
): Promise<KernelResult> {
  const bufs = new Buffers(device);
  const Vp = lmHeadRows(V);
  const u = bufs.uniform({ u32: [N, V, Vp, 1, N * Vp, NO_COLUMN, 1, NO_COLUMN], f32: [0] }); // no soft head
  const logits = bufs.storage(N * Vp);
  const targets = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(
    targets,
    0,
    Int32Array.from({ length: N }, (_, i) => (i * 31) % V),
  );
  const weights = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(weights, 0, new Float32Array(N).fill(1 / N));
  const losses = bufs.storage(N);
  const [def, wg] = crossentropyKernel(N, reduction);
  const list = [kernels.dispatch(def, [u, logits, targets, weights, losses, weights], wg)]; // soft: unread
  const { ms, reps } = await timer.measure(list, runs);
  // logits read and written (the pad columns written), targets and weights read, losses written
  const bytes = (N * V + N * Vp + 3 * N) * 4;
  bufs.destroy();
  targets.destroy();
  weights.destroy();
  return {
    op: 'cross-entropy',
    kernels: [def.label],
    shape: `N${N} V${V}`,
    ms,
    reps,
    gbs: scaleSpread(ms, (x) => bytes / x / 1e6),
  };
}
