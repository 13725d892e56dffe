// What a recorded training step binds (model-record.ts, model-ops.ts): the model's shape, buffers and kernels, and
// the uniform image; each tensor's binding (a parameter, its gradient, a head's logits, stacked lanes' strides), and
// the dispatch of one kernel with its uniform packed into the next slot. The op launchers (model-ops.ts) build on it.
// Shapes in comments (legend: model.ts).
import type { ModelConfig } from '../model/config';
import { lmHeadRows, MODEL_PARAMS, type ModuleParams, type ParamTable } from '../model/params';
import type { Binding, Dispatch, KernelCache, KernelDef } from './pipelines';
import { lnRstdAt, ONE_ROW_LANE, type RowLanes, type StorageType } from './kernels';
import type { MatmulVariant } from './matmul-variants';
import type { ReductionVariant } from './reduction-variants';
import type { ModelBuffers } from './model-buffers';
import { logitsHeadStride, lossHeads, STATS_LANE, UNIFORM_SLOT_BYTES } from './plan';
import {
  ADAMW_STEP,
  checkUniformLayout,
  CROSSENTROPY_DIMS,
  packUniform,
  REDUCE_DIMS,
  type UniformLayout,
  type UniformValues,
} from './uniforms';

/** What the model needs to record a step: its shape, its buffers and kernels, and the uniform image to pack into. */
export interface RecordingTarget {
  cfg: ModelConfig;
  /** Sequences per lane. */
  B: number;
  /**
   * Models of this shape stacked in the same dispatches (1: one model): their rows along the batch, L·B sequences in
   * all, and their parameters, gradients, moments, logits and statistics lane after lane (plan.ts, planBuffers).
   */
  lanes: number;
  T: number;
  H: number;
  table: ParamTable;
  mem: ModelBuffers;
  kernels: KernelCache;
  matmul: MatmulVariant;
  /**
   * How the row reductions of LayerNorm, cross-entropy and attention's softmax run (one invocation or one workgroup
   * per row).
   */
  reduction: ReductionVariant;
  /** Host image of the uniform buffer, plannedUniforms slots of UNIFORM_SLOT_BYTES. */
  uniformHost: DataView;
  plannedUniforms: number;
  /** AdamW's uniform fields (each step rewrites them and its slot). */
  adamwValues: UniformValues<typeof ADAMW_STEP>;
}

/** The bindings and dispatches of a recorded step; OpRecorder (model-ops.ts) adds the ops. */
export class StepBindings {
  readonly forwardList: Dispatch[] = [];
  readonly lossList: Dispatch[] = [];
  readonly backwardList: Dispatch[] = [];
  readonly sumsList: Dispatch[] = [];
  readonly optimizerList: Dispatch[] = [];
  uniformsUsed = 0;
  /**
   * Dispatches the plan counts that this variant's recording does not need (a LayerNorm fused into its product, the
   * transposes and split-K reduces of other variants): the plan is the same for every variant, so that a spec is
   * checked without a device.
   */
  uniformsFusedAway = 0;
  sumsSlots: [number, number] = [0, 0];
  sumsValues: UniformValues<typeof REDUCE_DIMS> = { N0: 0, N1: 0, chunk: 0, slot0: 0, slot1: 0, clip: 0 };
  adamwSlot = 0;
  lossSlot = 0;
  lossValues: UniformValues<typeof CROSSENTROPY_DIMS> = {
    BT: 0,
    V: 0,
    Vp: 0,
    H: 0,
    headStride: 0,
    exclude: 0,
    laneHeads: 0,
    softHead: 0,
    focalGamma: 0,
  };
  protected readonly cfg: ModelConfig;
  protected readonly B: number;
  protected readonly L: number;
  /** The stacked lanes as the row-wise, reduction and optimizer kernels take them. */
  protected readonly rowLanes: RowLanes;
  protected readonly T: number;
  protected readonly H: number;
  /** Heads of logits per lane (plan.ts, lossHeads): the H next-token heads, then the token-order head's. */
  protected readonly G: number;
  protected readonly table: ParamTable;
  protected readonly mem: ModelBuffers;
  protected readonly kernels: KernelCache;
  protected readonly matmul: MatmulVariant;
  protected readonly reduction: ReductionVariant;
  protected readonly uniformHost: DataView;
  protected readonly plannedUniforms: number;
  protected readonly adamwValues: UniformValues<typeof ADAMW_STEP>;

  constructor(t: RecordingTarget) {
    ({
      cfg: this.cfg,
      B: this.B,
      lanes: this.L,
      T: this.T,
      H: this.H,
      table: this.table,
      mem: this.mem,
      kernels: this.kernels,
      matmul: this.matmul,
      reduction: this.reduction,
      uniformHost: this.uniformHost,
      plannedUniforms: this.plannedUniforms,
      adamwValues: this.adamwValues,
    } = t);
    this.G = lossHeads(this.cfg);
    this.rowLanes =
      this.L === 1
        ? ONE_ROW_LANE
        : { lanes: this.L, rows: this.B * this.T, params: this.table.total, stats: STATS_LANE };
  }

