// Training throughput of the lab's GpuModel: full steps (forward, loss, backward, clipping, AdamW) on one constant
// batch, warm-up first, then several timed runs; and the memory plan, with a check that steps allocate nothing.
// Used by the Node benchmark and, unchanged, by the browser page.
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
}

/** Count device.createBuffer calls from now on (the benchmark wraps the method; the model is unaware). */
export function countBuffers(device: GPUDevice): { count: () => number; restore: () => void } {
  const original = device.createBuffer;
  let n = 0;
  device.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    n++;
    return original.call(this, desc);
  };
  return {
    count: () => n,
    restore: () => {
      device.createBuffer = original;
    },
  };
}

/** A GpuModel at this size with nanoGPT's init from the fixed seed, and the constant batch. */
export function labModel(device: GPUDevice, s: BenchSize): { model: GpuModel; batch: ReturnType<typeof labBatch> } {
  const cfg = modelConfig(s);
  const model = new GpuModel(device, cfg, B, T);
  model.setParams(initParams(cfg, SEED));
  model.setGradClip(TRAIN.gradClip);
  return { model, batch: labBatch() };
}

function labBatch() {
  const { tokens, targets, weights } = benchBatch();
  return { n: B, T, tokens, targets, weights };
}

/** Run `steps` steps and wait for all of them; returns tokens/s and the last loss. */
export async function timeLabSteps(model: GpuModel, batch: ReturnType<typeof labBatch>, steps: number): Promise<{ tokensPerSecond: number; loss: number }> {
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < steps; i++) pending.push((await model.step(batch, LR, TRAIN)).stats);
  const stats = await Promise.all(pending);
  await model.flush();
  const s = (performance.now() - t0) / 1000;
  return { tokensPerSecond: (steps * B * T) / s, loss: stats[stats.length - 1]!.loss };
}

export async function benchTraining(device: GPUDevice, s: BenchSize, opts: { steps: number; runs: number; warmup: number }, log: (line: string) => void): Promise<TrainResult> {
  const counter = countBuffers(device);
  try {
    const { model, batch } = labModel(device, s);
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
    };
    model.destroy();
    return result;
  } finally {
    counter.restore();
  }
}
