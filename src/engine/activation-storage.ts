// How the model stores its half activations (plan.ts, HALF_ACTIVATIONS: c_fc's output and its GELU), chosen per
// adapter like the matmul variants (matmul-variants.ts): f16 halves the bytes that the MLP's four products move
// through those tensors, and pays only where the adapter loads and stores f16 at least as fast as f32 (on lavapipe
// an f16 pass is 10–15% slower: docs/kernel-notes.md, "What a dispatch costs, and whether f16 storage would pay"). Where
// the device lacks `shader-f16`, f32 without timing (SwiftShader has none), as on lavapipe (known); elsewhere the choice autotune.ts kept for
// this adapter and matmul variant, or, the first time, those four products timed both ways and the faster taken.
import { deviceAdapter, isLavapipe, type AdapterIdentity } from './adapter';
import { KernelCache, timeSubmission } from './pipelines';
import type { MatmulFlags, MatmulStorage, StorageType } from './kernels';
import { probeAllocator, productDispatches } from './matmul-probe';
import type { MatmulVariant } from './matmul-variants';

export interface StorageTiming {
  storage: StorageType;
  /** Milliseconds for the MLP's four products that touch its hidden activations (timeMlpProducts), so stored. */
  ms: number;
}

export interface StorageChoice {
  storage: StorageType;
  /** How: the device has no `shader-f16` (f32), known (lavapipe: f32), the cached storage, or timed now (then `timings`). */
  source: 'unavailable' | 'known' | 'cached' | 'timed';
  timings: StorageTiming[];
}

/**
 * f16 is kept only where it times at most this fraction of f32's time: it rounds the activations, so a tie within
 * the timing's noise keeps f32.
 */
export const F16_MARGIN = 0.9;

/**
 * Choose the half activations' storage for this device and matmul variant, before a GpuModel is built on it:
 * `cached` (what autotune.ts kept for this adapter and variant) where it names a storage, else both timed. The probe
 * (rows × width, the MLP of a Linear that wide) defaults to the matmul variants' probe's size.
 */
export async function chooseActivationStorage(
  device: GPUDevice,
  variant: MatmulVariant,
  options: { cached?: string; probe?: { rows: number; width: number; repeats: number } } = {},
  adapter: AdapterIdentity | null = deviceAdapter(device),
): Promise<StorageChoice> {
  if (!device.features.has('shader-f16')) return { storage: 'f32', source: 'unavailable', timings: [] };
  if (adapter && isLavapipe(adapter)) return { storage: 'f32', source: 'known', timings: [] };
  const { cached } = options;
  if (cached === 'f32' || cached === 'f16') return { storage: cached, source: 'cached', timings: [] };
  const { rows, width, repeats } = options.probe ?? { rows: 1024, width: 256, repeats: 3 };
  const timings: StorageTiming[] = [];
  for (const storage of ['f32', 'f16'] as const)
    timings.push({ storage, ms: await timeMlpProducts(device, variant, storage, rows, width, repeats) });
  const storage = timings[1]!.ms < F16_MARGIN * timings[0]!.ms ? 'f16' : 'f32';
  return { storage, source: 'timed', timings };
}

/**
 * Time the four products of an MLP that read or write its hidden activations, as the model records them under
 * variant v with those activations stored as `storage`: c_fc forward (rows,4w) = (rows,w)·(4w,w)ᵀ writing fch and
 * gelu(fch), c_proj forward (rows,w) = gelu(fch)·(w,4w)ᵀ + the residual, c_proj's dinp (rows,4w) = dout·W times
 * gelu'(fch), and its dW (w,4w) += doutᵀ·gelu(fch) with the bias gradient. Allocates its own buffers and destroys
 * them.
 */
async function timeMlpProducts(
  device: GPUDevice,
  v: MatmulVariant,
  storage: StorageType,
  rows: number,
  width: number,
  repeats: number,
): Promise<number> {
  const kernels = KernelCache.of(device);
  const made: GPUBuffer[] = [];
  const alloc = probeAllocator(device, made);
  const storageBuffer = alloc.storage;
  // An activation in half: values of magnitude in [0.25, 0.5), both signs (no subnormals, infinities or NaNs,
  // which some adapters handle on slow paths).
  const activation = (values: number) => {
    if (storage === 'f32') return storageBuffer(values);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const b = device.createBuffer({ size: Math.ceil(values / 2) * 4, usage });
    const bits = new Uint16Array(values).map((_, i) => ((i & 1) << 15) | (0x3400 + ((i * 7919) % 1024)));
    device.queue.writeBuffer(b, 0, bits);
    made.push(b);
    return b;
  };
  const M = rows;
  const C = width;
  const ln2 = storageBuffer(M * C);
  const wFc = storageBuffer(4 * C * C);
  const wProj = storageBuffer(C * 4 * C);
  const bias = storageBuffer(4 * C);
  const res2 = storageBuffer(M * C);
  const res3 = storageBuffer(M * C);
  const dres = storageBuffer(M * C);
  const dfc = storageBuffer(M * 4 * C);
  const dW = storageBuffer(C * 4 * C);
  const db = storageBuffer(C);
  const fch = activation(M * 4 * C);
  const fchGelu = activation(M * 4 * C);
  const s = storage;
  const f32 = 'f32' as const;
  const products: [MatmulFlags, number, number, number, MatmulStorage, Parameters<typeof productDispatches>[7]][] = [
    [
      { transB: true, bias: true, gelu: true },
      M,
      4 * C,
      C,
      { a: f32, b: f32, c: s, aux: s },
      { a: ln2, b: wFc, bias, c: fch, aux: fchGelu },
    ],
    [
      { transB: true, bias: true, residual: true },
      M,
      C,
      4 * C,
      { a: s, b: f32, c: f32, aux: f32 },
      { a: fchGelu, b: wProj, bias, c: res3, aux: res2 },
    ],
    [
      { geluGrad: true },
      M,
      4 * C,
      C,
      { a: f32, b: f32, c: f32, aux: s },
      { a: dres, b: wProj, bias, c: dfc, aux: fch },
    ],
    [
      { transA: true, accumulate: true, biasGrad: true },
      C,
      4 * C,
      M,
      { a: f32, b: s, c: f32, aux: f32 },
      { a: dres, b: fchGelu, bias, c: dW, aux: db },
    ],
  ];
  const list = products.flatMap(([f, m, n, k, st, bufs]) =>
    productDispatches(kernels, alloc, v, f, m, n, k, bufs, undefined, st),
  );
  const ms = await timeSubmission(device, list, repeats);
  for (const b of made) b.destroy();
  return ms;
}
