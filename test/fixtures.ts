// Test fixtures shared across files: random weights at the scales the checks need, and the float64 reference's
// logits that the exports are checked against. Each distribution has one definition here; the tests that compare
// numbers (GPU against the float64 reference, exports against PyTorch and onnxruntime) depend on weights large
// enough that every nonlinearity bends.
import type { Batch } from '../src/model/batch';
import type { ModelConfig } from '../src/model/config';
import { initParams, paramTable, type ParamTable } from '../src/model/params';
import { refForward } from '../src/model/reference';
import { Rng } from '../src/model/rng';

/**
 * Random weights for tests that need a model with every nonlinearity exercised (unlike nanoGPT's small init):
 * N(0, 0.2) for matrices, N(0, 0.1) around 0 or 1 for biases and LayerNorm gains.
 */
export function randomParams(cfg: ModelConfig, seed: number): Float32Array {
  const table = paramTable(cfg);
  const p = new Float32Array(table.total);
  const rng = new Rng(seed);
  for (const s of table.specs) {
    const base = s.init === 'ones' ? 1 : 0;
    const scale = s.shape.length >= 2 ? 0.2 : 0.1;
    for (let i = 0; i < s.size; i++) p[s.offset + i] = base + scale * rng.normal();
  }
  return p;
}

/** nanoGPT's init scaled by 5 plus N(0, 0.01) noise: the GPU parity tests' weights (float32, as the engine holds them). */
export function scaledInitParams(cfg: ModelConfig, seed: number): Float32Array {
  const p = initParams(cfg, seed);
  const rng = new Rng(seed + 1);
  const table = paramTable(cfg);
  for (const s of table.specs) for (let i = s.offset; i < s.offset + s.size; i++) p[i] = p[i]! * 5 + 0.1 * rng.normal();
  return p;
}

/** Every tensor N(0, scale²), LayerNorm weights 1 + N(0, scale²), in float64: the reference's finite-difference checks. */
export function randomParams64(table: ParamTable, rng: Rng, scale = 0.3): Float64Array {
  const p = new Float64Array(table.total);
  for (const s of table.specs) {
    for (let i = 0; i < s.size; i++) p[s.offset + i] = (s.init === 'ones' ? 1 : 0) + scale * rng.normal();
  }
  return p;
}

/**
 * A tiny causal model whose shapes are off the kernels' tiles (C = 20 is no multiple of the 4×4 register block or of
 * 64-thread workgroups; V = 11 is odd): the GPU tests' parity config.
 */
export const TINY_CAUSAL: ModelConfig = {
  vocabSize: 11,
  blockSize: 8,
  nLayer: 2,
  nHead: 2,
  nEmbd: 20,
  attention: 'causal',
  extraHeads: 0,
};

/**
 * A random batch of n sequences of T tokens for every head, as the GPU tests feed the model: some positions
 * excluded (weight 0), the rest weighted unevenly, as the objectives do.
 */
export function randomBatch(cfg: ModelConfig, n: number, T: number, seed: number): Batch {
  const rng = new Rng(seed);
  const H = 1 + cfg.extraHeads;
  const tokens = new Int32Array(n * T).map(() => rng.int(cfg.vocabSize));
  const targets = new Int32Array(H * n * T).map(() => rng.int(cfg.vocabSize));
  const weights = new Float32Array(H * n * T).map(() => (rng.next() < 0.3 ? 0 : (0.5 + rng.next()) / (n * T)));
  if (!cfg.topHead) return { n, T, tokens, targets, weights };
  // The token-order head's soft targets: per row a distribution over a random half of the vocabulary.
  const V = cfg.vocabSize;
  const probs = new Float32Array(n * T * V);
  for (let r = 0; r < n * T; r++) {
    const row = Array.from({ length: V }, (_, v) => (v === r % V || rng.next() < 0.5 ? 0.05 + rng.next() : 0));
    const sum = row.reduce((a, x) => a + x, 0);
    row.forEach((x, v) => (probs[r * V + v] = x / sum));
  }
  const topWeights = new Float32Array(n * T).map(() => (rng.next() < 0.3 ? 0 : (0.5 + rng.next()) / (n * T)));
  return { n, T, tokens, targets, weights, top: { probs, weights: topWeights } };
}

/**
 * The float64 reference's logits for token ids (n, T) under params: every head's (H, n, T, V), then the token-order
 * head's (n, T, V) where the model has one, the order in which the ONNX file and tools/nanogpt_check.py give them.
 */
export function referenceLogits(
  cfg: ModelConfig,
  params: Float32Array,
  tokens: Int32Array,
  n: number,
  T: number,
): Float64Array {
  const H = 1 + cfg.extraHeads;
  const { logits, topLogits } = refForward(cfg, Float64Array.from(params), {
    n,
    T,
    tokens,
    targets: new Int32Array(H * n * T).fill(-1),
    weights: new Float32Array(H * n * T),
  });
  return topLogits ? Float64Array.of(...logits, ...topLogits) : logits;
}
