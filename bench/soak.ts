// Soak test (nightly-sized, not in `npm test`): thousands of training steps through the Lab over Dawn, checking that
// no GPU buffer is created after the plan, that the JavaScript heap does not grow beyond the metrics history, and
// that steps do not slow down. `npm run soak -- [steps]` (default 3000); exits non-zero on a failed check.
import { nodeGpu } from '../src/engine/node-gpu';
import type { ExperimentSpec } from '../src/lab/api';
import { Lab } from '../src/lab/lab';
import { DEFAULT_TRAIN } from '../src/model/config';

const steps = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 3000);
if (!Number.isInteger(steps) || steps < 300) {
  console.error(`soak: needs at least 300 steps to compare windows after the warm-up, got ${steps}`);
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
const gpu = await nodeGpu();
let created = 0;
const proto = (globalThis as unknown as { GPUDevice: { prototype: GPUDevice } }).GPUDevice.prototype;
const createBuffer = proto.createBuffer;
proto.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
  created++;
  return createBuffer.call(this, d);
};

const spec: ExperimentSpec = {
  task: { kind: 'path-star', degree: 2, pathLength: 3, nodes: 12, trainSize: 0, testSize: 40 },
  objectives: [{ kind: 'ntp' }, { kind: 'diffusion', decodeSteps: 3, variant: 'mdlm' }],
  model: { nLayer: 1, nEmbd: 32, nHead: 2 },
  train: { ...DEFAULT_TRAIN, batchSize: 8, steps, warmupSteps: 10 },
  evalEvery: 500,
  evalExamples: 20,
};
const window = Math.max(50, Math.floor(steps / 10));
const marks: { step: number; t: number; heap: number; buffers: number }[] = [];
let t0 = performance.now();
const lab = new Lab({ gpu: () => gpu });
await lab.run(spec, (e) => {
  if (e.type !== 'step' || e.metrics.lane !== 1) return;
  if (e.metrics.step % window === 0 || e.metrics.step === 100) {
    gc?.();
    const now = performance.now();
    marks.push({ step: e.metrics.step, t: now - t0, heap: process.memoryUsage().heapUsed, buffers: created });
    t0 = now;
    const m = marks[marks.length - 1]!;
    console.log(
      `step ${m.step}: ${(m.heap / 2 ** 20).toFixed(1)} MiB heap, ${m.buffers} buffers created so far, ${m.t.toFixed(0)} ms since last mark`,
    );
  }
});
const first = marks.find((m) => m.step === 100)!;
const last = marks[marks.length - 1]!;
const windows = marks.filter((m) => m.step > 100 && m.step % window === 0);
const perStep = windows.map((m, i) => m.t / (i === 0 ? m.step - 100 : window));
const newBuffers = last.buffers - first.buffers;
// Each lane keeps one StepMetrics (~200 bytes) per step for its chart; anything beyond ~1 KiB/step is a leak.
const heapPerStep = (last.heap - first.heap) / (last.step - first.step);
const slowdown = perStep[perStep.length - 1]! / Math.min(...perStep.slice(0, 2));
console.log(`\nGPU buffers created after step 100: ${newBuffers} (must be 0, evaluation included)`);
console.log(
  `JS heap growth: ${heapPerStep.toFixed(0)} bytes/step (limit 1024; the metrics history is ~400)${gc ? '' : ' — run with --expose-gc for exact figures'}`,
);
console.log(`last window vs first windows: ${slowdown.toFixed(2)}× time per step (limit 1.5)`);
const ok = newBuffers === 0 && heapPerStep < 1024 && slowdown < 1.5;
console.log(ok ? 'soak: OK' : 'soak: FAILED');
process.exit(ok ? 0 : 1);
