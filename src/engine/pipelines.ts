// A kernel is a small declaration (tfjs-backend-webgpu's habit): WGSL source, entry point, the kinds of its
// bindings, and override constants. Pipelines are cached by that key and labelled with the op's name. A Dispatch
// is a kernel bound to concrete buffers with its workgroup counts, built once when memory is planned, so a
// training step only replays a list of dispatches.

export type BindingKind = 'uniform' | 'read' | 'rw';

export interface KernelDef {
  label: string;
  code: string;
  entryPoint: string;
  bindings: BindingKind[];
  constants?: Record<string, number>;
}

/** A buffer range to bind; a bare GPUBuffer binds the whole buffer. */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

const BIND_TYPE: Record<BindingKind, GPUBufferBindingType> = {
  uniform: 'uniform',
  read: 'read-only-storage',
  rw: 'storage',
};

/** Each device's shared cache (KernelCache.of). */
const perDevice = new WeakMap<GPUDevice, KernelCache>();

export class KernelCache {
  /**
   * The device's one cache, which its models and timing probes share: a pipeline is compiled once per device, not
   * once per model. A CPU adapter without a shader cache on disk (SwiftShader) compiles every pipeline it is given,
   * so a run of several lanes, each a model of its own there, would otherwise compile the same kernels once a lane.
   */
  static of(device: GPUDevice): KernelCache {
    let cache = perDevice.get(device);
    if (!cache) perDevice.set(device, (cache = new KernelCache(device)));
    return cache;
  }

  private pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  /** Shader modules by their source, each with a number that names it in the pipelines' keys. */
  private modules = new Map<string, { module: GPUShaderModule; id: number }>();

  constructor(readonly device: GPUDevice) {}

  get(def: KernelDef): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    // Keyed by the source (through its module), not the label: two kernels may share a label and differ in code.
    let m = this.modules.get(def.code);
    if (!m) {
      m = { module: this.device.createShaderModule({ label: def.label, code: def.code }), id: this.modules.size };
      this.modules.set(def.code, m);
    }
    const key = `${m.id}|${def.entryPoint}|${JSON.stringify(def.constants ?? {})}|${def.bindings.join(',')}`;
    let hit = this.pipelines.get(key);
    if (hit) return hit;
    const module = m.module;
    const layout = this.device.createBindGroupLayout({
      label: `${def.label}.layout`,
      entries: def.bindings.map((kind, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: BIND_TYPE[kind] },
      })),
    });
    const pipeline = this.device.createComputePipeline({
      label: `${def.label}.${def.entryPoint}`,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: def.entryPoint, constants: def.constants ?? {} },
    });
    hit = { pipeline, layout };
    this.pipelines.set(key, hit);
    return hit;
  }

  /** Bind a kernel to buffers; `bindings` must match def.bindings in number and order. */
  dispatch(def: KernelDef, bindings: Binding[], workgroups: [number, number, number]): Dispatch {
    if (bindings.length !== def.bindings.length) {
      throw new Error(`${def.label}: ${bindings.length} bindings given, ${def.bindings.length} declared`);
    }
    const { pipeline, layout } = this.get(def);
    const bindGroup = this.device.createBindGroup({
      label: def.label,
      layout,
      entries: bindings.map((b, binding) => ({
        binding,
        resource: 'buffer' in b ? { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } : { buffer: b },
      })),
    });
    return { label: def.label, pipeline, bindGroup, workgroups };
  }
}

/**
 * One shader module's source from WGSL pieces. WGSL has no includes, so the shared pieces (shaders/common/: a kernel
 * family's uniform struct, bindings and epilogue) are concatenated with the kernel's own source; a piece may be an
 * alias line such as `alias E = vec4f;`, naming the element type that the shared pieces are written over. WGSL's
 * module-scope declarations may come in any order, so the order only decides where compiler messages point.
 */
export function composeWgsl(...parts: string[]): string {
  return parts.map((p) => p.trim()).join('\n\n') + '\n';
}

/** Record dispatches into one compute pass. */
export function encodeDispatches(pass: GPUComputePassEncoder, list: Dispatch[]): void {
  for (const d of list) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
}

/**
 * Wall milliseconds of one submission of `list` in one compute pass, the fastest of `repeats` after a warm-up
 * submission (pipeline creation and first touch of memory): how the per-adapter kernel choices time a variant.
 */
export async function timeSubmission(device: GPUDevice, list: Dispatch[], repeats: number): Promise<number> {
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    encodeDispatches(pass, list);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/**
 * Threads per workgroup of every 1-D kernel (a multiple of any GPU's SIMD width): the `WG` override of
 * shaders/common/grid1d.wgsl, set from here at pipeline creation (src/engine/kernels/).
 */
export const WG = 64;

/**
 * Workgroup counts for `threads` threads of a 1-D kernel of `wg` threads per workgroup (its WG override). Large
 * counts spill into y because a dimension holds at most maxComputeWorkgroupsPerDimension (65535 by default); the
 * shaders rebuild the index as gid.x + gid.y · num_workgroups.x · WG and return past the end.
 */
export function grid1d(threads: number, maxPerDim = 65535, wg = WG): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / wg));
  if (groups <= maxPerDim) return [groups, 1, 1];
  return [maxPerDim, Math.ceil(groups / maxPerDim), 1];
}

/**
 * Workgroup counts for a 1-D kernel whose threads do two independent jobs in one dispatch: `first` threads of one,
 * rounded up to whole workgroups of `wg`, then `second` threads of the other (shaders/common/grid1d.wgsl,
 * second_part_start, where the second job's threads begin).
 */
export const grid1dParts = (first: number, second: number, wg = WG): [number, number, number] =>
  grid1d(Math.ceil(first / wg) * wg + second, 65535, wg);

/**
 * Uniform block of u32/f32 fields, laid out by WGSL's rules for a struct of 4-byte scalars: 4-byte fields packed
 * in order, the struct padded to 16 bytes. The assertion keeps a uniform's size honest.
 */
export function uniformData(fields: { u32?: number[]; f32?: number[] }): ArrayBuffer {
  const u = fields.u32 ?? [];
  const f = fields.f32 ?? [];
  const count = u.length + f.length;
  const bytes = Math.max(16, Math.ceil((count * 4) / 16) * 16);
  const buf = new ArrayBuffer(bytes);
  const dv = new DataView(buf);
  u.forEach((x, i) => {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`uniform u32 field ${i} out of range: ${x}`);
    dv.setUint32(i * 4, x, true);
  });
  f.forEach((x, i) => dv.setFloat32((u.length + i) * 4, x, true));
  if (buf.byteLength % 16 !== 0) throw new Error('uniform block must be a multiple of 16 bytes');
  return buf;
}
