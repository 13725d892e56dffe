// Uniform blocks written from named fields. A layout lists the fields of a kernel's WGSL uniform struct in
// declaration order; packUniform writes {name: value} at the struct's offsets, so a field is matched to the shader
// by name, not by its position in an array. Every field is a 4-byte scalar, so WGSL's layout rules put field i at
// byte 4·i (WGSL §14.4.1, alignment and size); a block is rounded up to 16 bytes, the uniform address space's
// alignment for structs. checkUniformLayout compares a layout with the struct in the kernel's source.
import type { KernelDef } from './pipelines';

export type UniformScalar = 'u32' | 'f32';

export interface UniformLayout<F extends string> {
  /** The WGSL struct's name in the kernel's source. */
  struct: string;
  fields: readonly (readonly [F, UniformScalar])[];
  /** Bytes of the block: 4 per field, rounded up to 16. */
  bytes: number;
}

export function uniformLayout<F extends string>(
  struct: string,
  fields: readonly (readonly [F, UniformScalar])[],
): UniformLayout<F> {
  return { struct, fields, bytes: Math.max(16, Math.ceil((fields.length * 4) / 16) * 16) };
}

/** The values of a layout's fields by name. */
export type UniformValues<L> = L extends UniformLayout<infer F> ? Record<F, number> : never;

/** The values in the layout's field order (for a caller that writes the block as a list of numbers). */
export function fieldValues<F extends string>(layout: UniformLayout<F>, values: Record<F, number>): number[] {
  return layout.fields.map(([name]) => values[name]);
}

/** Write the block at `byteOffset` of `view` (the rest of its 16-byte rounding is left as it is). */
export function packUniform<F extends string>(
  layout: UniformLayout<F>,
  values: Record<F, number>,
  view: DataView,
  byteOffset = 0,
): void {
  layout.fields.forEach(([name, type], i) => {
    const x = values[name];
    if (type === 'u32') {
      if (!Number.isInteger(x) || x < 0 || x > 0xffffffff)
        throw new Error(`${layout.struct}.${name}: u32 out of range: ${x}`);
      view.setUint32(byteOffset + 4 * i, x, true);
    } else {
      view.setFloat32(byteOffset + 4 * i, x, true);
    }
  });
}

// The kernels' uniform structs (shaders/*.wgsl), field for field.

/**
 * shaders/matmul.wgsl, matmul_tiled.wgsl, matmul_vec4.wgsl, matmul_vec4_16.wgsl: `struct Dims`, C (M,N) = A·B over
 * K; kSlice the rows of K per slice of a split-K dW product and slices their number (read only with SPLIT_K); lane*
 * the floats between two lanes' A, B, bias, C and aux (read only with STACKED; kernels/ matmulDims).
 */
export const MATMUL_DIMS = uniformLayout('Dims', [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['kSlice', 'u32'],
  ['slices', 'u32'],
  ['laneA', 'u32'],
  ['laneB', 'u32'],
  ['laneBias', 'u32'],
  ['laneC', 'u32'],
  ['laneX', 'u32'],
] as const);
/**
 * shaders/matmul_splitk_reduce.wgsl: `struct Dims`, C (M,N) of MN floats summed over S slices, for each of `lanes`
 * lanes (C and aux laneC and laneX floats apart).
 */
