// Attention's forward (att, out) and backward (dqkv) kernels against a float64 CPU version of the same formulas,
// through attentionKernels under each reduction variant: the fused forward on vec4 register tiles (hs % 4 == 0) or
// scalar, or one workgroup per query row with subgroup reductions (skipped, saying so, without 'subgroups'); the
// vec4 and scalar backwards. Causal and bidirectional, with T not a multiple of the 4-row blocks or of the 64-lane
// rows, hs not a multiple of the 8-channel blocks, and a grid of rows that spills past 65535 workgroups.
import { describe, expect, test } from 'vitest';
import { encodeDispatches, KernelCache, uniformData } from '../../src/engine/pipelines';
import { attentionKernels, ROW_WG } from '../../src/engine/kernels';
import { hasSubgroups, REDUCTION_VARIANTS } from '../../src/engine/reduction-variants';
import { Rng } from '../../src/model/rng';
import { compare, testGpu } from './helpers';

/** qkv (B,T,3C), dout (B,T,C) → att (B,NH,T,T), out (B,T,C), dqkv (B,T,3C). */
function refAttention(
  B: number,
  T: number,
  C: number,
  NH: number,
  causal: boolean,
  qkv: Float32Array,
  dout: Float32Array,
) {
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const att = new Float64Array(B * NH * T * T);
  const out = new Float64Array(B * T * C);
  const dqkv = new Float64Array(B * T * 3 * C);
  const q = (b: number, t: number, h: number, e: number) => qkv[(b * T + t) * 3 * C + h * hs + e]!;
  const k = (b: number, t: number, h: number, e: number) => qkv[(b * T + t) * 3 * C + C + h * hs + e]!;
  const v = (b: number, t: number, h: number, e: number) => qkv[(b * T + t) * 3 * C + 2 * C + h * hs + e]!;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const row = ((b * NH + h) * T + i) * T;
        const jEnd = causal ? i + 1 : T;
        let max = -Infinity;
        const s: number[] = [];
        for (let j = 0; j < jEnd; j++) {
          let x = 0;
          for (let e = 0; e < hs; e++) x += q(b, i, h, e) * k(b, j, h, e);
          s.push(x * scale);
          max = Math.max(max, x * scale);
        }
        const sum = s.reduce((a, x) => a + Math.exp(x - max), 0);
        for (let j = 0; j < jEnd; j++) att[row + j] = Math.exp(s[j]! - max) / sum;
        for (let e = 0; e < hs; e++) {
          let o = 0;
          for (let j = 0; j < jEnd; j++) o += att[row + j]! * v(b, j, h, e);
          out[(b * T + i) * C + h * hs + e] = o;
        }
        // Backward through out = att·v and the softmax.
        const datt: number[] = [];
        for (let j = 0; j < jEnd; j++) {
          let x = 0;
          for (let e = 0; e < hs; e++) x += dout[(b * T + i) * C + h * hs + e]! * v(b, j, h, e);
          datt.push(x);
        }
        const dot = datt.reduce((a, x, j) => a + x * att[row + j]!, 0);
        for (let j = 0; j < jEnd; j++) {
          const dpre = att[row + j]! * (datt[j]! - dot);
          for (let e = 0; e < hs; e++) {
            dqkv[(b * T + i) * 3 * C + h * hs + e] += scale * dpre * k(b, j, h, e);
            dqkv[(b * T + j) * 3 * C + C + h * hs + e] += scale * dpre * q(b, i, h, e);
            dqkv[(b * T + j) * 3 * C + 2 * C + h * hs + e] += att[row + j]! * dout[(b * T + i) * C + h * hs + e]!;
          }
        }
      }
    }
  }
  return { att, out, dqkv };
}

// (B, T, C, NH): vec4 paths with hs 4, 8, 12 (a ragged 8-channel block), 32 (the presets') and 68 (more than
// ROW_WG lanes, and a ragged block), T of 1, 5, 13, 64 and 70 (past ROW_WG keys); then the scalar path (hs 10, 6,
// 3), with T of 1, 7, 9 and 130 (three 64-key chunks, the last ragged). SPILL has B·NH·T = 68,000 query rows, so
// the subgroup kernel's grid (one workgroup per row) spills into y; it runs causal only, since SwiftShader takes
// some 35 s over that many workgroups.
const SHAPES: [number, number, number, number][] = [
  [2, 5, 8, 2],
  [2, 13, 24, 2],
  [1, 1, 32, 1],
  [2, 64, 64, 2],
  [3, 7, 36, 3],
  [2, 70, 24, 2],
  [1, 5, 136, 2],
  [2, 7, 20, 2],
  [2, 9, 18, 3],
  [3, 1, 6, 2],
  [1, 130, 10, 1],
];
const SPILL: [number, number, number, number] = [17000, 2, 6, 2];

