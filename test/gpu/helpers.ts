// Shared setup for GPU tests: one Dawn device for the whole test file (Node, `webgpu` package).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryVariantCache, type VariantCache } from '../../src/engine/adapter';
import { writeKernelEntry } from '../../src/engine/autotune';
import { acquireGpu, type GpuContext } from '../../src/engine/gpu';
import { presetMatmulVariant } from '../../src/engine/matmul-variants';
import { FileVariantCache } from '../../src/engine/node-variant-cache';
import { THREAD_ROWS } from '../../src/engine/reduction-variants';
import type { GpuModel } from '../../src/engine/model';
import { nodeGpu } from '../../src/engine/node-gpu';
import type { Batch } from '../../src/model/batch';
import { DEFAULT_TRAIN, learningRate, type TrainConfig } from '../../src/model/config';

let ctx: Promise<GpuContext> | undefined;

export function testGpu(): Promise<GpuContext> {
  ctx ??= nodeGpu().then((gpu) => acquireGpu(gpu));
  return ctx;
}

/**
 * `cache` holding, for this machine's adapter, the kernel choices the lab otherwise times on first use (the matmul
 * variant, the row reductions, the MLP activations' storage) as their untimed presets. For the tests of runs, the
 * command line and exports, which test what a run does and not which kernels win: timing every variant at the
 * probe's full size compiles dozens of pipelines, minutes on a cold lavapipe, once per test file. The timing itself is
 * tested at a small probe (matmul.test.ts, kernels.test.ts, activations-f16.test.ts), and the Lab's use of a cached
 * choice here.
 */
export async function presetKernelChoices<C extends VariantCache>(cache: C): Promise<C> {
  const { adapterInfo } = await testGpu();
  const matmul = presetMatmulVariant(adapterInfo).name;
  await writeKernelEntry(cache, adapterInfo, { matmul, reduction: THREAD_ROWS.name, storage: 'f32' });
  return cache;
}

/** A memory cache of the preset kernel choices (presetKernelChoices), for a Lab. */
export const presetVariantCache = (): Promise<MemoryVariantCache> => presetKernelChoices(new MemoryVariantCache());

/**
 * Point the command line's kernel-choice cache (LAB_CACHE_DIR) at a new folder holding the preset choices
 * (presetKernelChoices), for the tests that run its commands in this process.
 */
export async function presetCommandLineChoices(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-cache-'));
  await presetKernelChoices(new FileVariantCache(join(dir, 'kernel-choices.json')));
  process.env['LAB_CACHE_DIR'] = dir;
}

/**
 * Compare with a stated tolerance |a − b| <= atol + rtol·|ref|; on failure, report the first offending values and
 * the largest difference, so a mismatch is diagnosable from the log.
 */
export function compare(
  name: string,
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  atol: number,
  rtol: number,
): { maxAbs: number; maxRel: number } {
  if (got.length !== ref.length) throw new Error(`${name}: length ${got.length} vs reference ${ref.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const b = ref[i]!;
    const diff = Math.abs(a - b);
    if (!(diff <= atol + rtol * Math.abs(b))) {
      if (bad.length < 5) bad.push(`[${i}] got ${a} want ${b}`);
    }
    if (diff > maxAbs || Number.isNaN(diff)) maxAbs = Number.isNaN(diff) ? Infinity : diff;
    const rel = diff / Math.max(Math.abs(b), 1e-30);
    if (Math.abs(b) > atol && rel > maxRel) maxRel = rel;
  }
  if (bad.length > 0) {
    throw new Error(
      `${name}: ${bad.length}+ mismatches (atol ${atol}, rtol ${rtol}); largest |diff| ${maxAbs}: ${bad.join('; ')}`,
    );
  }
  return { maxAbs, maxRel };
}

/** The schedule of the ten-step training comparisons: warm-up, clipping and weight decay all at work. */
export const TEN_STEPS: TrainConfig = {
  ...DEFAULT_TRAIN,
  steps: 10,
  warmupSteps: 2,
  lr: 3e-3,
  gradClip: 1.0,
  weightDecay: 0.1,
};

/** Train `model` from `params`, one step per batch under `train`; each step's loss, as the GPU reported it. */
export async function stepLosses(
  model: GpuModel,
  params: Float32Array,
  batches: Batch[],
  train: TrainConfig,
): Promise<number[]> {
  model.setParams(params);
  model.setGradClip(train.gradClip);
  const pending = [];
  for (let s = 0; s < batches.length; s++)
    pending.push((await model.step(batches[s]!, learningRate(train, s), train)).stats);
  return (await Promise.all(pending)).map((x) => x.loss);
}
