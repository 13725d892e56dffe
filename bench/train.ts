// Training throughput of the lab's GpuModel: full steps (forward, loss, backward, clipping, AdamW) on one constant
// batch, warm-up first, then several timed runs; and the memory plan, with a check that steps allocate nothing.
// Used by the Node benchmark and, unchanged, by the browser page.
import type { StorageType } from '../src/engine/kernels';
import type { MatmulVariant } from '../src/engine/matmul-variants';
import { THREAD_ROWS, type ReductionVariant } from '../src/engine/reduction-variants';
import { GpuModel } from '../src/engine/model';
import { initParams } from '../src/model/params';
import { B, benchBatch, LR, modelConfig, SEED, spread, T, TRAIN, type BenchSize, type Spread } from './common';

export interface TrainResult {
  size: string;
  tokensPerSecond: Spread;
  stepsPerRun: number;
  warmupSteps: number;
  /** GpuModel.plan.totalBytes: every buffer the model allocates. */
  planBytes: number;
  parameterBytes: number;
  /** device.createBuffer calls while building the model, and during the timed steps (must be 0). */
  buffersAtConstruction: number;
  buffersDuringSteps: number;
  firstLoss: number;
  lastLoss: number;
  /** Compute dispatches per training step (GpuModel.dispatchesPerStep). */
  dispatchesPerStep: number;
}

export interface BufferTracker {
  /** device.createBuffer calls since tracking began. */
  count: () => number;
  /** Bytes of the buffers created since tracking began and not destroyed since. */
  liveBytes: () => number;
  restore: () => void;
}

/**
 * Track device.createBuffer calls, and the bytes of the buffers made, until each is destroyed (the benchmark wraps
 * the methods; the model is unaware). WebGPU has no query of the memory a device holds, so this counts what the
 * application asked for: every buffer goes through createBuffer.
 */
export function trackBuffers(device: GPUDevice): BufferTracker {
  const original = device.createBuffer;
  let n = 0;
  let live = 0;
  device.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    n++;
    const buffer = original.call(this, desc);
    live += desc.size;
    const destroy = buffer.destroy;
    let destroyed = false;
    buffer.destroy = function (this: GPUBuffer) {
      if (!destroyed) live -= desc.size;
      destroyed = true;
      return destroy.call(this);
    };
    return buffer;
  };
  return {
    count: () => n,
    liveBytes: () => live,
    restore: () => {
      device.createBuffer = original;
    },
  };
}

/**
 * A GpuModel at this size with nanoGPT's init from the fixed seed and the given matmul kernels and row reductions,
 * and the constant batch.
 */
export function labModel(
  device: GPUDevice,
  s: BenchSize,
  matmul: MatmulVariant,
  reduction: ReductionVariant = THREAD_ROWS,
  activations: StorageType = 'f32',
  lanes = 1,
): { model: GpuModel; batch: ReturnType<typeof labBatch> } {
  const cfg = modelConfig(s);
  const model = new GpuModel(device, cfg, { batch: B, seqLen: T, matmul, reduction, activations, lanes });
  for (let lane = 0; lane < lanes; lane++) model.setParams(initParams(cfg, SEED + lane), { lane });
  model.setGradClip(TRAIN.gradClip);
  return { model, batch: labBatch() };
}

function labBatch() {
  const { tokens, targets, weights } = benchBatch();
  return { n: B, T, tokens, targets, weights };
}

/** Run `steps` steps and wait for all of them; returns tokens/s and the last loss. */
export async function timeLabSteps(
  model: GpuModel,
  batch: ReturnType<typeof labBatch>,
  steps: number,
): Promise<{ tokensPerSecond: number; loss: number }> {
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < steps; i++) pending.push((await model.step(batch, LR, TRAIN)).stats);
  const stats = await Promise.all(pending);
  await model.flush();
  const s = (performance.now() - t0) / 1000;
  return { tokensPerSecond: (steps * B * T) / s, loss: stats[stats.length - 1]!.loss };
}

export async function benchTraining(
  device: GPUDevice,
  s: BenchSize,
  matmul: MatmulVariant,
  opts: { steps: number; runs: number; warmup: number },
  log: (line: string) => void,
  reduction: ReductionVariant = THREAD_ROWS,
  activations: StorageType = 'f32',
): Promise<TrainResult> {
  const counter = trackBuffers(device);
  try {
    const { model, batch } = labModel(device, s, matmul, reduction, activations);
    const buffersAtConstruction = counter.count();
    const warm = await timeLabSteps(model, batch, opts.warmup);
    const firstLoss = warm.loss;
    const before = counter.count();
    const rates: number[] = [];
    let lastLoss = firstLoss;
    for (let r = 0; r < opts.runs; r++) {
      const { tokensPerSecond, loss } = await timeLabSteps(model, batch, opts.steps);
      rates.push(tokensPerSecond);
      lastLoss = loss;
      log(`  ${s.name} run ${r + 1}/${opts.runs}: ${tokensPerSecond.toFixed(1)} tok/s (loss ${loss.toFixed(4)})`);
    }
    const buffersDuringSteps = counter.count() - before;
    const result: TrainResult = {
      size: s.name,
      tokensPerSecond: spread(rates),
      stepsPerRun: opts.steps,
      warmupSteps: opts.warmup,
      planBytes: model.plan.totalBytes,
      parameterBytes: model.plan.parameterBytes,
      buffersAtConstruction,
      buffersDuringSteps,
      firstLoss,
      lastLoss,
      dispatchesPerStep: model.dispatchesPerStep,
    };
    model.destroy();
    return result;
  } finally {
    counter.restore();
  }
}