test('every reduction variant runs the attention forward in one dispatch and its backward in two, as the plan counts', () => {
  for (const [B, T, C, NH] of [...SHAPES, SPILL]) {
    for (const v of REDUCTION_VARIANTS) {
      expect(attentionKernels(B, T, C, NH, v).forward.length).toBe(1);
      // dscores, then dq with dk and dv (vec4 where hs % 4 == 0, else one thread per element of dqkv)
      expect(attentionKernels(B, T, C, NH, v).backward.length).toBe(2);
    }
  }
  // The shapes do reach what they are meant to: a grid of rows past 65535, keys past two subgroup rows' lanes.
  expect(SPILL[0] * SPILL[1] * SPILL[3]).toBeGreaterThan(65535);
  expect(Math.max(...SHAPES.map(([, T]) => T))).toBeGreaterThan(2 * ROW_WG);
});

describe.each(REDUCTION_VARIANTS.flatMap((v) => [true, false].map((causal) => [v.name, causal, v] as const)))(
  'attention kernels, %s, causal %s',
  (_, causal, v) => {
    test.for(causal ? [...SHAPES, SPILL] : SHAPES)('B=%i T=%i C=%i NH=%i', async ([B, T, C, NH], { skip }) => {
      const { device, errors } = await testGpu();
      skip(v.rows === 'subgroup' && !hasSubgroups(device), "this device lacks the 'subgroups' feature");
      const kernels = new KernelCache(device);
      const rng = new Rng(B * 1000 + T * 10 + C);
      const qkv = new Float32Array(B * T * 3 * C).map(() => rng.normal());
      const dout = new Float32Array(B * T * C).map(() => rng.normal());
      const made: GPUBuffer[] = [];
      const storage = (floats: number, data?: Float32Array<ArrayBuffer>) => {
        const buf = device.createBuffer({
          size: floats * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        });
        // Garbage in the outputs, so that an element a kernel forgets to write shows up.
        device.queue.writeBuffer(buf, 0, data ?? new Float32Array(floats).fill(777));
        made.push(buf);
        return buf;
      };
      const qkvBuf = storage(qkv.length, qkv);
      const doutBuf = storage(dout.length, dout);
      const att = storage(B * NH * T * T);
      const out = storage(B * T * C);
      const dpreatt = storage(B * NH * T * T);
      const dqkv = storage(B * T * 3 * C);
      const data = uniformData({ u32: [B, T, C, NH, causal ? 1 : 0], f32: [1 / Math.sqrt(C / NH)] });
      const uniform = device.createBuffer({
        size: data.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(uniform, 0, data);
      made.push(uniform);
      const { forward, backward } = attentionKernels(B, T, C, NH, v);
      const list = [
        ...forward.map(([def, wg]) => kernels.dispatch(def, [uniform, qkvBuf, att, out], wg)),
        ...backward.map(([def, wg]) => kernels.dispatch(def, [uniform, qkvBuf, att, doutBuf, dpreatt, dqkv], wg)),
      ];
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      encodeDispatches(pass, list);
      pass.end();
      device.queue.submit([enc.finish()]);
      const read = async (buf: GPUBuffer, floats: number) => {
        const staging = device.createBuffer({
          size: floats * 4,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
        const e = device.createCommandEncoder();
        e.copyBufferToBuffer(buf, 0, staging, 0, floats * 4);
        device.queue.submit([e.finish()]);
        await staging.mapAsync(GPUMapMode.READ);
        const x = new Float32Array(staging.getMappedRange().slice(0));
        staging.destroy();
        return x;
      };
      const ref = refAttention(B, T, C, NH, causal, qkv, dout);
      const label = `${forward[0]![0].label} (${v.name}) B=${B} T=${T} C=${C} NH=${NH} causal=${causal}`;
      // Unit-normal inputs, sums over at most 64 terms in float32: errors ~1e-6 of the terms; 1e-5 + 1e-4·|ref|
      // leaves margin and still catches a wrong index (errors of order 1).
      compare(`${label} att`, await read(att, B * NH * T * T), ref.att, 1e-5, 1e-4);
      compare(`${label} out`, await read(out, B * T * C), ref.out, 1e-5, 1e-4);
      compare(`${label} dqkv`, await read(dqkv, B * T * 3 * C), ref.dqkv, 1e-5, 1e-4);
      for (const buf of made) buf.destroy();
      expect(errors).toEqual([]);
    });
  },
);
