// Time each kernel of one training step (Node, Dawn):
//   npm run profile -- [tiny|small|medium|default] [--matmul-variant V]
// tiny/small/medium: that model size at vocab 36, seq 64, batch 32; default: the default experiment's model as the
// lab trains it (its task's vocabulary and sequence length, its batch). The matmul variant is the one the lab runs on
// this adapter (known, cached on disk or timed now, as `npm run lab` chooses it), or V.
// Each dispatch is timed alone (GpuModel.profileStep); the whole profile runs `ROUNDS` times and each dispatch keeps
// its fastest round, which filters out other processes on a shared machine.
import { acquireGpu } from '../src/engine/gpu';
import { chooseActivationStorage } from '../src/engine/activation-storage';
import { tuneKernels } from '../src/engine/autotune';
import { matmulVariantByName } from '../src/engine/matmul-variants';
import { GpuModel } from '../src/engine/model';
import { nodeGpu } from '../src/engine/node-gpu';
import { FileVariantCache } from '../src/engine/node-variant-cache';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import { DEFAULT_TRAIN, MODEL_PRESETS, type ModelConfig, type ModelPresetName } from '../src/model/config';
import { initParams } from '../src/model/params';
import { laneModelConfig, makeObjective } from '../src/objectives';
import { makeTask } from '../src/tasks';

const ROUNDS = 3;
const USAGE = 'usage: npm run profile -- [tiny|small|medium|default] [--matmul-variant V]';
const argv = process.argv.slice(2).filter((a) => a !== '--');
let preset = 'tiny';
let forced: string | null = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--matmul-variant') forced = argv[++i] ?? '';
  else if (a in MODEL_PRESETS || a === 'default') preset = a;
  else {
    console.error(`${USAGE}
unknown argument ${JSON.stringify(a)}`);
    process.exit(2);
  }
}
let cfg: ModelConfig;
let B: number;
if (preset === 'default') {
  const spec = DEFAULT_EXPERIMENT;
  cfg = laneModelConfig(makeTask(spec.task, 1), makeObjective(spec.objectives[0]!), spec.model);
  B = spec.train.batchSize;
} else {
  cfg = {
    ...MODEL_PRESETS[preset as ModelPresetName],
    vocabSize: 36,
    blockSize: 64,
    attention: 'causal',
    extraHeads: 0,
  };
  B = 32;
}
const T = cfg.blockSize;
const V = cfg.vocabSize;
const ctx = await acquireGpu(await nodeGpu());
// The kernel choices on disk, as the command line keeps them.
const cache = new FileVariantCache();
let variant;
try {
  variant = forced ? matmulVariantByName(forced) : null;
} catch (e) {
  console.error(`${USAGE}
${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const tuned = await tuneKernels(ctx.device, ctx.adapterInfo, { cache });
variant ??= tuned.matmul.variant;
const rows = tuned.reduction;
// A forced variant's activations are chosen on it (their cached storage is the tuned variant's).
const acts = forced ? await chooseActivationStorage(ctx.device, variant) : tuned.activations;
console.log(
  `${preset}: ${cfg.nLayer}/${cfg.nEmbd}/${cfg.nHead}, V ${V}, T ${T}, batch ${B}; matmul ${variant.name}, rows ${rows.variant.name}, MLP activations ${acts.storage}; adapter ${ctx.adapterInfo.vendor} ${ctx.adapterInfo.description}`,
);
const model = new GpuModel(ctx.device, cfg, {
  batch: B,
  seqLen: T,
  matmul: variant,
  reduction: rows.variant,
  activations: acts.storage,
});
model.setParams(initParams(cfg, 1));
const batch = {
  n: B,
  T,
  tokens: new Int32Array(B * T).map((_, i) => i % V),
  targets: new Int32Array(B * T).map((_, i) => (i + 1) % V),
  weights: new Float32Array(B * T).fill(1 / (B * T)),
};
await (
  await model.step(batch, 1e-3, DEFAULT_TRAIN)
).stats;
let prof = await model.profileStep(2);
for (let r = 1; r < ROUNDS; r++) {
  const again = await model.profileStep(2);
  prof = prof.map((p, i) => ({ ...p, ms: Math.min(p.ms, again[i]!.ms) }));
}
const byLabel = new Map<string, number>();
for (const p of prof) byLabel.set(`${p.phase}:${p.label}`, (byLabel.get(`${p.phase}:${p.label}`) ?? 0) + p.ms);
const total = prof.reduce((a, p) => a + p.ms, 0);
for (const [k, ms] of [...byLabel].sort((a, b) => b[1] - a[1]))
  console.log(`${k.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
console.log(
  `total ${total.toFixed(1)} ms per step (${((B * T) / (total / 1000)).toFixed(0)} tok/s if kernels were back to back)`,
);
const STEPS = 8;
const t0 = performance.now();
const pend = [];
for (let i = 0; i < STEPS; i++) pend.push((await model.step(batch, 1e-3, DEFAULT_TRAIN)).stats);
await Promise.all(pend);
const ms = (performance.now() - t0) / STEPS;
console.log(`measured: ${ms.toFixed(1)} ms per step, ${((B * T) / (ms / 1000)).toFixed(0)} tok/s`);
process.exit(0);