export interface LanesResult {
  size: string;
  lanes: number;
  /**
   * Milliseconds per round (one step of every lane): each lane submitting its own step, all in one buffer, or the
   * lanes stacked in one model's dispatches (GpuModel with lanes, stepLanes).
   */
  separateMs: Spread;
  togetherMs: Spread;
  stackedMs: Spread;
  stepsPerRun: number;
}

/**
 * What `lanes` lanes cost against one: `lanes` models of one size stepped round by round, each submitting its own
 * command buffer (what a run does on a CPU adapter), all in one (GpuModel.stepTogether), or stacked into the same
 * dispatches (one GpuModel of `lanes` lanes, stepLanes: what a run does on a GPU). The three ways alternate run by
 * run, so that a machine that slows down mid-benchmark slows each.
 */
export async function benchLanes(
  device: GPUDevice,
  s: BenchSize,
  matmul: MatmulVariant,
  lanes: number,
  opts: { steps: number; runs: number },
  reduction: ReductionVariant = THREAD_ROWS,
): Promise<LanesResult> {
  const built = Array.from({ length: lanes }, () => labModel(device, s, matmul, reduction));
  const stacked = labModel(device, s, matmul, reduction, 'f32', lanes);
  type Way = 'separate' | 'together' | 'stacked';
  const round = async (way: Way) => {
    const pending: Promise<unknown>[] = [];
    if (way === 'together') {
      const steps = built.map(({ model, batch }) => ({ model, batch, lr: LR, train: TRAIN }));
      for (const r of await GpuModel.stepTogether(steps)) pending.push(r.stats);
    } else if (way === 'stacked') {
      const batches = Array.from({ length: lanes }, () => stacked.batch);
      pending.push((await stacked.model.stepLanes(batches, LR, TRAIN)).stats);
    } else for (const { model, batch } of built) pending.push((await model.step(batch, LR, TRAIN)).stats);
    return pending;
  };
  const time = async (way: Way) => {
    const t0 = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < opts.steps; i++) pending.push(...(await round(way)));
    await Promise.all(pending);
    return (performance.now() - t0) / opts.steps;
  };
  try {
    // Warm-up: pipelines compiled, buffers touched.
    await time('together');
    await time('stacked');
    const ms: Record<Way, number[]> = { separate: [], together: [], stacked: [] };
    for (let r = 0; r < opts.runs; r++)
      for (const way of ['separate', 'together', 'stacked'] as const) ms[way].push(await time(way));
    return {
      size: s.name,
      lanes,
      separateMs: spread(ms.separate),
      togetherMs: spread(ms.together),
      stackedMs: spread(ms.stacked),
      stepsPerRun: opts.steps,
    };
  } finally {
    for (const { model } of built) model.destroy();
    stacked.model.destroy();
  }
}

export interface MemoryResult {
  size: string;
  steps: number;
  /** GpuModel.plan.totalBytes (every planned buffer: storage, uniforms, readbacks), and the bytes the model created. */
  planBytes: number;
  bytesAtConstruction: number;
  buffersAtConstruction: number;
  /** After the last step: buffers created and bytes held beyond construction (both must be 0). */
  buffersCreatedDuringSteps: number;
  bytesAddedDuringSteps: number;
  /** JavaScript heap growth per step from step 100 to the end (Node, after a GC where --expose-gc allows it). */
  heapBytesPerStep: number | null;
  /** Seconds per 100 steps over the first and the last hundred: a leak that slows steps shows here. */
  secondsPer100: { first: number; last: number };
  ok: boolean;
}

/**
 * The long-run memory check: `steps` training steps at one size (1,000 by default), counting every buffer created
 * and the bytes held, against what the model held after construction. Steps are submitted 50 at a time, as a
 * training loop that reads its loss back every 50 steps would.
 */
export async function benchMemory(
  device: GPUDevice,
  s: BenchSize,
  matmul: MatmulVariant,
  steps: number,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const tracker = trackBuffers(device);
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    return typeof process === 'undefined' ? null : process.memoryUsage().heapUsed;
  };
  try {
    const { model, batch } = labModel(device, s, matmul);
    const buffersAtConstruction = tracker.count();
    const bytesAtConstruction = tracker.liveBytes();
    let heapAt100: number | null = null;
    const per100: number[] = [];
    let t100 = performance.now();
    for (let done = 0; done < steps;) {
      const n = Math.min(50, steps - done);
      await timeLabSteps(model, batch, n);
      done += n;
      if (done % 100 === 0 || done === steps) {
        const now = performance.now();
        per100.push(((now - t100) / 1000) * (100 / (done % 100 || 100)));
        t100 = now;
        if (done === 100) heapAt100 = heap();
        if (done % 250 === 0 || done === steps) {
          log(
            `  ${s.name} step ${done}/${steps}: ${tracker.count() - buffersAtConstruction} buffers created since construction, ${tracker.liveBytes() - bytesAtConstruction} bytes added`,
          );
        }
      }
    }
    const heapEnd = heap();
    const result: MemoryResult = {
      size: s.name,
      steps,
      planBytes: model.plan.totalBytes,
      bytesAtConstruction,
      buffersAtConstruction,
      buffersCreatedDuringSteps: tracker.count() - buffersAtConstruction,
      bytesAddedDuringSteps: tracker.liveBytes() - bytesAtConstruction,
      heapBytesPerStep:
        heapAt100 !== null && heapEnd !== null && steps > 100 ? (heapEnd - heapAt100) / (steps - 100) : null,
      secondsPer100: { first: per100[0] ?? 0, last: per100[per100.length - 1] ?? 0 },
      ok: false,
    };
    result.ok = result.buffersCreatedDuringSteps === 0 && result.bytesAddedDuringSteps === 0;
    model.destroy();
    return result;
  } finally {
    tracker.restore();
  }
}