  /** Bytes of a binding that starts at a lane's tensor of `floats` and reaches the same tensor of the last lane. */
  protected acrossLanes(floats: number, laneFloats: number): number {
    return ((this.L - 1) * laneFloats + floats) * 4;
  }
  protected param(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.mem.params, offset: s.offset * 4, size: this.acrossLanes(s.size, this.table.total) };
  }
  /**
   * Floats between two lanes' copies of a bound operand (0 for one lane): a table apart in the parameters and
   * gradients, a lane's heads apart in the logits, `packed` (the operand's size) in the stacked activations, 0 for
   * a placeholder binding that no kernel reads.
   */
  protected laneStride(b: Binding, packed: number): number {
    if (this.L === 1) return 0;
    const buffer = 'buffer' in b ? b.buffer : b;
    if (buffer === this.mem.params || buffer === this.mem.grads || buffer === this.mem.biasGrads)
      return this.table.total;
    if (buffer === this.mem.logits) return this.G * logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    if (buffer === this.mem.stats || buffer === this.mem.matmulAux) return 0;
    return packed;
  }
  /** A LayerNorm's statistics buffer over N rows as its two halves (kernels/, lnRstdAt). */
  protected lnStats(stats: GPUBuffer, N: number): { mean: Binding; rstd: Binding } {
    return {
      mean: { buffer: stats, offset: 0, size: N * 4 },
      rstd: { buffer: stats, offset: lnRstdAt(N) * 4, size: N * 4 },
    };
  }
  /**
   * A LayerNorm's weight and bias as one range of the parameter buffer, which the fused kernel binds as one, and
   * where the bias starts in it (floats): the table lays a module's bias out right after its weight's aligned slot.
   */
  protected lnParams(m: ModuleParams): { range: Binding; biasAt: number } {
    const w = this.table.get(m.weight);
    const b = this.table.get(m.bias);
    if (b.offset < w.offset + w.size) throw new Error(`${m.bias} does not follow ${m.weight} in the parameter table`);
    const range = { buffer: this.mem.params, offset: w.offset * 4, size: (b.offset - w.offset + b.size) * 4 };
    return { range, biasAt: b.offset - w.offset };
  }
  protected grad(name: string): Binding {
    const s = this.table.get(name);
    return { buffer: this.mem.grads, offset: s.offset * 4, size: this.acrossLanes(s.size, this.table.total) };
  }
  /**
   * The gradient of a bias (or of wpe): in grads, or for stacked lanes in biasGrads (same layout), so that a kernel
   * writing it beside a weight's gradient binds two buffers, not two overlapping ranges of one (plan.ts).
   */
  protected biasGrad(name: string): Binding {
    const g = this.grad(name);
    return this.L === 1 ? g : { ...g, buffer: this.mem.biasGrads };
  }
  /**
   * Head h's logits, (B·T, Vp) with Vp = lmHeadRows(V): the vocabulary padded to a multiple of 4; h = H is the
   * token-order head's. Stacked, the logits are lane-major, (L, G, B·T, Vp) with heads logitsHeadStride apart: each
   * lane's heads are its own rows.
   */
  protected logitsOf(h: number): Binding {
    const stride = logitsHeadStride(this.B, this.T, this.cfg.vocabSize);
    const size = this.acrossLanes(this.B * this.T * lmHeadRows(this.cfg.vocabSize), this.G * stride);
    return { buffer: this.mem.logits, offset: h * stride * 4, size };
  }
  /**
   * The tied lm_head's weight (or its gradient, in the grads buffer): wte (V,C) with its slot's zero rows up to
   * Vp = lmHeadRows(V), (Vp,C); or, named, the token-order head's top_head.weight, whose slot is padded alike.
   */
  protected lmHead(buffer: GPUBuffer, name: string = MODEL_PARAMS.wte): Binding {
    const s = this.table.get(name);
    const floats = lmHeadRows(this.cfg.vocabSize) * this.cfg.nEmbd;
    return { buffer, offset: s.offset * 4, size: this.acrossLanes(floats, this.table.total) };
  }

  /**
   * The next slot of the uniform buffer, packed with `values` by the kernel's struct (checked against its source);
   * returns the slot and its binding.
   */
  protected uniform<F extends string>(
    def: KernelDef,
    layout: UniformLayout<F>,
    values: Record<F, number>,
  ): { slot: number; binding: Binding } {
    checkUniformLayout(def, layout);
    const slot = this.uniformsUsed++;
    if (slot >= this.plannedUniforms)
      throw new Error(
        `${def.label}: more uniform blocks than the plan's ${this.plannedUniforms} (plan.ts, uniformSlots)`,
      );
    packUniform(layout, values, this.uniformHost, slot * UNIFORM_SLOT_BYTES);
    return { slot, binding: { buffer: this.mem.uniforms, offset: slot * UNIFORM_SLOT_BYTES, size: layout.bytes } };
  }
  /** How a bound buffer holds its values: f16 for the model's half activations (plan.ts, HALF_ACTIVATIONS). */
  protected storageOf(b: Binding): StorageType {
    return this.mem.half.has('buffer' in b ? b.buffer : b) ? 'f16' : 'f32';
  }
  protected dispatch<F extends string>(
    list: Dispatch[],
    def: KernelDef,
    layout: UniformLayout<F>,
    values: Record<F, number>,
    bindings: Binding[],
    wg: [number, number, number],
  ): number {
    const { slot, binding } = this.uniform(def, layout, values);
    list.push(this.kernels.dispatch(def, [binding, ...bindings], wg));
    return slot;
  }
}