export const SPLITK_REDUCE_DIMS = uniformLayout('Dims', [
  ['MN', 'u32'],
  ['M', 'u32'],
  ['S', 'u32'],
  ['lanes', 'u32'],
  ['laneC', 'u32'],
  ['laneX', 'u32'],
] as const);
/** shaders/transpose.wgsl: `struct Dims`, the source's shape (rows, cols), and floats between its lanes. */
export const TRANSPOSE_DIMS = uniformLayout('Dims', [
  ['rows', 'u32'],
  ['cols', 'u32'],
  ['srcLane', 'u32'],
] as const);
/** shaders/attention_forward*.wgsl, attention_backward*.wgsl: `struct Dims`; causal 1 or 0, scale 1/√hs. */
export const ATTENTION_DIMS = uniformLayout('Dims', [
  ['B', 'u32'],
  ['T', 'u32'],
  ['C', 'u32'],
  ['NH', 'u32'],
  ['causal', 'u32'],
  ['scale', 'f32'],
] as const);
/** shaders/layernorm_forward.wgsl, layernorm_backward.wgsl: `struct Dims`, N rows of width C. */
export const LAYERNORM_DIMS = uniformLayout('Dims', [
  ['N', 'u32'],
  ['C', 'u32'],
] as const);
/** shaders/residual.wgsl: `struct Dims`, N elements. */
export const RESIDUAL_DIMS = uniformLayout('Dims', [['N', 'u32']] as const);
/** shaders/encoder_forward.wgsl, encoder_backward.wgsl: `struct Dims`. */
export const ENCODER_DIMS = uniformLayout('Dims', [
  ['B', 'u32'],
  ['T', 'u32'],
  ['C', 'u32'],
  ['V', 'u32'],
] as const);
/**
 * shaders/crossentropy.wgsl: `struct Dims`, H heads of BT rows of Vp logits (the vocabulary V padded to a multiple
 * of 4), headStride floats apart in the logits; the loss's shape (src/model/batch.ts, LossShape): a column the
 * softmax leaves out (NO_COLUMN: none) and the focal γ; the heads of a lane (laneHeads) and which of them is the
 * token-order head, whose rows take ListNet against soft targets (NO_COLUMN: none).
 */
export const CROSSENTROPY_DIMS = uniformLayout('Dims', [
  ['BT', 'u32'],
  ['V', 'u32'],
  ['Vp', 'u32'],
  ['H', 'u32'],
  ['headStride', 'u32'],
  ['exclude', 'u32'],
  ['laneHeads', 'u32'],
  ['softHead', 'u32'],
  ['focalGamma', 'f32'],
] as const);
/** CROSSENTROPY_DIMS.exclude when no column is left out. */
export const NO_COLUMN = 0xffffffff;
/** shaders/reduce.wgsl: `struct Dims`, N values in chunks, the result in stats[slot]; clip for the gradient norm. */
export const REDUCE_DIMS = uniformLayout('Dims', [
  ['N0', 'u32'],
  ['N1', 'u32'],
  ['chunk', 'u32'],
  ['slot0', 'u32'],
  ['slot1', 'u32'],
  ['clip', 'f32'],
] as const);
/** shaders/adamw.wgsl: `struct Step`; bc1, bc2 the bias corrections 1 − β^t. */
export const ADAMW_STEP = uniformLayout('Step', [
  ['N', 'u32'],
  ['normSlot', 'u32'],
  ['lr', 'f32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
  ['weightDecay', 'f32'],
  ['bc1', 'f32'],
  ['bc2', 'f32'],
] as const);

/** Fields of the struct that a kernel's source binds as `var<uniform>`, as [name, type], by the source. */
const structCache = new Map<string, [string, string][]>();

function uniformStruct(def: KernelDef): [string, string][] {
  let fields = structCache.get(def.code);
  if (fields) return fields;
  const code = def.code.replace(/\/\/[^\n]*/g, '');
  const type = /var<uniform>\s*\w+\s*:\s*(\w+)/.exec(code)?.[1];
  const body = type ? new RegExp(`struct\\s+${type}\\s*\\{([^}]*)\\}`).exec(code)?.[1] : undefined;
  if (!type || body === undefined) throw new Error(`${def.label}: no uniform struct found in the kernel's source`);
  fields = [...body.matchAll(/(\w+)\s*:\s*(\w+)/g)].map((m) => [m[1]!, m[2]!]);
  structCache.set(def.code, fields);
  return fields;
}

/** Throws unless the layout names the fields of the kernel's uniform struct, in order and with their types. */
export function checkUniformLayout(def: KernelDef, layout: UniformLayout<string>): void {
  const want = uniformStruct(def);
  const got = layout.fields.map(([n, t]) => [n, t]);
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    const show = (f: string[][]) => f.map(([n, t]) => `${n}: ${t}`).join(', ');
    throw new Error(`${def.label}: uniform layout {${show(got)}} does not match the shader's struct {${show(want)}}`);
  }
}
