// The benchmark's command line (bench/run.ts): options, defaults and the usage text. A bad option is a UsageError,
// which the benchmark prints with the usage and exit code 2.
import { MATMUL_VARIANTS } from '../src/engine/matmul-variants';
import { DEFAULT_SIZES, parseSizes, type BenchSize } from './common';

export interface Args {
  sizes: BenchSize[];
  steps: number | null;
  runs: number;
  json: string | null;
  node: boolean;
  kernels: boolean;
  memorySteps: number;
  browser: boolean;
  allVariants: boolean;
  /** Edge lengths N of the N³ square matmul timed after the step's kernels (default [512]). */
  squares: number[];
  tfWarmup: boolean;
  /** Only the time to contrast of the default experiment (bench/contrast.ts), in the lab and in PyTorch. */
  timeToContrast: boolean;
  /** The seed of that experiment. */
  seed: number;
  /** Skip PyTorch's half of the time to contrast. */
  pytorch: boolean;
  /** Lane counts of the lanes check (one step of N models per round, separate or in one command buffer); [] skips. */
  lanes: number[];
  /** A matmul variant to use instead of timing them (before/after comparisons); null: timed as the lab does. */
  matmulVariant: string | null;
  /** The MLP activations' storage to use instead of timing it (f16 needs shader-f16); null: timed as the lab does. */
  activations: 'f32' | 'f16' | null;
  /** `--seed-lanes N`: a run over seeds 1..N stacked against one seed and against N one after another; 0: off. */
  seedLanes: number;
  /** Whether the time to contrast stacks lanes of one shape (the Lab's stackLanes); null: the Lab's choice. */
  stackLanes: boolean | null;
}

export const USAGE = `usage: npm run bench -- [options]
  --sizes LIST        model sizes n_layer/n_embd/n_head, comma-separated (default 2/64/2,4/128/4,6/256/8; or tiny,small,medium)
  --runs N            timed runs per measurement (default 3); the median and the min–max are reported
  --steps N           cap on the timed training steps per run (default: by size)
  --memory-steps N    training steps of the memory check at the smallest size (default 1000; 0 skips it)
  --json FILE         also write every figure as JSON
  --no-node           skip the Node (Dawn) half: training, kernels, memory
  --no-kernels        skip the kernel timings
  --no-browser        skip the headless Chromium half (lab vs TensorFlow.js)
  --variants          time the square matmul under every kernel variant, not only the chosen one and reg4x4
  --square LIST       edge lengths N of the N³ square matmul, comma-separated (default 512; e.g. 512,4096)
  --lanes LIST        lane counts of the lanes check at the smallest size: N models stepped round by round,
                      each submitting alone or all in one command buffer (default 1,2,5; 0 skips it)
  --tf-warmup         give TF.js an untimed warm-up step at every size
  --time-to-contrast  instead of the above: run the default experiment until an objective other than ntp reaches
                      90% held-out exact match, in the lab (Node, this adapter) and in PyTorch on the CPU
  --seed N            the seed of that experiment (default 1)
  --seed-lanes N      instead of the above: the default experiment's first 100 steps (--steps) over seeds 1..N in
                      the lab, every seed's lanes stacked, against one seed, and against the N seeds one after another
  --no-pytorch        the time to contrast of the lab only
  --matmul-variant V  use matmul variant V instead of timing them (before/after comparisons; the time to contrast
                      takes it as the adapter's cached choice, which SwiftShader's known variant overrides)
  --activations S     store the MLP's hidden activations as S (f32 or f16; f16 needs shader-f16) instead of timing
                      both, for the training throughput
  --stack-lanes S     on or off: the time to contrast trains lanes of one shape in the same dispatches, or as a
                      model each, instead of the lab's choice for the adapter (on for GPUs, off for CPU adapters)`;

export class UsageError extends Error {}

export function parseArgs(argv: string[]): Args {
  const a: Args = {
    sizes: DEFAULT_SIZES,
    steps: null,
    runs: 3,
    json: null,
    node: true,
    kernels: true,
    memorySteps: 1000,
    browser: true,
    allVariants: false,
    squares: [512],
    tfWarmup: false,
    timeToContrast: false,
    seed: 1,
    pytorch: true,
    lanes: [1, 2, 5],
    matmulVariant: null,
    activations: null,
    stackLanes: null,
    seedLanes: 0,
  };
  const rest = argv.filter((x) => x !== '--');
  for (let i = 0; i < rest.length; i++) {
    const k = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${k} needs a value`);
      return v;
    };
    const count = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`${k} must be a whole number >= 1, got ${JSON.stringify(v)}`);
      return n;
    };
    if (k === '--sizes') {
      try {
        a.sizes = parseSizes(value());
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
    } else if (k === '--steps') a.steps = count(value());
    else if (k === '--runs') a.runs = count(value());
    else if (k === '--json') a.json = value();
    else if (k === '--no-node') a.node = false;
    else if (k === '--no-kernels') a.kernels = false;
    else if (k === '--memory-steps') {
      const v = value();
      if (!/^\d+$/.test(v))
        throw new UsageError(`--memory-steps must be a whole number (0 skips the check), got ${JSON.stringify(v)}`);
      a.memorySteps = Number(v);
    } else if (k === '--no-browser') a.browser = false;
    else if (k === '--variants') a.allVariants = true;
    else if (k === '--square') {
      const v = value();
      const list = v.split(',').map((x) => x.trim());
      if (!list.every((x) => /^\d+$/.test(x) && Number(x) >= 1 && Number(x) <= 8192))
        throw new UsageError(
          `--square must be whole numbers from 1 to 8192, comma-separated, got ${JSON.stringify(v)}`,
        );
      a.squares = list.map(Number);
    } else if (k === '--lanes') {
      const v = value();
      const list = v.split(',').map((x) => x.trim());
      if (v.trim() === '0') a.lanes = [];
      else if (list.every((x) => /^\d+$/.test(x) && Number(x) >= 1 && Number(x) <= 16)) a.lanes = list.map(Number);
      else
        throw new UsageError(
          `--lanes must be lane counts from 1 to 16, comma-separated, or 0 to skip, got ${JSON.stringify(v)}`,
        );
    } else if (k === '--tf-warmup') a.tfWarmup = true;
    else if (k === '--time-to-contrast') a.timeToContrast = true;
    else if (k === '--seed-lanes') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < 2 || Number(v) > 16)
        throw new UsageError(`--seed-lanes must be a seed count from 2 to 16, got ${JSON.stringify(v)}`);
      a.seedLanes = Number(v);
    } else if (k === '--no-pytorch') a.pytorch = false;
    else if (k === '--seed') {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`--seed must be a whole number, got ${JSON.stringify(v)}`);
      a.seed = Number(v);
    } else if (k === '--matmul-variant') {
      const v = value();
      const names = MATMUL_VARIANTS.map((x) => x.name);
      if (!names.includes(v))
        throw new UsageError(`--matmul-variant must be one of ${names.join(', ')}; got ${JSON.stringify(v)}`);
      a.matmulVariant = v;
    } else if (k === '--activations') {
      const v = value();
      if (v !== 'f32' && v !== 'f16')
        throw new UsageError(`--activations must be f32 or f16; got ${JSON.stringify(v)}`);
      a.activations = v;
    } else if (k === '--stack-lanes') {
      const v = value();
      if (v !== 'on' && v !== 'off') throw new UsageError(`--stack-lanes must be on or off; got ${JSON.stringify(v)}`);
      a.stackLanes = v === 'on';
    } else if (k === '--help' || k === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument ${JSON.stringify(k)}`);
  }
  return a;
}
