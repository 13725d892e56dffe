// Shared setup for GPU tests: one Dawn device for the whole test file (Node, `webgpu` package).
import { acquireGpu, type GpuContext } from '../../src/engine/gpu';
import { nodeGpu } from '../../src/engine/node-gpu';

let ctx: Promise<GpuContext> | undefined;

export function testGpu(): Promise<GpuContext> {
  ctx ??= nodeGpu().then((gpu) => acquireGpu(gpu));
  return ctx;
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
