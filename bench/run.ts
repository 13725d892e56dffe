// The benchmark: `npm run bench -- [--sizes 2/64/2,4/128/4,6/256/8] [--steps N] [--runs N] [--json FILE]
//                                   [--memory-steps N] [--no-node] [--no-kernels] [--no-browser] [--variants] [--square LIST] [--tf-warmup]`
// 1. Node over Dawn: training tokens/s of GpuModel per size and its memory plan, kernel throughput (every matmul
//    product of a step, the N³ squares (--square, default 512), attention, LayerNorm), and the long-run memory check (1,000 steps at the
//    smallest size: no buffer created, no byte added).
// 2. Headless Chromium: the same GPT in TensorFlow.js (WebGPU backend) and in the lab, alternating in one page on
//    one adapter; tokens/s of both and their ratio (bench/browser.ts).
// See bench/README.md for what is measured and the figures on this machine.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { acquireGpu } from '../src/engine/gpu';
import { KernelCache } from '../src/engine/pipelines';
import {
  chooseMatmulVariant,
  MATMUL_VARIANTS,
  matmulVariantByName,
  type MatmulVariant,
} from '../src/engine/matmul-variants';
import { chooseActivationStorage } from '../src/engine/activation-storage';
import { nodeGpu } from '../src/engine/node-gpu';
import { chooseReductionVariant, reductionVariantsFor } from '../src/engine/reduction-variants';
import { trainingFlopsPerStep } from '../src/engine/plan';
import { runBrowserBench, type BrowserBenchResult, type BrowserPlan } from './browser';
import { parseArgs, USAGE, UsageError, type Args } from './args';
import { labTimeToContrast, pytorchTimeToContrast, type ContrastTime } from './contrast';
import { benchSeedLanes } from './seeds';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import type { ExperimentSpec } from '../src/lab/api';
import { B, fmt, modelConfig, T, VOCAB, type BenchSize, type Spread } from './common';
import { GpuTimer } from './gpu-timer';
import {
  benchAttention,
  benchActivationStorage,
  benchCrossentropy,
  benchDispatch,
  benchLayernorm,
  benchMatmul,
  scaleSpread,
  stepMatmuls,
  type KernelResult,
} from './kernels';
import { benchLanes, benchMemory, benchTraining, type LanesResult, type TrainResult } from './train';

/** Timed steps per run, by size: a step of 6/256/8 takes tens of seconds on a software adapter. */
function defaultSteps(s: BenchSize): number {
  const flops = trainingFlopsPerStep(modelConfig(s), B, T);
  return flops < 3e9 ? 8 : flops < 2e10 ? 4 : 1;
}

/**
 * Browser plan per size: rounds of (lab steps, TF.js steps), after one warm-up step of each — except TF.js's at the
 * largest sizes (a step of minutes; see BrowserPlan.tfWarmup) unless --tf-warmup.
 */
function browserPlan(s: BenchSize, steps: number | null, runs: number, tfWarmup: boolean): BrowserPlan {
  const flops = trainingFlopsPerStep(modelConfig(s), B, T);
  const big = flops >= 2e10;
  const mid = flops >= 3e9;
  const cap = (n: number) => (steps === null ? n : Math.min(n, steps));
  return {
    size: s,
    rounds: big ? 1 : Math.min(runs, mid ? 2 : 3),
    labSteps: cap(big ? 1 : mid ? 2 : 4),
    tfSteps: cap(1),
    tfWarmup: tfWarmup || !big,
  };
}

const log = (line: string) => console.log(line);

