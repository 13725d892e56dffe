// Each lane's trained state in a model's buffers: its parameters, gradients and AdamW moments, laid out by the
// parameter table (lane after lane when stacked), the weight-decay mask they share, and the flag that freezes a lane.
// What checkpoints, resume and the tests read and write; the training step itself never goes through here.
import type { ParamTable } from '../model/params';
import { readFloats, STAT_FROZEN, writeFloats, type ModelBuffers } from './model-buffers';
import { STATS_LANE } from './plan';

export class LaneTensors {
  constructor(
    private readonly device: GPUDevice,
    private readonly mem: ModelBuffers,
    private readonly table: ParamTable,
    private readonly lanes: number,
  ) {
    // AdamW decays the tensors the table marks (weights, not biases or LayerNorm), one bit a float.
    const mask = new Uint32Array(Math.ceil(table.total / 32));
    for (const s of table.specs) {
      if (!s.decay) continue;
      for (let i = s.offset; i < s.offset + s.size; i++) mask[i >>> 5]! |= 1 << (i & 31);
    }
    writeFloats(this.device, mem.decayMask, mask);
  }

  /** Where lane's parameter table (and its gradients and moments) starts, in floats; checks the lane. */
  at(lane: number): number {
    if (!Number.isInteger(lane) || lane < 0 || lane >= this.lanes)
      throw new Error(`lane ${lane} is not one of this model's ${this.lanes}`);
    return lane * this.table.total;
  }

  /** A lane's parameters; with resetMoments, its AdamW moments zeroed. */
  setParams(params: Float32Array, lane: number, resetMoments: boolean): void {
    if (params.length !== this.table.total)
      throw new Error(`expected ${this.table.total} parameter floats, got ${params.length}`);
    const at = this.at(lane);
    writeFloats(this.device, this.mem.params, params, at);
    if (resetMoments) {
      const zeros = new Float32Array(this.table.total);
      writeFloats(this.device, this.mem.adamM, zeros, at);
      writeFloats(this.device, this.mem.adamV, zeros, at);
    }
  }

  setMoments(m: Float32Array, v: Float32Array, lane: number): void {
    const at = this.at(lane);
    writeFloats(this.device, this.mem.adamM, m, at);
    writeFloats(this.device, this.mem.adamV, v, at);
  }

  /** AdamW leaves the lane's weights and moments as they are from the next step on (STAT_FROZEN). */
  freeze(lane: number): void {
    this.at(lane);
    const at = (lane * STATS_LANE + STAT_FROZEN) * 4;
    this.device.queue.writeBuffer(this.mem.stats, at, new Float32Array([1]));
  }

  async params(lane: number): Promise<Float32Array> {
    return readFloats(this.device, this.mem.params, this.table.total, this.at(lane));
  }
  async grads(lane: number): Promise<Float32Array> {
    return readFloats(this.device, this.mem.grads, this.table.total, this.at(lane));
  }
  async moments(lane: number): Promise<{ m: Float32Array; v: Float32Array }> {
    const at = this.at(lane);
    return {
      m: await readFloats(this.device, this.mem.adamM, this.table.total, at),
      v: await readFloats(this.device, this.mem.adamV, this.table.total, at),
    };
  }
}
