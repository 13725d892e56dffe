// Random weights for tests that need a model with every nonlinearity exercised (unlike nanoGPT's small init):
// N(0, 0.2) for matrices, N(0, 0.1) around 0 or 1 for biases and LayerNorm gains.
import type { ModelConfig } from '../src/model/config';
import { paramTable } from '../src/model/params';
import { Rng } from '../src/model/rng';

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