/** The size with the fewest FLOPs per step. */
const smallest = (sizes: readonly BenchSize[]): BenchSize =>
  [...sizes].sort(
    (x, y) => trainingFlopsPerStep(modelConfig(x), B, T) - trainingFlopsPerStep(modelConfig(y), B, T),
  )[0]!;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    args: { ...args, sizes: args.sizes.map((s) => s.name) },
  };
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`;
  report.machine = machine;
  log(`# webgpu-training-lab benchmark — ${new Date().toISOString()}`);
  log(
    `machine: ${machine}; load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (args.timeToContrast) return timeToContrast(args, report);
  if (args.seedLanes > 0) {
    log('\n## Seeds as lanes (Node, Dawn)');
    report.seedLanes = await benchSeedLanes(args.seedLanes, args.steps ?? 100, log);
    if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
    return;
  }
  log(
    `workload: batch ${B}, sequence ${T}, vocab ${VOCAB}, causal attention, AdamW, global-norm clip 1.0, one constant batch`,
  );

  if (args.node) {
    const ctx = await acquireGpu(await nodeGpu());
    const { device } = ctx;
    const timer = new GpuTimer(device);
    const kernels = new KernelCache(device);
    // No cache: the benchmark times the variants on every adapter that is not known, and reports the times;
    // --matmul-variant skips that for a before/after comparison.
    const forced = args.matmulVariant ? matmulVariantByName(args.matmulVariant) : null;
    const choice = forced ? { variant: forced, timings: [] } : await chooseMatmulVariant(device, ctx.adapterInfo);
    const variant = choice.variant;
    log(
      `\n## Node (Dawn): adapter ${ctx.adapterInfo.vendor} / ${ctx.adapterInfo.architecture} (${ctx.adapterInfo.description || 'no description'})`,
    );
    log(
      `timing: ${timer.method}; matmul variant: ${variant.name}${forced ? ' (--matmul-variant)' : choice.timings.length ? ` (timed: ${choice.timings.map((t) => `${t.variant} ${t.ms.toFixed(2)} ms`).join(', ')})` : ' (known best for SwiftShader)'}`,
    );
    const rows = await chooseReductionVariant(device, ctx.adapterInfo);
    log(
      `row reductions (LayerNorm, cross-entropy): ${rows.variant.name}${rows.timings.length ? ` (timed: ${rows.timings.map((t) => `${t.variant} ${t.ms.toFixed(2)} ms`).join(', ')})` : rows.source === 'known' ? ' (known best for SwiftShader)' : ' (no subgroups on this device)'}`,
    );
    if (args.activations === 'f16' && !device.features.has('shader-f16'))
      throw new UsageError('--activations f16 needs an adapter with shader-f16; this one has none');
    const acts = args.activations
      ? { storage: args.activations, source: 'forced', timings: [] }
      : await chooseActivationStorage(device, variant);
    const actsHow =
      acts.source === 'forced'
        ? ' (--activations)'
        : acts.source === 'unavailable'
          ? ' (no shader-f16 on this device)'
          : ` (timed on the MLP's products: ${acts.timings.map((t) => `${t.storage} ${t.ms.toFixed(2)} ms`).join(', ')})`;
    log(`MLP activations: ${acts.storage}${actsHow}`);
    report.node = {
      adapter: ctx.adapterInfo,
      timing: timer.method,
      matmulVariant: variant.name,
      variantTimings: choice.timings,
      reductionVariant: rows.variant.name,
      reductionTimings: rows.timings,
      activations: acts.storage,
      activationTimings: acts.timings,
    };

    log('\n### Training throughput (full step: forward, backward, clip, AdamW)');
    const training: TrainResult[] = [];
    for (const s of args.sizes) {
      const steps = args.steps === null ? defaultSteps(s) : Math.min(args.steps, defaultSteps(s));
      const r = await benchTraining(
        device,
        s,
        variant,
        { steps, runs: args.runs, warmup: 1 },
        log,
        rows.variant,
        acts.storage,
      );
      training.push(r);
      const gflops = (trainingFlopsPerStep(modelConfig(s), B, T) * (r.tokensPerSecond.median / (B * T))) / 1e9;
      log(
        `${s.name.padEnd(8)} ${fmt(r.tokensPerSecond, 1)} tok/s, ${steps} step(s) per run; ~${gflops.toFixed(2)} GFLOP/s model FLOPs; ` +
          `${r.dispatchesPerStep} dispatches per step; ` +
          `plan ${(r.planBytes / 2 ** 20).toFixed(1)} MiB (params ${(r.parameterBytes / 2 ** 20).toFixed(2)} MiB); ` +
          `buffers: ${r.buffersAtConstruction} at construction, ${r.buffersDuringSteps} during ${args.runs * steps} steps; loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}`,
      );
      if (r.buffersDuringSteps !== 0)
        log(`  !! ${r.buffersDuringSteps} GPU buffers were created during training steps`);
    }
    (report.node as Record<string, unknown>).training = training;

    if (args.lanes.length > 0) {
      // The smallest size, where a step is shortest and the cost of a submission weighs most.
      const s = smallest(args.sizes);
      const steps = args.steps === null ? defaultSteps(s) : Math.min(args.steps, defaultSteps(s));
      log(
        `\n### Lanes at ${s.name}: one step of N models per round, each submitted alone, all in one command buffer, or stacked in the same dispatches`,
      );
      const lanes: LanesResult[] = [];
      for (const n of args.lanes) {
        const r = await benchLanes(device, s, variant, n, { steps, runs: args.runs }, rows.variant);
        lanes.push(r);
        const one = lanes[0]!.lanes === 1 ? lanes[0]!.separateMs.median : null;
        const times = (x: Spread) => (one && n > 1 ? ` (${(x.median / one).toFixed(2)}× one lane alone)` : '');
        log(
          `${String(n).padStart(2)} lane(s): ${fmt(r.separateMs, 1)} ms per round submitted alone${times(r.separateMs)}, ` +
            `${fmt(r.togetherMs, 1)} ms in one buffer${times(r.togetherMs)}, ${fmt(r.stackedMs, 1)} ms stacked${times(r.stackedMs)}`,
        );
      }
      (report.node as Record<string, unknown>).lanes = lanes;
    }

    if (args.kernels) {
      log('\n### Kernels (median of runs, min–max in parentheses)');
      const kernelResults: Record<string, KernelResult[]> = {};
      const line = (r: KernelResult) => {
        const rate =
          r.gflops && !r.gbs
            ? `${fmt(r.gflops, 2)} GFLOP/s`
            : r.gbs
              ? `${fmt(r.gbs, 2)} GB/s${r.gflops ? `, ${r.gflops.median.toFixed(2)} GFLOP/s` : ''}`
              : '';
        log(
          `  ${r.op.padEnd(30)} ${r.shape.padEnd(16)} ${r.ms.median.toFixed(2).padStart(9)} ms  ${rate}  [${[...new Set(r.kernels)].join(', ')}]`,
        );
      };
      const dispatch = await benchDispatch(device, kernels, timer, args.runs);
      log(
        `  ${dispatch.op} costs ${fmt(
          scaleSpread(dispatch.ms, (ms) => ms * 1000),
          1,
        )} µs (${dispatch.kernels[0]}, ${dispatch.shape}, ${dispatch.reps} in one pass)`,
      );
      kernelResults.dispatch = [dispatch];
      for (const s of args.sizes) {
        log(`${s.name}:`);
        const list: KernelResult[] = [];
        for (const m of stepMatmuls(s))
          list.push(await benchMatmul(device, kernels, timer, variant, m.op, m.f, m.M, m.N, m.K, args.runs));
        // Every reduction variant this device runs, the chosen one first (attention's forward is one of its ops).
        const reductions = [rows.variant, ...reductionVariantsFor(device).filter((v) => v !== rows.variant)];
        for (const r of reductions) {
          const tag = (k: KernelResult) => ({ ...k, op: `${k.op} (${r.name})` });
          list.push(...(await benchAttention(device, kernels, timer, s, args.runs, r)).map(tag));
          list.push(...(await benchLayernorm(device, kernels, timer, s, args.runs, r)).map(tag));
          list.push(tag(await benchCrossentropy(device, kernels, timer, args.runs, r)));
        }
        list.push(...(await benchActivationStorage(device, kernels, timer, s, args.runs)));
        list.forEach(line);
        kernelResults[s.name] = list;
      }
      // The square products read no LayerNorm: a variant that fuses one runs its unfused twin's kernels here.
      const variants: MatmulVariant[] = args.allVariants
        ? MATMUL_VARIANTS.filter((v) => !v.fuseLayerNorm)
        : [variant, ...MATMUL_VARIANTS.filter((v) => v !== variant && v.name === 'reg4x4')];
      for (const n of args.squares) {
        log(`${n}³ square:`);
        const square: KernelResult[] = [];
        for (const v of variants) {
          for (const [op, f] of [
            ['forward (A·Bᵀ)', { transB: true }],
            ['dinp (A·B)', {}],
            ['dW (Aᵀ·B)', { transA: true }],
          ] as const) {
            const r = await benchMatmul(device, kernels, timer, v, `${v.name} ${op}`, f, n, n, n, args.runs);
            square.push(r);
            line(r);
          }
        }
        (report.node as Record<string, unknown>)[`square${n}`] = square;
      }
      (report.node as Record<string, unknown>).kernels = kernelResults;
    }

    if (args.memorySteps > 0) {
      // The smallest size: the check is about allocation, which does not depend on the size, and it is the fastest.
      const s = smallest(args.sizes);
      log(`\n### Memory: ${args.memorySteps} training steps at ${s.name}`);
      const m = await benchMemory(device, s, variant, args.memorySteps, log);
      log(
        `${s.name}: plan ${m.planBytes} bytes; ${m.bytesAtConstruction} bytes in ${m.buffersAtConstruction} buffers after construction; ` +
          `after ${m.steps} steps: ${m.buffersCreatedDuringSteps} buffers created, ${m.bytesAddedDuringSteps} bytes added — ${m.ok ? 'OK' : 'FAILED'}`,
      );
      log(
        `  JS heap ${m.heapBytesPerStep === null ? 'not measured' : `${m.heapBytesPerStep.toFixed(0)} bytes/step after step 100`}${(globalThis as { gc?: unknown }).gc ? '' : ' (without --expose-gc: includes garbage not yet collected)'}; ` +
          `${m.secondsPer100.first.toFixed(1)} s per 100 steps at first, ${m.secondsPer100.last.toFixed(1)} s at the end`,
      );
      (report.node as Record<string, unknown>).memory = m;
      if (!m.ok) process.exitCode = 1;
    }
    timer.destroy();
    device.destroy();
  }

  if (args.browser) {
    log('\n## Headless Chromium: TensorFlow.js (webgpu backend) vs the lab, alternating in one page');
    const plans = args.sizes.map((s) => browserPlan(s, args.steps, args.runs, args.tfWarmup));
    for (const p of plans) {
      log(
        `  ${p.size.name}: ${p.rounds} round(s) of ${p.labSteps} lab step(s) and ${p.tfSteps} TF.js step(s), after 1 warm-up step of ${p.tfWarmup ? 'each' : 'the lab (TF.js: none, its timed step includes compilation)'}`,
      );
    }
    const browser: BrowserBenchResult = await runBrowserBench(plans, log);
    log(
      `lab adapter: ${browser.labAdapter}; TF.js adapter: ${browser.tfAdapter}; lab matmul variant: ${browser.matmulVariant}`,
    );
    log(`${'size'.padEnd(9)}${'lab tok/s'.padEnd(36)}${'TF.js tok/s'.padEnd(36)}lab / TF.js`);
    for (const r of browser.sizes) {
      log(
        `${r.size.padEnd(9)}${fmt(r.lab, 1).padEnd(36)}${fmt(r.tfjs, 1).padEnd(36)}${r.ratio.toFixed(2)}×  (losses after: lab ${r.labLoss.toFixed(3)}, TF.js ${r.tfLoss.toFixed(3)})`,
      );
    }
    report.browser = browser;
  }

  if (args.json) {
    writeFileSync(args.json, JSON.stringify(report, null, 2));
    log(`\nwrote ${args.json}`);
  }
}

