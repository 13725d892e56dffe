// The host image of a model's uniform buffer: packed slot by slot as the step's dispatches are recorded
// (model-bindings.ts), uploaded once, then patched in place where a step changes a field: AdamW's learning rate and
// bias corrections every step, the loss shape where a batch changes it, the clipping threshold.
import type { TrainConfig } from '../model/config';
import { STAT_NORM } from './model-buffers';
import { UNIFORM_SLOT_BYTES } from './plan';
import { packUniform, type ADAMW_STEP, type UniformLayout, type UniformValues } from './uniforms';

export class UniformImage {
  readonly host: DataView;

  constructor(
    private readonly device: GPUDevice,
    private readonly buffer: GPUBuffer,
    /** Slots of UNIFORM_SLOT_BYTES (plan.ts, uniformSlots). */
    readonly planned: number,
  ) {
    this.host = new DataView(new ArrayBuffer(planned * UNIFORM_SLOT_BYTES));
  }

  /** The whole image into the buffer (once the step is recorded). */
  upload(): void {
    this.device.queue.writeBuffer(this.buffer, 0, this.host.buffer as ArrayBuffer);
  }

  /** Repack one slot and upload it (queue-ordered: the next submission reads it). */
  patch<F extends string>(slot: number, layout: UniformLayout<F>, values: Record<F, number>): void {
    const at = slot * UNIFORM_SLOT_BYTES;
    packUniform(layout, values, this.host, at);
    this.device.queue.writeBuffer(this.buffer, at, this.host.buffer as ArrayBuffer, at, layout.bytes);
  }
}

/** AdamW's uniform before the first step: N floats (every lane's table), the gradient norm in STAT_NORM. */
export const initialAdamw = (N: number): UniformValues<typeof ADAMW_STEP> => ({
  N,
  normSlot: STAT_NORM,
  lr: 0,
  beta1: 0,
  beta2: 0,
  eps: 0,
  weightDecay: 0,
  bc1: 1,
  bc2: 1,
});

/** Step t's (from 1) AdamW fields into u, in place (no allocation per step). */
export function adamwAt(u: UniformValues<typeof ADAMW_STEP>, lr: number, train: TrainConfig, t: number): void {
  u.lr = lr;
  u.beta1 = train.beta1;
  u.beta2 = train.beta2;
  u.eps = train.eps;
  u.weightDecay = train.weightDecay;
  u.bc1 = 1 - train.beta1 ** t;
  u.bc2 = 1 - train.beta2 ** t;
}
