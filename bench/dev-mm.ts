import { readFileSync } from 'node:fs';
import { acquireGpu } from '../src/engine/gpu';
import { nodeGpu } from '../src/engine/node-gpu';
import { KernelCache, encodeDispatches, uniformData, type KernelDef } from '../src/engine/kernel';
import { matmulKernel, fitWorkgroup } from '../src/engine/kernels';
import { MATMUL_VARIANTS } from '../src/engine/matmul-variants';
const ctx = await acquireGpu(await nodeGpu());
const dev = ctx.device;
const kc = new KernelCache(dev);
function buf(n: number, fill = true) {
  const b = dev.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  if (fill) dev.queue.writeBuffer(b, 0, new Float32Array(n).map(() => Math.random() - 0.5));
  return b;
}
function uni(u: number[]) { const d = uniformData({ u32: u }); const b = dev.createBuffer({ size: d.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }); dev.queue.writeBuffer(b, 0, d); return b; }
async function time(def: KernelDef, M: number, N: number, K: number, grid: [number, number, number], reps: number) {
  const A = buf(M * K), B = buf(N * K), bias = buf(N), C = buf(M * N, false);
  const disp = kc.dispatch(def, [uni([M, N, K, 0]), A, B, bias, C], grid);
  const run = async (n: number) => { const e = dev.createCommandEncoder(); const p = e.beginComputePass(); for (let i = 0; i < n; i++) encodeDispatches(p, [disp]); p.end(); dev.queue.submit([e.finish()]); await dev.queue.onSubmittedWorkDone(); };
  await run(1);
  const ts: number[] = [];
  for (let r = 0; r < 2; r++) { const t0 = process.cpuUsage(); await run(reps); const du = process.cpuUsage(t0); ts.push((du.user + du.system) / 1000 / reps); }
  ts.sort((a, b) => a - b);
  return ts[0]!;
}
const args = process.argv.slice(2).filter((a) => a !== '--');
const exps = args.length ? args : [];
const shapes: [number, number, number][] = process.env.SHAPES ? JSON.parse(process.env.SHAPES) : [[2048, 192, 64], [2048, 64, 256], [512, 512, 512]];
for (const [M, N, K] of shapes) {
  const fl = 2 * M * N * K;
  const reps = Math.max(1, Math.round(1e8 / fl));
  const best = new Map<string, number>();
  const cands: [string, KernelDef, [number, number, number]][] = [];
  for (const [name, flags] of [['NT', { transB: true }], ['NN', {}], ['TN', { transA: true }]] as const) {
    const { def, workgroups } = matmulKernel(flags, M, N, K, MATMUL_VARIANTS[0]!);
    cands.push([`cur ${name}`, def, workgroups]);
  }
  for (const e of exps) {
    const [file, entry, tm, tn] = e.split(':');
    const code = readFileSync(`/tmp/mm/${file}.wgsl`, 'utf8');
    const tx = Math.ceil(N / Number(tn)), ty = Math.ceil(M / Number(tm));
    const [wx, wy] = fitWorkgroup(tx, ty);
    cands.push([entry!, { label: e, code, entryPoint: entry!, bindings: ['uniform', 'read', 'read', 'read', 'rw'], constants: { WG_X: wx, WG_Y: wy } }, [Math.ceil(tx / wx), Math.ceil(ty / wy), 1]]);
  }
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    for (const [n, def, wg] of cands) {
      const g = fl / (await time(def, M, N, K, wg, reps)) / 1e6;
      best.set(n, Math.max(best.get(n) ?? 0, g));
    }
  }
  console.log(`${M}x${N}x${K}: ${[...best].map(([n, g]) => `${n} ${g.toFixed(2)}`).join(' | ')}`);
}
console.log(ctx.errors);
process.exit(0);
