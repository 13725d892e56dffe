// What the Node and the browser halves of the benchmark share: the model sizes, the fixed batch, the optimizer
// settings, and the statistics. Both frameworks train the same GPT on the same batch with the same update rule.
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../src/model/config';
import { Rng } from '../src/model/rng';

/** Sequence length and batch size of every benchmark run (the issue's: seq 64, batch 32). */
export const T = 64;
export const B = 32;
/** Vocabulary of the path-star task G(2,5,50): 50 node labels and 4 specials (Bachmann & Nagarajan 2024). */
export const VOCAB = 54;
export const SEED = 1234;
/** Constant learning rate (no schedule) so that every timed step does the same work. */
export const LR = 1e-3;
export const TRAIN: TrainConfig = { ...DEFAULT_TRAIN, batchSize: B, lr: LR, gradClip: 1.0, weightDecay: 0.1 };

export interface BenchSize {
  /** "n_layer/n_embd/n_head", as the issue names them. */
  name: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
}

export const DEFAULT_SIZES: BenchSize[] = [
  { name: '2/64/2', nLayer: 2, nEmbd: 64, nHead: 2 },
  { name: '4/128/4', nLayer: 4, nEmbd: 128, nHead: 4 },
  { name: '6/256/8', nLayer: 6, nEmbd: 256, nHead: 8 },
];

/** Parse "2/64/2,4/128/4" (or the preset names tiny, small, medium). */
export function parseSizes(arg: string): BenchSize[] {
  const named: Record<string, string> = { tiny: '2/64/2', small: '4/128/4', medium: '6/256/8' };
  return arg.split(',').map((s) => {
    const spec = named[s.trim()] ?? s.trim();
    const parts = spec.split('/').map(Number);
    if (parts.length !== 3 || parts.some((x) => !Number.isInteger(x) || x < 1)) {
      throw new Error(`--sizes: "${s}" is not n_layer/n_embd/n_head (e.g. 2/64/2) or tiny/small/medium`);
    }
    const [nLayer, nEmbd, nHead] = parts as [number, number, number];
    if (nEmbd % nHead !== 0 || nEmbd % 4 !== 0)
      throw new Error(`--sizes: n_embd ${nEmbd} must be a multiple of 4 and of n_head ${nHead}`);
    return { name: spec, nLayer, nEmbd, nHead };
  });
}

export function modelConfig(s: BenchSize): ModelConfig {
  return {
    vocabSize: VOCAB,
    blockSize: T,
    nLayer: s.nLayer,
    nHead: s.nHead,
    nEmbd: s.nEmbd,
    attention: 'causal',
    extraHeads: 0,
  };
}

/** The one batch every timed step trains on: random tokens, next-token targets, uniform weights (mean CE). */
export function benchBatch(): { tokens: Int32Array; targets: Int32Array; weights: Float32Array } {
  const rng = new Rng(SEED);
  const seq = new Int32Array(B * (T + 1)).map(() => rng.int(VOCAB));
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      tokens[b * T + t] = seq[b * (T + 1) + t]!;
      targets[b * T + t] = seq[b * (T + 1) + t + 1]!;
    }
  }
  return { tokens, targets, weights: new Float32Array(B * T).fill(1 / (B * T)) };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: xs };
}

/** "123 (110–130, 5 runs)" */
export function fmt(s: Spread, digits = 0): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}, ${s.runs.length} run${s.runs.length === 1 ? '' : 's'})`;
}
