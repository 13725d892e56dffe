// Time each kernel of one training step (Node, Dawn): `npx vite-node --config vite.node.config.ts bench/profile.ts -- [tiny|small|medium]`.
// Each dispatch is timed alone (GpuModel.profileStep); the whole profile runs `ROUNDS` times and each dispatch keeps
// its fastest round, which filters out other processes on a shared machine.
import { acquireGpu } from '../src/engine/gpu';
import { presetMatmulVariant } from '../src/engine/matmul-variants';
import { GpuModel } from '../src/engine/model';
import { nodeGpu } from '../src/engine/node-gpu';
import { DEFAULT_TRAIN, MODEL_PRESETS, type ModelPresetName } from '../src/model/config';
import { initParams } from '../src/model/params';

const ROUNDS = 3;
const preset = (process.argv.slice(2).find((a) => a !== '--') ?? 'tiny') as ModelPresetName;
const size = MODEL_PRESETS[preset];
const ctx = await acquireGpu(await nodeGpu());
const cfg = { ...size, vocabSize: 36, blockSize: 64, attention: 'causal' as const, extraHeads: 0 };
const B = 32;
const T = 64;
// The untimed variant for this adapter (the lab's timed choice may differ on a GPU: bench/run.ts times them).
const model = new GpuModel(ctx.device, cfg, B, T, presetMatmulVariant(ctx.adapterInfo));
model.setParams(initParams(cfg, 1));
const batch = {
  n: B,
  T,
  tokens: new Int32Array(B * T).map((_, i) => i % 36),
  targets: new Int32Array(B * T).map((_, i) => (i + 1) % 36),
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