/** `--time-to-contrast`: the default experiment in the lab and in PyTorch, each until the contrast shows. */
async function timeToContrast(args: Args, report: Record<string, unknown>): Promise<void> {
  const spec: ExperimentSpec = { ...DEFAULT_EXPERIMENT, train: { ...DEFAULT_EXPERIMENT.train, seed: args.seed } };
  const t =
    spec.task.kind === 'path-star'
      ? `G(${spec.task.degree},${spec.task.pathLength},${spec.task.nodes})`
      : spec.task.kind;
  log(
    `workload: the default experiment, path-star ${t}, ${spec.objectives.map((o) => o.kind).join(' and ')}, model ${spec.model.nLayer}/${spec.model.nEmbd}/${spec.model.nHead}, batch ${spec.train.batchSize}, seed ${args.seed}, evaluated every ${spec.evalEvery} steps on ${spec.evalExamples} held-out graphs`,
  );
  const show = (r: ContrastTime | null) =>
    r
      ? `${r.objective} reached 90% at step ${r.steps}: ${r.seconds.toFixed(1)} s, ${(r.flops / 1e12).toFixed(2)} TFLOP`
      : `not reached in ${spec.train.steps} steps`;
  // PyTorch first, before this process opens a GPU device: once Dawn's device exists it keeps a CPU core busy
  // (measured: 90% of a core while Node waited for the PyTorch run), which would take half of this machine from
  // PyTorch.
  let pytorch: Record<string, unknown> | null | undefined;
  if (args.pytorch) {
    log('\n## PyTorch (CPU, python -m labtorch)');
    const py = pytorchTimeToContrast(spec, process.env['LAB_PYTHON'] ?? '/usr/bin/python3', log);
    if ('skipped' in py) log(`pytorch: skipped (${py.skipped})`);
    else log(`pytorch: ${show(py.result)}`);
    pytorch = 'skipped' in py ? null : py.result ? { ...py.result, device: py.device } : null;
  }
  log('\n## Lab (Node, Dawn)');
  const lab = await labTimeToContrast(spec, log, args.matmulVariant, args.stackLanes);
  log(`lab: ${show(lab.result)}`);
  const out: Record<string, unknown> = { lab: lab.result ? { ...lab.result, adapter: lab.adapter } : null };
  if (pytorch !== undefined) out.pytorch = pytorch;
  report.timeToContrast = out;
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(report, null, 2));
    log(`\nwrote ${args.json}`);
  }
}

main().then(
  // process.exit() keeps process.exitCode: a failed memory check exits 1.
  () => process.exit(),
  (e: unknown) => {
    if (e instanceof UsageError) {
      if (e.message) console.error(`bench: ${e.message}`);
      console.error(USAGE);
      process.exit(e.message ? 2 : 0);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
