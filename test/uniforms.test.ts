// Uniform blocks by field name: packed at the WGSL struct's offsets whatever the order of the values, and checked
// against the struct in the kernel's source, so a layout that drifts from its shader fails at model construction.
import { describe, expect, test } from 'vitest';
import { KERNELS, matmulSplitK, operandTransposes, reduceKernel } from '../src/engine/kernels';
import { MATMUL_VARIANTS } from '../src/engine/matmul-variants';
import {
  ADAMW_STEP,
  ATTENTION_DIMS,
  checkUniformLayout,
  LAYERNORM_DIMS,
  MATMUL_DIMS,
  packUniform,
  REDUCE_DIMS,
  SPLITK_REDUCE_DIMS,
  uniformLayout,
} from '../src/engine/uniforms';

describe('uniform layouts', () => {
  test('fields are packed in the struct order, 4 bytes each, whatever the order of the values', () => {
    const view = new DataView(new ArrayBuffer(ATTENTION_DIMS.bytes));
    packUniform(ATTENTION_DIMS, { scale: 0.5, causal: 1, NH: 4, C: 16, T: 7, B: 3 }, view);
    expect(ATTENTION_DIMS.bytes).toBe(32); // 6 fields, rounded up to 16
    expect([0, 1, 2, 3, 4].map((i) => view.getUint32(4 * i, true))).toEqual([3, 7, 16, 4, 1]);
    expect(view.getFloat32(20, true)).toBe(0.5);
    expect(ADAMW_STEP.bytes).toBe(48);
    expect(uniformLayout('Dims', [['N', 'u32']]).bytes).toBe(16);
  });

  test('a u32 field out of range is refused with its struct and name', () => {
    const view = new DataView(new ArrayBuffer(16));
    expect(() => packUniform(LAYERNORM_DIMS, { N: -1, C: 4 }, view)).toThrow(/Dims\.N: u32 out of range: -1/);
    expect(() => packUniform(LAYERNORM_DIMS, { N: 2.5, C: 4 }, view)).toThrow(/Dims\.N/);
  });

  test("a layout is checked against the kernel's WGSL struct: names, order and types", () => {
    expect(() => checkUniformLayout(KERNELS.layernormForward, LAYERNORM_DIMS)).not.toThrow();
    expect(() => checkUniformLayout(KERNELS.attentionDqkv, ATTENTION_DIMS)).not.toThrow();
    expect(() => checkUniformLayout(reduceKernel('partial'), REDUCE_DIMS)).not.toThrow();
    expect(() => checkUniformLayout(KERNELS.adamw, ADAMW_STEP)).not.toThrow();
    // Both halves of a split-K dW product, on every kernel that computes one (a dW product over a transposed output
    // gradient is never split: matmulSplitK refuses it).
    for (const v of MATMUL_VARIANTS.filter((x) => !operandTransposes({ transA: true }, 64, 36, 64, x))) {
      const split = matmulSplitK({ transA: true, accumulate: true }, 64, 36, 64, v, 2);
      expect(() => checkUniformLayout(split.partial.def, MATMUL_DIMS)).not.toThrow();
      expect(() => checkUniformLayout(split.reduce.def, SPLITK_REDUCE_DIMS)).not.toThrow();
    }
    // Same size, other names (M, N against layernorm's N, C).
    const otherNames = uniformLayout('Dims', [
      ['M', 'u32'],
      ['N', 'u32'],
    ] as const);
    expect(() => checkUniformLayout(KERNELS.layernormForward, otherNames)).toThrow(
      /does not match the shader's struct \{N: u32, C: u32\}/,
    );
    // Same names, swapped order.
    const swapped = uniformLayout('Dims', [
      ['C', 'u32'],
      ['N', 'u32'],
    ] as const);
    expect(() => checkUniformLayout(KERNELS.layernormForward, swapped)).toThrow(/does not match/);
    // A type that differs.
    const clipAsU32 = uniformLayout('Dims', [
      ['N0', 'u32'],
      ['N1', 'u32'],
      ['chunk', 'u32'],
      ['slot0', 'u32'],
      ['slot1', 'u32'],
      ['clip', 'u32'],
    ] as const);
    expect(() => checkUniformLayout(reduceKernel('finalize'), clipAsU32)).toThrow(/clip: f32/);
  });
});
